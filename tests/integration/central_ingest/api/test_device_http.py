"""Device-facing HTTP: signed evidence uploads and signed messages, over the real app."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central_ingest.store.devices import revoke_device
from contract import DeviceKey, DeviceKind, EvidenceRef, EvidenceRole, MessageKind, now_utc
from contract.signing import (
    DEVICE_HEADER,
    SIGNATURE_HEADER,
    SIGNED_AT_HEADER,
    device_request_headers,
    request_signing_bytes,
)
from tests.support.api import REVIEWER, ApiEnv, build_env
from tests.support.devices import SimulatedDevice, speeding_fixation
from tests.support.evidence_images import evidence_jpeg

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path)


def upload(
    client: TestClient,
    env: ApiEnv,
    data: bytes,
    *,
    sha: str | None = None,
    key: DeviceKey | None = None,
    signed_at_offset: timedelta = timedelta(0),
) -> tuple[int, dict[str, object]]:
    sha = sha or hashlib.sha256(data).hexdigest()
    path = f"/v1/evidence/{sha}"
    headers = device_request_headers(
        key or env.world.camera_key,
        env.world.camera_id,
        method="PUT",
        path=path,
        body=data,
        now=now_utc() + signed_at_offset,
    )
    answer = client.put(path, content=data, headers=headers)
    return answer.status_code, answer.json()


def dead_letter_reasons(env: ApiEnv) -> list[str]:
    return [
        r[0]
        for r in env.world.store.db.conn.execute(
            "SELECT reason FROM dead_letters ORDER BY dead_letter_id"
        )
    ]


def test_evidence_upload_is_idempotent_and_served_to_reviewers(env: ApiEnv) -> None:
    client = env.client()
    frame = evidence_jpeg("123ABC01", seed=5)

    first = upload(client, env, frame)
    again = upload(client, env, frame)
    served = client.get(f"/v1/evidence/{first[1]['sha256']}", headers=env.headers(REVIEWER))
    anonymous = client.get(f"/v1/evidence/{first[1]['sha256']}")

    assert first == (
        201,
        {
            "sha256": hashlib.sha256(frame).hexdigest(),
            "size_bytes": len(frame),
            "width": 320,
            "height": 180,
            "created": True,
        },
    )
    assert again[0] == 200 and again[1]["created"] is False
    assert served.status_code == 200 and served.content == frame
    assert served.headers["content-type"] == "image/jpeg"
    assert anonymous.status_code == 401


def signed_put(
    client: TestClient,
    env: ApiEnv,
    address: str,
    content: bytes | Iterator[bytes],
    *,
    content_length: int | None = None,
) -> tuple[int, dict[str, object]]:
    """A PUT signed by the camera over ``address`` as the hash of its body, as an honest device
    signs, whatever ``content`` really is; ``content_length`` overrides the declared size."""
    path = f"/v1/evidence/{address}"
    signed_at = now_utc().isoformat()
    signature = env.world.camera_key.sign(
        request_signing_bytes(
            method="PUT",
            path=path,
            device_id=env.world.camera_id,
            signed_at=signed_at,
            body_sha256=address,
        )
    )
    headers = {
        DEVICE_HEADER: env.world.camera_id,
        SIGNED_AT_HEADER: signed_at,
        SIGNATURE_HEADER: signature,
    }
    if content_length is not None:
        headers["Content-Length"] = str(content_length)
    answer = client.put(path, content=content, headers=headers)
    return answer.status_code, answer.json()


def nothing_stored(env: ApiEnv) -> bool:
    """No row and no file, not even a temporary one in the incoming folder."""
    rows = env.world.store.db.conn.execute("SELECT count(*) FROM evidence").fetchone()[0]
    files = [p for p in env.world.config.evidence_dir.rglob("*") if p.is_file()]
    return rows == 0 and not files


@pytest.mark.parametrize(
    ("make", "status", "reason"),
    [
        (lambda frame: (frame, "ab" * 32, None, timedelta(0)), 403, "upload_not_authenticated"),
        (
            lambda frame: (frame[: len(frame) // 2], None, None, timedelta(0)),
            422,
            "evidence_corrupt",
        ),
        (lambda frame: (b"GIF89a" + frame, None, None, timedelta(0)), 422, "evidence_corrupt"),
        (
            lambda frame: (frame, None, DeviceKey.generate(), timedelta(0)),
            403,
            "upload_not_authenticated",
        ),
        (
            lambda frame: (frame, None, None, timedelta(minutes=-20)),
            403,
            "upload_not_authenticated",
        ),
    ],
    ids=["signed-for-another-address", "truncated", "not-jpeg", "foreign-key", "stale-signature"],
)
def test_bad_uploads_are_refused_recorded_and_store_nothing(
    env: ApiEnv, make: object, status: int, reason: str
) -> None:
    frame = evidence_jpeg("123ABC01", seed=6)
    data, sha, key, offset = make(frame)  # type: ignore[operator]

    code, body = upload(env.client(), env, data, sha=sha, key=key, signed_at_offset=offset)

    assert (code, body["error"]) == (status, reason)
    assert body["detail"]
    assert dead_letter_reasons(env) == [reason]
    assert nothing_stored(env)


def test_signed_uploads_whose_body_is_not_what_was_declared_leave_nothing(env: ApiEnv) -> None:
    """The signature covers the address; the body is checked against it and against its
    declared size as it streams, and the temporary file goes with every refusal."""
    client = env.client()
    frame = evidence_jpeg("123ABC01", seed=7)
    other = evidence_jpeg("777ZZZ02", seed=8)
    address = hashlib.sha256(frame).hexdigest()

    wrong_bytes = signed_put(client, env, address, other)
    longer = signed_put(client, env, address, frame + b"\x00" * 10, content_length=len(frame))
    shorter = signed_put(client, env, address, frame[:-10], content_length=len(frame))

    assert (wrong_bytes[0], wrong_bytes[1]["error"]) == (422, "evidence_hash_mismatch")
    assert (longer[0], longer[1]["error"]) == (400, "evidence_length_mismatch")
    assert (shorter[0], shorter[1]["error"]) == (400, "evidence_length_mismatch")
    assert "longer" in str(longer[1]["detail"]) and "ended after" in str(shorter[1]["detail"])
    assert nothing_stored(env)
    assert signed_put(client, env, address, frame)[0] == 201  # the same upload, honest, lands
    assert env.world.store.db.conn.execute("SELECT count(*) FROM evidence").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("forge", "declared", "status", "reason"),
    [
        ("unsigned", None, 422, "invalid_request"),
        ("unknown-device", None, 403, "upload_not_authenticated"),
        ("forged-signature", None, 403, "upload_not_authenticated"),
        ("signed", 8 * 1024 * 1024 + 1, 413, "evidence_too_large"),
        ("signed", "missing", 411, "evidence_length_required"),
    ],
)
def test_uploads_refused_on_their_headers_are_refused_before_the_body_is_read(
    env: ApiEnv, forge: str, declared: int | str | None, status: int, reason: str
) -> None:
    frame = evidence_jpeg("123ABC01", seed=9)
    address = hashlib.sha256(frame).hexdigest()
    path = f"/v1/evidence/{address}"
    pulled: list[int] = []

    def body() -> Iterator[bytes]:
        # The test client hands the body to the app only when the app asks for it.
        for start in range(0, len(frame), 1024):
            pulled.append(start)
            yield frame[start : start + 1024]

    headers = device_request_headers(
        env.world.camera_key, env.world.camera_id, method="PUT", path=path, body=frame
    )
    if forge == "unsigned":
        headers = {}
    elif forge == "unknown-device":
        headers[DEVICE_HEADER] = "cam-nobody-0000"
    elif forge == "forged-signature":
        headers[SIGNATURE_HEADER] = DeviceKey.generate().sign(b"something else")
    if declared is None:
        headers["Content-Length"] = str(len(frame))
    elif isinstance(declared, int):
        headers["Content-Length"] = str(declared)

    answer = env.client().put(path, content=body(), headers=headers)

    assert (answer.status_code, answer.json()["error"]) == (status, reason)
    assert pulled == []
    assert nothing_stored(env)


def test_revoked_camera_cannot_upload(env: ApiEnv) -> None:
    revoke_device(
        env.world.store,
        env.world.camera_id,
        reason="decommissioned",
        actor="officer:admin",
        now=now_utc(),
    )
    code, body = upload(env.client(), env, evidence_jpeg("x", seed=1))
    assert (code, body["error"]) == (403, "upload_not_authenticated")
    assert "revoked" in str(body["detail"])


def test_messages_over_http_answer_with_status_codes(env: ApiEnv) -> None:
    client = env.client()
    camera = SimulatedDevice(env.world.camera_id, DeviceKind.CAMERA, env.world.camera_key)
    frame = evidence_jpeg("555ORD17", seed=9)
    ref = EvidenceRef(
        role=EvidenceRole.FULL_FRAME,
        sha256=hashlib.sha256(frame).hexdigest(),
        size_bytes=len(frame),
    )
    raw = camera.seal(MessageKind.FIXATION, speeding_fixation(camera, evidence=[ref]))

    before_upload = client.post("/v1/messages", content=raw)
    upload(client, env, frame)
    stored = client.post("/v1/messages", content=raw)
    duplicate = client.post("/v1/messages", content=raw)
    garbage = client.post("/v1/messages", content=b"\x00\x01")
    oversized = client.post("/v1/messages", content=b"{" + b" " * 70_000 + b"}")

    assert (before_upload.status_code, before_upload.json()["reason"]) == (409, "evidence_missing")
    assert (stored.status_code, stored.json()["status"]) == (201, "stored")
    assert (duplicate.status_code, duplicate.json()["status"]) == (200, "duplicate")
    assert (garbage.status_code, garbage.json()["reason"]) == (400, "malformed_json")
    assert (oversized.status_code, oversized.json()["reason"]) == (413, "message_too_large")
