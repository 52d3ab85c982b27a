"""The outbox on a real SQLite file and real files: durability of one record, sequence numbers,
stored envelopes, quota and eviction order, dead letters, backoff, status, early PUBACKs."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from contract import DeviceKey, DeviceKind, DeviceStatus, EvidenceRole, SignedEnvelope
from contract.signing import load_public_key, signed_bytes, verify_signature
from edge.store import (
    Backoff,
    EvidenceImage,
    FileCategory,
    Health,
    Outbox,
    Sender,
    SenderSettings,
    StorageFull,
    StorageLimits,
    sealed_offline_will,
    status_body,
)
from tests.support.devices import SimulatedDevice, evidence_ref, speeding_fixation
from tests.support.evidence_images import evidence_jpeg

DEVICE = "cam-taraz-005"


@pytest.fixture
def key() -> DeviceKey:
    return DeviceKey.generate()


def open_outbox(root: Path, limits: StorageLimits | None = None) -> Outbox:
    return Outbox(root / "outbox.sqlite3", root / "files", limits=limits)


def record(outbox: Outbox, key: DeviceKey, seed: int) -> tuple[str, list[str]]:
    frame = evidence_jpeg("frame", seed=seed)
    image = EvidenceImage(evidence_ref(EvidenceRole.FULL_FRAME, frame), frame)
    camera = SimulatedDevice(DEVICE, DeviceKind.CAMERA, key=key)
    fixation = speeding_fixation(camera, evidence=[image.ref])
    recorded = outbox.record_fixation(fixation, [image], DEVICE, key)
    return recorded.message_id, [image.ref.sha256]


def test_a_record_is_durable_signed_and_numbered_across_restarts(
    tmp_path: Path, key: DeviceKey
) -> None:
    outbox = open_outbox(tmp_path)
    first, (sha,) = record(outbox, key, 1)
    second, _ = record(outbox, key, 2)
    outbox.close()

    reopened = open_outbox(tmp_path)
    third, _ = record(reopened, key, 3)
    pending = reopened.pending_after(0, 10)
    assert [message.message_id for message in pending] == [first, second, third]
    envelopes = [SignedEnvelope.model_validate(json.loads(m.envelope)) for m in pending]
    assert [envelope.body["sequence"] for envelope in envelopes] == [1, 2, 3]
    raw = json.loads(pending[0].envelope)
    assert verify_signature(
        load_public_key(key.public_key_b64), signed_bytes(raw), raw["signature"]
    )
    assert pending[0].topic == f"erap/v1/{DEVICE}/fixation"
    # Stored as sent: a resend carries exactly these bytes.
    assert reopened.pending_by_id([first])[0].envelope == pending[0].envelope
    path = reopened.files.path_for(sha, FileCategory.VIOLATION)
    assert path.read_bytes() == evidence_jpeg("frame", seed=1)
    assert not list(path.parent.glob(".*.tmp"))


def test_images_must_match_the_fixation(tmp_path: Path, key: DeviceKey) -> None:
    outbox = open_outbox(tmp_path)
    frame = evidence_jpeg("frame", seed=1)
    camera = SimulatedDevice(DEVICE, DeviceKind.CAMERA, key=key)
    fixation = speeding_fixation(camera, evidence=[evidence_ref(EvidenceRole.FULL_FRAME, frame)])
    with pytest.raises(ValueError, match="not supplied"):
        outbox.record_fixation(fixation, [], DEVICE, key)
    wrong = EvidenceImage(evidence_ref(EvidenceRole.FULL_FRAME, frame), b"other bytes")
    with pytest.raises(ValueError, match="do not hash"):
        outbox.record_fixation(fixation, [wrong], DEVICE, key)
    assert outbox.depth() == 0


def test_delivery_dead_letters_and_orphans(tmp_path: Path, key: DeviceKey) -> None:
    outbox = open_outbox(tmp_path)
    delivered, (sha,) = record(outbox, key, 1)
    refused, _ = record(outbox, key, 2)
    assert outbox.files_to_upload([delivered]) == {
        delivered: [(sha, outbox.files.path_for(sha, FileCategory.VIOLATION))]
    }
    outbox.mark_uploaded([sha])
    assert outbox.files_to_upload([delivered]) == {}
    outbox.forget_uploads_of([delivered])
    assert delivered in outbox.files_to_upload([delivered])

    assert outbox.delivered([delivered, delivered]) == 1
    assert outbox.dead_letter(refused, "bad_signature", "the key was rotated")
    assert outbox.depth() == 0
    [letter] = outbox.dead_letters()
    assert (letter.message_id, letter.reason, letter.sequence) == (refused, "bad_signature", 2)

    orphan = outbox.files.root / "violation" / "ab" / ("ab" * 32 + ".jpg")
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left by a crash before the commit")
    assert outbox.sweep_orphans() == 1
    assert not orphan.exists()
    assert outbox.files.path_for(sha, FileCategory.VIOLATION).exists()


def test_quota_evicts_cheapest_first_and_never_a_pending_violation(
    tmp_path: Path, key: DeviceKey
) -> None:
    # Three 8 kB files fit; the first image on top of them does not.
    limit = 24_000 + len(evidence_jpeg("frame", seed=1)) // 2
    outbox = open_outbox(tmp_path, StorageLimits(max_bytes=limit, min_free_bytes=0))
    old_telemetry = outbox.keep_file(os.urandom(8_000), FileCategory.TELEMETRY)
    video = outbox.keep_file(os.urandom(8_000), FileCategory.VIDEO)
    new_telemetry = outbox.keep_file(os.urandom(8_000), FileCategory.TELEMETRY)
    # Telemetry makes room only at the expense of telemetry.
    assert outbox.keep_file(os.urandom(8_000), FileCategory.TELEMETRY) is not None
    assert [e.sha256 for e in outbox.files.evictions()] == [old_telemetry]

    pending, _ = record(outbox, key, 1)  # evicts the remaining telemetry first
    evicted = outbox.files.evictions()
    assert [e.category for e in evicted[1:]] == [FileCategory.TELEMETRY] * len(evicted[1:])
    assert new_telemetry in {e.sha256 for e in evicted}
    assert outbox.files.used_bytes <= limit

    with pytest.raises(StorageFull):
        for seed in range(2, 10):
            record(outbox, key, seed)
    assert outbox.storage_full
    assert video in {e.sha256 for e in outbox.files.evictions()}
    assert outbox.depth() >= 1 and pending in {m.message_id for m in outbox.pending_after(0, 99)}
    assert all(e.category is not FileCategory.VIOLATION for e in outbox.files.evictions())


def test_backoff_grows_with_full_jitter_and_resets() -> None:
    backoff = Backoff(base_s=0.5, cap_s=4.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(50)]
    assert all(0 <= delay <= 4.0 for delay in delays)
    assert delays[0] <= 0.5 and delays[1] <= 1.0 and delays[2] <= 2.0
    assert len({round(delay, 6) for delay in delays}) == 50  # jitter: no two boxes in step
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_status_reports_health_and_alerts(key: DeviceKey) -> None:
    health = Health(
        tamper=True,
        disk_free_pct=12.5,
        queue_depth=40,
        dead_letters=2,
        evictions=3,
        alerts=("the broker refused a publish: Not authorized (135)",),
    )
    body = status_body(health, online=True)
    assert body.online and body.tamper and body.queue_depth == 40 and body.disk_free_pct == 12.5
    assert body.detail is not None
    assert "135" in body.detail and "2 fixation(s)" in body.detail and "3 file(s)" in body.detail
    will = SignedEnvelope.model_validate(json.loads(sealed_offline_will(DEVICE, key)))
    status = will.parsed_body()
    assert isinstance(status, DeviceStatus) and not status.online


def test_an_acknowledgement_arriving_before_publish_returns_is_not_lost(
    tmp_path: Path, key: DeviceKey
) -> None:
    """paho may call on_publish from its network thread before publish() returns; the sender
    parks it instead of losing it (and never holds its lock across publish())."""
    outbox = open_outbox(tmp_path)
    message_id, _ = record(outbox, key, 1)
    sender = Sender(outbox, key, SenderSettings(device_id=DEVICE, registry_url="http://x"))
    refusal = ReasonCode(PacketTypes.PUBACK, identifier=135)
    client = sender._client
    real_publish = client.publish

    def publish_acked_at_once(*args: object, **kwargs: object) -> object:
        info = real_publish(*args, **kwargs)  # type: ignore[arg-type]
        # Another thread, as paho's network loop would: it must get the lock, so ours is free.
        acker = threading.Thread(
            target=sender._on_publish, args=(client, None, info.mid, refusal, None)
        )
        acker.start()
        acker.join(timeout=5)
        assert not acker.is_alive(), "publish() was called with the sender's lock held"
        return info

    client.publish = publish_acked_at_once  # type: ignore[method-assign, assignment]
    sender._awaiting[message_id] = 0.0
    sender._publish("erap/v1/x/fixation", b"{}", message_id)
    sender._handle_events()
    assert sender.counters.broker_refusals == 1
    assert message_id in sender._retry_at and message_id not in sender._awaiting
    assert "Not authorized (135)" in sender.alerts["broker_refused"]
    assert outbox.depth() == 1  # a refusal never deletes


def test_a_message_no_one_was_subscribed_for_is_resent_soon(tmp_path: Path, key: DeviceKey) -> None:
    """PUBACK reason 16: the broker accepted and dropped it (no registry ingest subscribed).
    Waiting for a receipt would take a whole timeout; the sender schedules a prompt resend."""
    outbox = open_outbox(tmp_path)
    message_id, _ = record(outbox, key, 1)
    settings = SenderSettings(device_id=DEVICE, registry_url="http://x", receipt_timeout_s=30)
    sender = Sender(outbox, key, settings)
    sender._awaiting[message_id] = time.monotonic()
    sender._mid_to_message[7] = message_id
    dropped = ReasonCode(PacketTypes.PUBACK, identifier=16)
    sender._on_publish(sender._client, None, 7, dropped, None)
    sender._handle_events()
    assert message_id not in sender._awaiting
    assert sender._retry_at[message_id] <= time.monotonic() + 0.2
    assert sender.counters.broker_refusals == 0 and "broker_refused" not in sender.alerts
    assert outbox.depth() == 1
