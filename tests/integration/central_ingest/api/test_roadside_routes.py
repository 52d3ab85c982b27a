"""The roadside routes over HTTP, on both stores: a terminal's block of protocol numbers
(device-signed; never overlapping another, even asked for at the same moment), the officers'
CRL as the registry published it, and a protocol sent over the device ingest route."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from fastapi.testclient import TestClient

from central_ingest.core import fines
from central_ingest.roadside import allocate_protocol_block, set_officer_identity
from contract import encode_envelope, now_utc
from contract.roadside import ProtocolNumberBlock, ProtocolOutcome
from contract.signing import device_request_headers
from tests.support.api import PROSECUTOR, ApiEnv, build_env
from tests.support.registry_fixtures import REVIEWERS, SUPERVISORS
from tests.support.roadside_registry import OFFICER, UNIT, RoadsideDesk

pytestmark = pytest.mark.usefixtures("registry_store")

BLOCKS = "/v1/terminal/protocol-number-blocks"


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path)


def _ask(client: TestClient, env: ApiEnv, body: bytes, device: str | None = None) -> httpx.Response:
    world = env.world
    key = world.camera_key if device == world.camera_id else world.terminal_key
    headers = device_request_headers(
        key, device or world.terminal_id, method="POST", path=BLOCKS, body=body
    )
    return client.post(BLOCKS, content=body, headers=headers)


def test_a_terminal_gets_its_block_and_the_next_one_follows_it(env: ApiEnv) -> None:
    client = env.client()
    first = _ask(client, env, b'{"size": 50}')
    assert first.status_code == 201, first.text
    block = ProtocolNumberBlock.model_validate(first.json())
    assert (block.prefix, block.first, block.last) == (env.world.config.agency_code, 1, 50)
    assert block.device_id == env.world.terminal_id
    second = ProtocolNumberBlock.model_validate(_ask(client, env, b'{"size": 10}').json())
    assert (second.first, second.last) == (51, 60)
    assert second.number(51) == f"{env.world.config.agency_code}-R00000051"
    issued = env.world.store.db.conn.execute(
        "SELECT entity_id, actor, payload FROM ledger WHERE entity_type = 'protocol_block'"
        " ORDER BY seq"
    ).fetchall()
    assert [(row[1], json.loads(row[2])["first"]) for row in issued] == [
        (f"device:{env.world.terminal_id}", 1),
        (f"device:{env.world.terminal_id}", 51),
    ]


@pytest.mark.parametrize(
    ("body", "device", "status", "error"),
    [
        (b'{"size": 0}', None, 422, "invalid_block_request"),
        (b'{"size": 1001}', None, 422, "invalid_block_request"),
        (b"not json", None, 422, "invalid_block_request"),
        (b'{"size": 5}', "camera", 403, "kind_not_permitted"),
    ],
)
def test_a_bad_request_or_a_camera_gets_no_numbers(
    env: ApiEnv, body: bytes, device: str | None, status: int, error: str
) -> None:
    client = env.client()
    answer = _ask(client, env, body, env.world.camera_id if device == "camera" else None)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert env.world.scalar("SELECT count(*) FROM protocol_number_blocks") == 0


def test_a_forged_request_gets_no_numbers(env: ApiEnv) -> None:
    client = env.client()
    body = b'{"size": 5}'
    headers = device_request_headers(
        env.world.camera_key, env.world.terminal_id, method="POST", path=BLOCKS, body=body
    )
    answer = client.post(BLOCKS, content=body, headers=headers)
    assert answer.status_code == 403
    assert answer.json()["error"] == "request_not_authenticated"


def test_two_terminals_asking_at_once_never_get_the_same_numbers(env: ApiEnv) -> None:
    world = env.world
    with world.store.transaction() as db:
        db.conn.execute(
            "INSERT INTO devices (device_id, kind, public_key, registered_at)"
            " VALUES ('term-patrol-0002', 'terminal', ?, '2025-03-01T00:00:00Z')",
            (world.terminal_key.public_key_b64,),
        )
    blocks: list[ProtocolNumberBlock] = []
    start = threading.Barrier(2)

    def ask(device_id: str) -> None:
        start.wait()
        for _ in range(15):
            block = allocate_protocol_block(world.store, world.config, device_id, 7, world.clock())
            blocks.append(block)

    threads = [
        threading.Thread(target=ask, args=(device,))
        for device in (world.terminal_id, "term-patrol-0002")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(blocks) == 30
    numbers = sorted(n for block in blocks for n in range(block.first, block.last + 1))
    # Every number once, none skipped: 30 blocks of 7 tile 1..210.
    assert numbers == list(range(1, 211))
    stored = world.store.db.conn.execute(
        "SELECT device_id, first_number, last_number FROM protocol_number_blocks"
    ).fetchall()
    assert sorted(stored) == sorted((b.device_id, b.first, b.last) for b in blocks)


def test_the_officers_crl_is_served_as_published(env: ApiEnv, tmp_path: Path) -> None:
    client = env.client()
    missing = client.get("/v1/pki/officers.crl")
    assert (missing.status_code, missing.json()["error"]) == (404, "crl_not_published")
    desk = RoadsideDesk.create(env.world, tmp_path)
    officer = desk.officer()
    desk.publish(revoked=(officer.certificate,))
    answer = client.get("/v1/pki/officers.crl")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pkix-crl"
    assert "max-age=300" in answer.headers["cache-control"]
    crl = x509.load_der_x509_crl(answer.content)
    assert crl.is_signature_valid(desk.ca.certificate.public_key())  # type: ignore[arg-type]
    revoked = crl.get_revoked_certificate_by_serial_number(officer.certificate.serial_number)
    assert revoked is not None
    again = client.get("/v1/pki/officers.crl", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304
    desk.close()


def test_a_protocol_over_the_device_ingest_route_opens_its_case(
    env: ApiEnv, tmp_path: Path
) -> None:
    client = env.client()
    # The API's ingest reads the real clock: the CRL and the protocol are of today.
    now = env.world.clock.set(now_utc())
    desk = RoadsideDesk.create(env.world, tmp_path)
    officer = desk.officer()
    block = ProtocolNumberBlock.model_validate(_ask(client, env, b'{"size": 3}').json())
    fine = fines.fine_minor(5, env.world.config.mrp_on(fines.offence_day(now)))
    envelope = desk.sign(desk.protocol(officer, block.number(2), amount_minor=fine), officer)
    answer = client.post("/v1/messages", content=encode_envelope(envelope))
    assert answer.status_code < 300, answer.text
    assert answer.json()["status"] == "stored"
    assert env.world.registry.case(block.number(2)).resolved_by == "aigerim"
    desk.close()


def test_the_prosecutor_sees_protocols_cancelled_by_their_officer_or_his_unit(
    env: ApiEnv, tmp_path: Path
) -> None:
    world = env.world
    desk = RoadsideDesk.create(world, tmp_path)
    officer = desk.officer()  # aigerim, of UNIT
    set_officer_identity(world.store, REVIEWERS[1], iin=None, unit=UNIT)
    block = desk.block(size=4)
    numbers = [block.number(n) for n in range(block.first, block.last + 1)]
    for number in numbers[:3]:
        assert desk.send(desk.sign(desk.protocol(officer, number), officer)).reason is None
    warning = desk.protocol(officer, numbers[3], outcome=ProtocolOutcome.WARNING, amount_minor=None)
    assert desk.send(desk.sign(warning, officer)).reason is None
    registry = world.registry
    # Asked for by the officer himself; by another officer of his unit; by a supervisor of none.
    for case_number, asked, approved in [
        (numbers[0], OFFICER, SUPERVISORS[0]),
        (numbers[1], REVIEWERS[1], SUPERVISORS[1]),
        (numbers[2], SUPERVISORS[0], SUPERVISORS[1]),
    ]:
        request = registry.request_cancellation(case_number, asked, "the driver showed papers")
        registry.decide_cancellation(request.request_id, approved, approve=True)

    answer = env.client().get("/v1/reports/roadside-officers", headers=env.headers(PROSECUTOR))
    assert answer.status_code == 200, answer.text
    assert answer.json() == [
        {
            "officer": OFFICER,
            "unit": UNIT,
            "protocols": 4,
            "warnings": 1,
            "fines": 3,
            "cancelled": 3,
            "cancelled_by_officer": 1,
            "cancelled_by_unit": 1,
        }
    ]
    later = env.client().get(
        "/v1/reports/roadside-officers",
        params={"since": (world.clock() + timedelta(minutes=1)).isoformat()},
        headers=env.headers(PROSECUTOR),
    )
    assert later.json() == []
    reviewer = env.client().get("/v1/reports/roadside-officers", headers=env.headers(OFFICER))
    assert reviewer.status_code == 403
    desk.close()
