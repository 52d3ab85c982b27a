"""Payments made elsewhere, over real HTTP: the test is the bank, signing its notifications
with its Ed25519 key and POSTing them to the registry's API served by uvicorn on a free port;
the registry runs on a SQLite file and on PostgreSQL (``registry_store``)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from central_ingest.api.app import create_app
from central_ingest.appeals.service import AppealService
from central_ingest.core.appeals import AppealDecision, DecidedAs
from central_ingest.core.clock import iso
from central_ingest.ingest.bank_notifications import NOTIFICATIONS_PATH, notification_headers
from central_ingest.ingest.bank_payments import BankPayments
from central_ingest.notify import outbox
from central_ingest.operators import Operators
from central_ingest.store.case_links import case_payments
from contract import DeviceKey
from tests.support.api import FAST_HASHER, PASSWORD
from tests.support.bank_statements import Bank
from tests.support.broker import free_port, wait_for_port
from tests.support.registry_fixtures import SUPERVISORS, RegistryWorld

pytestmark = pytest.mark.usefixtures("registry_store")

# 85 km/h where 60 is the limit: article 592 part 2, 10 MRP of 2025 (3 932 KZT), in tiyn.
FULL = 10 * 3932 * 100
HALF = FULL // 2


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The application served by uvicorn on a free port, in a thread of this process (so that
    it shares the test's clock), until the block ends."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Scene:
    world: RegistryWorld
    bank: Bank
    http: httpx.Client
    supervisor: dict[str, str]

    def notify(
        self,
        case_number: str,
        amount_minor: int,
        *,
        reference: str | None = None,
        nonce: str | None = None,
        key: DeviceKey | None = None,
        signed_at: datetime | None = None,
        institution: str | None = None,
    ) -> httpx.Response:
        body = json.dumps(
            {
                "reference": reference or f"HB-{uuid.uuid4().hex[:12]}",
                "case_number": case_number,
                "amount_minor": amount_minor,
                "currency": "KZT",
                "paid_at": iso(self.world.clock.now),
            }
        ).encode()
        return self.send(body, nonce=nonce, key=key, signed_at=signed_at, institution=institution)

    def send(
        self,
        body: bytes,
        *,
        nonce: str | None = None,
        key: DeviceKey | None = None,
        signed_at: datetime | None = None,
        institution: str | None = None,
    ) -> httpx.Response:
        headers = notification_headers(
            key or self.bank.key,
            institution or self.bank.institution,
            body,
            nonce=nonce or uuid.uuid4().hex,
            now=signed_at or self.world.clock.now,
        )
        return self.http.post(
            NOTIFICATIONS_PATH,
            content=body,
            headers={**headers, "Content-Type": "application/json", "Accept-Language": "en"},
        )

    def case(self, case_number: str) -> tuple[str, int]:
        row = self.world.store.db.conn.execute(
            "SELECT status, paid_minor FROM cases WHERE case_number = ?", (case_number,)
        ).fetchone()
        return str(row[0]), int(row[1])

    def count(self, table: str) -> int:
        return int(self.world.scalar(f"SELECT COUNT(*) FROM {table}"))


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    bank = Bank()
    # Drivers told of each resolution at once: a hand-over needs it (notify, issue 16).
    world = RegistryWorld.create(
        tmp_path,
        tell_drivers=True,
        bank_payments={"institutions": [bank.entry()]},
        # Refusals an address may cause at once, and almost no refill within a test.
        http_ingest={"refusals_per_s": 0.01, "burst": 8},
    )
    operators = Operators(
        world.store,
        session_hours=world.config.session_hours,
        hasher=FAST_HASHER,
        clock=world.clock,
    )
    operators.set_password(SUPERVISORS[0], PASSWORD, actor="system:tests")
    app = create_app(world.config, store=world.store, registry=world.registry, operators=operators)
    # The registry's clock is the test's, for the notifications as for the cases.
    app.state.bank_payments = BankPayments(world.store, world.config, clock=world.clock)
    token = operators.login(SUPERVISORS[0], PASSWORD).token
    with serving(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield Scene(world, bank, http, {"Authorization": f"Bearer {token}"})


def test_a_signed_notification_pays_the_case_and_the_same_one_again_answers_the_first(
    scene: Scene,
) -> None:
    case_number = scene.world.open_case()
    scene.world.clock.advance(days=2)  # within the 7 days of the 50% discount
    body = json.dumps(
        {
            "reference": "HB-0001",
            "case_number": case_number.lower(),
            "amount_minor": HALF,
            "paid_at": iso(scene.world.clock.now),
        }
    ).encode()
    first = scene.send(body, nonce="nonce-0000000001")
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["outcome"] == "matched"
    assert answer["matched_case"] == case_number
    assert (answer["due_minor"], answer["refund_minor"], answer["duplicate"]) == (HALF, 0, False)
    assert scene.case(case_number) == ("paid", HALF)
    ledger_size = scene.count("ledger")
    assert [entry["action"] for entry in scene.world.ledger("case", case_number)][-1] == (
        "payment_applied"
    )
    assert scene.world.ledger("inbound_payment", "halyk:HB-0001")[0]["payload"]["outcome"] == (
        "matched"
    )

    # The very same request again (a retry after a lost answer), and the same body under a
    # new nonce: the first outcome, and nothing more recorded or paid.
    again = scene.send(body, nonce="nonce-0000000001")
    fresh = scene.send(body, nonce="nonce-0000000002")
    for repeat in (again, fresh):
        assert repeat.status_code == 200, repeat.text
        assert repeat.json() == {**answer, "duplicate": True}
    assert scene.count("inbound_payments") == 1
    assert scene.case(case_number) == ("paid", HALF)
    assert scene.count("ledger") == ledger_size
    # The driver's page lists the payment, once.
    paid = case_payments(scene.world.store.db, case_number)
    assert [(row["amount_minor"], row["channel"]) for row in paid] == [(HALF, "bank")]


def test_forged_stale_replayed_and_conflicting_notifications_are_refused_and_change_nothing(
    scene: Scene,
) -> None:
    case_number = scene.world.open_case()
    paid = scene.notify(case_number, HALF // 2, reference="HB-0100", nonce="used-nonce-000001")
    assert paid.json()["outcome"] == "wrong_amount"
    before = (scene.count("inbound_payments"), scene.count("ledger"), scene.case(case_number))

    def refusal(response: httpx.Response) -> tuple[int, str]:
        return response.status_code, response.json()["error"]

    forged = scene.notify(case_number, HALF, key=DeviceKey.generate())
    assert refusal(forged) == (403, "signature_invalid")
    assert "was not signed by the institution" in forged.json()["detail"]
    stale = scene.notify(case_number, HALF, signed_at=scene.world.clock.now - timedelta(minutes=6))
    assert refusal(stale) == (403, "timestamp_outside_window")
    assert "300 seconds" in stale.json()["detail"]
    replayed = scene.notify(case_number, HALF, nonce="used-nonce-000001")
    assert refusal(replayed) == (409, "nonce_replayed")
    stranger = scene.notify(case_number, HALF, institution="kaspi")
    assert refusal(stranger) == (403, "unknown_institution")
    other_amount = scene.notify(case_number, HALF, reference="HB-0100")
    assert refusal(other_amount) == (409, "reference_conflict")
    assert "amount_minor" in other_amount.json()["detail"]
    not_a_payment = scene.send(b'{"reference": "HB-0200", "amount_minor": -5}')
    assert refusal(not_a_payment) == (422, "notification_invalid")
    future = json.dumps(
        {
            "reference": "HB-0201",
            "case_number": case_number,
            "amount_minor": HALF,
            "paid_at": iso(scene.world.clock.now + timedelta(days=1)),
        }
    ).encode()
    assert refusal(scene.send(future)) == (422, "paid_at_in_future")
    # A body altered on the way, under the signature of the original.
    body = b'{"reference":"HB-0300","case_number":"X-2025-0000001","amount_minor":1,'
    body += f'"paid_at":"{iso(scene.world.clock.now)}"}}'.encode()
    headers = notification_headers(scene.bank.key, "halyk", body, nonce="n" * 16)
    tampered = scene.http.post(
        NOTIFICATIONS_PATH,
        content=body.replace(b'"amount_minor":1', b'"amount_minor":9'),
        headers=headers,
    )
    assert refusal(tampered) == (403, "signature_invalid")

    assert (scene.count("inbound_payments"), scene.count("ledger"), scene.case(case_number)) == (
        before
    )
    # The refused nonces were not spent: the bank may send its request again, signed anew.
    assert scene.world.scalar("SELECT COUNT(*) FROM payment_nonces") == 1


def test_a_payment_for_a_cancelled_case_is_kept_flagged_and_refunded(scene: Scene) -> None:
    case_number = scene.world.open_case()
    registry = scene.world.registry
    request = registry.request_cancellation(case_number, "aigerim", "the camera was miscalibrated")
    registry.decide_cancellation(request.request_id, SUPERVISORS[0], approve=True)
    response = scene.notify(case_number, HALF, reference="HB-0500")
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "case_cancelled"
    assert response.json()["refund_minor"] == HALF
    assert scene.case(case_number) == ("cancelled", 0)
    unknown = scene.notify("KZ-GP-2025-9999999", HALF, reference="HB-0501")
    assert unknown.json()["outcome"] == "unknown_case"

    exceptions = scene.http.get("/v1/payments/exceptions", headers=scene.supervisor).json()
    assert {(row["reference"], row["outcome"]) for row in exceptions} == {
        ("HB-0500", "case_cancelled"),
        ("HB-0501", "unknown_case"),
    }
    refunds = scene.http.get("/v1/payments/refunds", headers=scene.supervisor).json()
    assert [(row["reference"], row["refund_minor"]) for row in refunds] == [("HB-0500", HALF)]
    # The lists are the supervisors' and the prosecutor's: not anyone's.
    assert scene.http.get("/v1/payments/refunds").status_code == 401


def test_a_payment_for_a_case_under_appeal_is_held_and_the_case_never_reaches_the_bailiffs(
    scene: Scene,
) -> None:
    """The driver appealed, then paid in his bank anyway: the payment is kept aside and
    flagged, not applied, while the appeal is open. The appeal upheld, the case is open and
    overdue again, yet it goes to no bailiff: the hand-over skips it, and the database refuses
    a hand-typed UPDATE."""
    world = scene.world
    case_number = world.open_case()
    appeals = AppealService(world.store, world.config, clock=world.clock)
    appeal = appeals.file(case_number, "I was not driving that day.", [])
    response = scene.notify(case_number, HALF, reference="HB-0900")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["outcome"], answer["matched_case"], answer["refund_minor"]) == (
        "case_appealed",
        case_number,
        0,
    )
    assert scene.case(case_number) == ("open", 0)
    exceptions = scene.http.get("/v1/payments/exceptions", headers=scene.supervisor).json()
    assert [(row["reference"], row["outcome"]) for row in exceptions] == [
        ("HB-0900", "case_appealed")
    ]

    appeals.decide(
        appeal.appeal_id,
        SUPERVISORS[0],
        decision=AppealDecision.UPHELD,
        decided_as=DecidedAs.SUPERVISOR,
    )
    world.clock.advance(days=120)
    assert world.registry.hand_over_overdue() == []
    with (
        pytest.raises(Exception, match="never handed to bailiffs"),
        world.store.transaction() as db,
    ):
        db.conn.execute(
            "UPDATE cases SET status = 'sent_to_bailiffs' WHERE case_number = ?", (case_number,)
        )
    assert scene.case(case_number) == ("open", 0)
    # The same case without the payment would have gone: the rule is the payment's.
    other = world.open_case()
    world.clock.advance(days=120)
    assert world.registry.hand_over_overdue() == [other]


def test_the_driver_is_told_when_a_payment_made_elsewhere_reaches_the_case(scene: Scene) -> None:
    if getattr(outbox, "queue_status_notice", None) is None:
        pytest.skip("the notices at each change of status (queue_status_notice) are not built yet")
    case_number = scene.world.open_case()
    notices = "SELECT COUNT(*) FROM notifications WHERE case_number = ?"
    before = int(scene.world.scalar(notices, case_number))
    assert scene.notify(case_number, HALF).json()["outcome"] == "matched"
    assert int(scene.world.scalar(notices, case_number)) > before
    # A payment that changes nothing on the case (unknown, or a second one) tells nobody.
    told = int(scene.world.scalar(notices, case_number))
    assert scene.notify(case_number, HALF).json()["outcome"] == "case_closed"
    assert int(scene.world.scalar(notices, case_number)) == told


def test_the_same_payment_delivered_many_times_at_once_is_recorded_once(scene: Scene) -> None:
    """A bank's retries racing each other over eight connections: one records the payment,
    every other answers as a repeat, and the case is paid once."""
    case_number = scene.world.open_case()
    body = json.dumps(
        {
            "reference": "HB-RACE",
            "case_number": case_number,
            "amount_minor": HALF,
            "paid_at": iso(scene.world.clock.now),
        }
    ).encode()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: scene.send(body), range(8)))
    assert [answer.status_code for answer in answers] == [200] * 8, [a.text for a in answers]
    assert sorted(answer.json()["duplicate"] for answer in answers) == [False] + [True] * 7
    assert {answer.json()["outcome"] for answer in answers} == {"matched"}
    assert scene.count("inbound_payments") == 1
    assert scene.case(case_number) == ("paid", HALF)


def test_an_address_that_keeps_sending_forgeries_is_throttled(scene: Scene) -> None:
    case_number = scene.world.open_case()
    forger = DeviceKey.generate()
    codes = [scene.notify(case_number, HALF, key=forger).status_code for _ in range(10)]
    assert codes == [403] * 8 + [429] * 2
    # Even a good notification from that address waits; another address is heard.
    throttled = scene.notify(case_number, HALF)
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.json()["error"] == "rate_limited"
    assert scene.count("inbound_payments") == 0
    elsewhere = httpx.Client(
        base_url=str(scene.http.base_url),
        transport=httpx.HTTPTransport(local_address="127.0.0.2"),
        timeout=10,
    )
    with elsewhere:
        scene.http, own = elsewhere, scene.http
        try:
            assert scene.notify(case_number, HALF).json()["outcome"] == "matched"
        finally:
            scene.http = own
