"""Ingestion through the real service and a real SQLite file: every rejection reason, duplicates,
replays and conflicts, and nothing corrupted by bad input."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from central_ingest.config import RegistryConfig
from central_ingest.ingest.service import Incoming, IngestService
from central_ingest.store.db import Store
from central_ingest.store.devices import revoke_device
from central_ingest.store.evidence import EvidenceStore
from central_ingest.wiring import open_registry_store
from contract import (
    DeviceKey,
    DeviceKind,
    DeviceStatus,
    EvidenceRole,
    MessageKind,
    ReceiptStatus,
    canonical_json,
    encode_envelope,
    now_utc,
    seal,
)
from contract.signing import signed_bytes
from tests.support.devices import SimulatedDevice, evidence_ref, speeding_fixation
from tests.support.evidence_images import evidence_jpeg
from tests.support.stores import database_overrides

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")


@pytest.fixture
def config(tmp_path: Path) -> RegistryConfig:
    return RegistryConfig(**database_overrides({"data_dir": tmp_path / "registry"}))


@pytest.fixture
def store(config: RegistryConfig) -> Iterator[Store]:
    opened = open_registry_store(config)
    yield opened
    opened.close()


@pytest.fixture
def service(store: Store, config: RegistryConfig) -> IngestService:
    return IngestService(store, config)


@pytest.fixture
def evidence(store: Store, config: RegistryConfig) -> EvidenceStore:
    return EvidenceStore(store, config.evidence_dir, config.max_evidence_bytes)


@pytest.fixture
def camera(store: Store) -> SimulatedDevice:
    return SimulatedDevice("cam-astana-001", DeviceKind.CAMERA).register(store)


def uploaded_fixation(
    camera: SimulatedDevice,
    evidence: EvidenceStore,
    seed: int = 0,
    plate: str = "123ABC01",
    captured_at: datetime | None = None,
) -> bytes:
    frame = evidence_jpeg("frame", seed=seed)
    crop = evidence_jpeg(plate, size=(160, 40), seed=seed + 1)
    for data in (frame, crop):
        evidence.put(
            evidence_ref(EvidenceRole.FULL_FRAME, data).sha256,
            data,
            uploaded_by=camera.device_id,
            now=now_utc(),
        )
    body = speeding_fixation(
        camera,
        plate=plate,
        captured_at=captured_at,
        evidence=[
            evidence_ref(EvidenceRole.FULL_FRAME, frame),
            evidence_ref(EvidenceRole.PLATE_CROP, crop),
        ],
    )
    return camera.seal(MessageKind.FIXATION, body)


def count(store: Store, table: str) -> int:
    return int(store.db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def dead_letter_reasons(store: Store) -> list[str]:
    return [
        row[0]
        for row in store.db.conn.execute("SELECT reason FROM dead_letters ORDER BY dead_letter_id")
    ]


def test_valid_fixation_is_stored_awaiting_review_with_its_ledger_entry(
    service: IngestService, store: Store, camera: SimulatedDevice, evidence: EvidenceStore
) -> None:
    outcome = service.process(Incoming(uploaded_fixation(camera, evidence), "http"))

    assert outcome.status is ReceiptStatus.STORED
    row = store.db.conn.execute("SELECT status, plate_text, device_id FROM fixations").fetchone()
    assert row == ("awaiting_review", "123ABC01", camera.device_id)
    assert count(store, "fixation_evidence") == 2
    ledger = store.db.conn.execute(
        "SELECT entity_type, action, actor FROM ledger WHERE entity_type = 'fixation'"
    ).fetchall()
    assert ledger == [("fixation", "received", f"device:{camera.device_id}")]


def test_replayed_message_is_acknowledged_and_stored_once(
    service: IngestService, store: Store, camera: SimulatedDevice, evidence: EvidenceStore
) -> None:
    raw = uploaded_fixation(camera, evidence)
    outcomes = service.process_batch(
        [Incoming(raw, "mqtt", f"erap/v1/{camera.device_id}/fixation")] * 3
    )
    later = service.process(Incoming(raw, "http"))

    assert [o.status for o in outcomes] == [ReceiptStatus.STORED] + [ReceiptStatus.DUPLICATE] * 2
    assert later.status is ReceiptStatus.DUPLICATE
    assert count(store, "fixations") == 1
    assert count(store, "messages") == 1
    assert count(store, "dead_letters") == 0


def test_resealed_resend_of_the_same_fixation_is_a_duplicate(
    service: IngestService, store: Store, camera: SimulatedDevice, evidence: EvidenceStore
) -> None:
    raw = uploaded_fixation(camera, evidence)
    envelope = json.loads(raw)
    body = speeding_fixation(camera).model_validate(envelope["body"])
    resealed = encode_envelope(seal(MessageKind.FIXATION, camera.device_id, body, camera.key))
    assert resealed != raw  # new sent_at, new signature

    assert service.process(Incoming(raw, "http")).status is ReceiptStatus.STORED
    assert service.process(Incoming(resealed, "http")).status is ReceiptStatus.DUPLICATE
    assert count(store, "fixations") == 1


def test_same_message_id_with_different_content_is_a_conflict(
    service: IngestService, store: Store, camera: SimulatedDevice, evidence: EvidenceStore
) -> None:
    raw = uploaded_fixation(camera, evidence)
    envelope = json.loads(raw)
    body = speeding_fixation(camera).model_validate(
        {**envelope["body"], "plate": {**envelope["body"]["plate"], "text": "999ZZZ02"}}
    )
    forged_twin = encode_envelope(seal(MessageKind.FIXATION, camera.device_id, body, camera.key))

    assert service.process(Incoming(raw, "http")).status is ReceiptStatus.STORED
    outcome = service.process(Incoming(forged_twin, "http"))
    assert (outcome.status, outcome.reason) == (ReceiptStatus.REJECTED, "message_id_conflict")
    assert store.db.conn.execute("SELECT plate_text FROM fixations").fetchall() == [("123ABC01",)]


def _tampered(raw: bytes, **changes: object) -> bytes:
    document = json.loads(raw)
    document.update(changes)
    return canonical_json(document)


@pytest.mark.parametrize(
    ("make_payload", "reason"),
    [
        (lambda raw, cam: b"x" * 70_000, "message_too_large"),
        (lambda raw, cam: b"{not json", "malformed_json"),
        (lambda raw, cam: b"\xff\xfe\x00", "malformed_json"),
        (lambda raw, cam: b"[1, 2]", "malformed_json"),
        (lambda raw, cam: _tampered(raw, schema_version=99), "unsupported_schema_version"),
        (lambda raw, cam: _tampered(raw, kind="teleport"), "schema_invalid"),
        (lambda raw, cam: _tampered(raw, body={"plate": "123ABC01"}), "schema_invalid"),
        (lambda raw, cam: raw[: len(raw) // 2], "malformed_json"),
        (lambda raw, cam: _tampered(raw, device_id="cam-nobody-404"), "unknown_device"),
        (lambda raw, cam: _tampered(raw, sent_at="2020-01-01T00:00:00Z"), "bad_signature"),
        (
            lambda raw, cam: _tampered(
                raw, signature=DeviceKey.generate().sign(signed_bytes(json.loads(raw)))
            ),
            "bad_signature",
        ),
    ],
    ids=[
        "too-large",
        "not-json",
        "not-utf8",
        "not-object",
        "version",
        "kind",
        "body",
        "truncated",
        "unknown-device",
        "altered",
        "foreign-key",
    ],
)
def test_bad_messages_are_dead_lettered_with_a_precise_reason(
    service: IngestService,
    store: Store,
    camera: SimulatedDevice,
    evidence: EvidenceStore,
    make_payload: object,
    reason: str,
) -> None:
    raw = uploaded_fixation(camera, evidence)
    payload = make_payload(raw, camera)  # type: ignore[operator]

    outcome = service.process(Incoming(payload, "http"))

    assert (outcome.status, outcome.reason) == (ReceiptStatus.REJECTED, reason)
    assert outcome.detail  # a sentence, not just a code
    assert dead_letter_reasons(store) == [reason]
    assert count(store, "fixations") == 0
    assert service.counts[reason] == 1
    # the original still goes through afterwards: nothing was corrupted
    assert service.process(Incoming(raw, "http")).status is ReceiptStatus.STORED


@pytest.mark.sqlite_only
def test_a_row_the_schema_refuses_is_dead_lettered_and_the_rest_of_its_batch_stored(
    service: IngestService, store: Store, camera: SimulatedDevice, evidence: EvidenceStore
) -> None:
    # A rule of the database (here a trigger standing in for any constraint) refuses one
    # fixation in the middle of a batch: the bulk write fails, the one-by-one pass must store
    # the others and refuse only that one, however many rows it had already buffered.
    store.db.conn.execute(
        "CREATE TRIGGER refuse_one_plate BEFORE INSERT ON fixations"
        " WHEN NEW.plate_text = '999ZZZ99' BEGIN SELECT RAISE(ABORT, 'plate refused'); END"
    )
    good = [uploaded_fixation(camera, evidence, seed=seed) for seed in (0, 10)]
    refused = uploaded_fixation(camera, evidence, seed=20, plate="999ZZZ99")
    topic = f"erap/v1/{camera.device_id}/fixation"

    outcomes = service.process_batch(
        [Incoming(raw, "mqtt", topic) for raw in (good[0], refused, good[1])]
    )

    assert [outcome.status for outcome in outcomes] == [
        ReceiptStatus.STORED,
        ReceiptStatus.REJECTED,
        ReceiptStatus.STORED,
    ]
    assert "plate refused" in outcomes[1].detail
    assert count(store, "fixations") == 2
    assert count(store, "messages") == 2
    assert count(store, "fixation_evidence") == 4
    assert dead_letter_reasons(store) == [outcomes[1].reason]
    chain = store.db.conn.execute(
        "SELECT seq, prev_hash, entry_hash, entity_type FROM ledger ORDER BY seq"
    ).fetchall()
    assert [row[3] for row in chain].count("fixation") == 2
    assert [row[0] for row in chain] == list(range(1, len(chain) + 1))
    assert all(row[1] == before[2] for before, row in itertools.pairwise(chain))


def test_revoked_device_is_refused(
    service: IngestService, store: Store, camera: SimulatedDevice, evidence: EvidenceStore
) -> None:
    raw = uploaded_fixation(camera, evidence)
    revoke_device(
        store, camera.device_id, reason="stolen from its pole", actor="officer:admin", now=now_utc()
    )

    outcome = service.process(Incoming(raw, "http"))

    assert outcome.reason == "device_revoked"
    assert count(store, "fixations") == 0


def test_topic_must_name_the_signing_device_and_the_kind(
    service: IngestService, store: Store, camera: SimulatedDevice, evidence: EvidenceStore
) -> None:
    other = SimulatedDevice("cam-astana-002", DeviceKind.CAMERA).register(store)
    raw = uploaded_fixation(camera, evidence)

    on_other_topic = service.process(Incoming(raw, "mqtt", f"erap/v1/{other.device_id}/fixation"))
    as_payment = service.process(Incoming(raw, "mqtt", f"erap/v1/{camera.device_id}/payment"))
    on_junk_topic = service.process(Incoming(raw, "mqtt", "somewhere/else"))

    assert [on_other_topic.reason, as_payment.reason, on_junk_topic.reason] == [
        "topic_mismatch"
    ] * 3


def test_camera_may_not_send_payments_and_ids_must_match(
    service: IngestService, store: Store, camera: SimulatedDevice
) -> None:
    status = DeviceStatus(online=True, disk_free_pct=40.0, queue_depth=3)
    wrong_kind = seal(MessageKind.PAYMENT, camera.device_id, status, camera.key)
    terminal = SimulatedDevice("term-patrol-07", DeviceKind.TERMINAL).register(store)
    fixation_from_terminal = terminal.seal(MessageKind.FIXATION, speeding_fixation(camera))
    fixation = speeding_fixation(camera)
    id_mismatch = camera.seal(MessageKind.FIXATION, fixation, message_id=uuid4())

    outcomes = service.process_batch(
        [
            Incoming(encode_envelope(wrong_kind), "http"),
            Incoming(fixation_from_terminal, "http"),
            Incoming(id_mismatch, "http"),
        ]
    )

    assert [o.reason for o in outcomes] == ["schema_invalid", "kind_not_permitted", "id_mismatch"]


def test_fixation_waits_for_its_evidence_then_goes_through(
    service: IngestService, store: Store, camera: SimulatedDevice, evidence: EvidenceStore
) -> None:
    frame = evidence_jpeg("late frame", seed=7)
    ref = evidence_ref(EvidenceRole.FULL_FRAME, frame)
    raw = camera.seal(MessageKind.FIXATION, speeding_fixation(camera, evidence=[ref]))

    early = service.process(Incoming(raw, "http"))
    evidence.put(ref.sha256, frame, uploaded_by=camera.device_id, now=now_utc())
    after_upload = service.process(Incoming(raw, "http"))

    assert (early.status, early.reason) == (ReceiptStatus.RETRY, "evidence_missing")
    assert early.authenticated
    assert after_upload.status is ReceiptStatus.STORED
    assert store.db.conn.execute("SELECT reason, retryable FROM dead_letters").fetchall() == [
        ("evidence_missing", 1)
    ]


def test_evidence_size_must_match_the_upload(
    service: IngestService, store: Store, camera: SimulatedDevice, evidence: EvidenceStore
) -> None:
    frame = evidence_jpeg("frame", seed=3)
    ref = evidence_ref(EvidenceRole.FULL_FRAME, frame)
    evidence.put(ref.sha256, frame, uploaded_by=camera.device_id, now=now_utc())
    lying = ref.model_copy(update={"size_bytes": ref.size_bytes + 1})
    raw = camera.seal(MessageKind.FIXATION, speeding_fixation(camera, evidence=[lying]))

    assert service.process(Incoming(raw, "http")).reason == "evidence_mismatch"


def test_device_status_keeps_the_latest_report(
    service: IngestService, store: Store, camera: SimulatedDevice
) -> None:
    first = seal(
        MessageKind.DEVICE_STATUS,
        camera.device_id,
        DeviceStatus(online=True, tamper=False, queue_depth=5),
        camera.key,
    )
    second = seal(
        MessageKind.DEVICE_STATUS,
        camera.device_id,
        DeviceStatus(online=True, tamper=True, queue_depth=9),
        camera.key,
    )

    outcomes = service.process_batch(
        [Incoming(encode_envelope(second), "http"), Incoming(encode_envelope(first), "http")]
    )

    assert [o.status for o in outcomes] == [ReceiptStatus.STORED] * 2
    body = json.loads(store.db.conn.execute("SELECT body FROM device_status").fetchone()[0])
    assert body["tamper"] is True  # the older report, arriving late, does not overwrite it


def test_the_last_will_counts_from_its_receipt_like_the_brokers_retained_copy(
    store: Store, config: RegistryConfig, camera: SimulatedDevice
) -> None:
    """The will is sealed at connect time, so it is older than the session's statuses; the
    broker publishes it when the box drops off and the registry must then say offline. A
    stale status of the dead session does not bring the box back; its next session does."""
    received = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    service = IngestService(store, config, clock=lambda: received)

    def status(online: bool, seconds: int, queue_depth: int) -> Incoming:
        body = DeviceStatus(online=online, queue_depth=queue_depth)
        sent = received + timedelta(seconds=seconds)
        sealed = seal(MessageKind.DEVICE_STATUS, camera.device_id, body, camera.key, sent_at=sent)
        return Incoming(encode_envelope(sealed), "mqtt")

    def stored() -> dict[str, object]:
        row = store.db.conn.execute("SELECT body FROM device_status").fetchone()
        return dict(json.loads(row[0]))

    service.process(status(True, -30, 1))  # the newest status of the session
    service.process(status(False, -200, 0))  # its will, sealed when the box connected
    assert stored()["online"] is False
    service.process(status(True, -60, 2))  # a stale status of the dead session, late
    assert stored()["online"] is False
    service.process(status(True, 5, 3))  # the box is back
    assert (stored()["online"], stored()["queue_depth"]) == (True, 3)


@pytest.mark.parametrize(
    ("captured_after_receipt", "skew_s", "reason"),
    [
        (timedelta(days=365), 300, "captured_in_future"),
        (timedelta(minutes=2), 60, "captured_in_future"),
        (timedelta(minutes=2), 300, None),
        (timedelta(days=-400), 300, "captured_beyond_limitation"),
    ],
    ids=["year-ahead", "beyond-a-narrow-skew", "within-the-default-skew", "time-barred"],
)
def test_implausible_capture_times_are_refused_at_intake_and_the_camera_is_told(
    store: Store,
    config: RegistryConfig,
    camera: SimulatedDevice,
    evidence: EvidenceStore,
    captured_after_receipt: timedelta,
    skew_s: int,
    reason: str | None,
) -> None:
    received = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    service = IngestService(
        store, config.model_copy(update={"clock_skew_s": skew_s}), clock=lambda: received
    )
    raw = uploaded_fixation(camera, evidence, captured_at=received + captured_after_receipt)

    outcome = service.process(Incoming(raw, "mqtt", f"erap/v1/{camera.device_id}/fixation"))

    if reason is None:
        assert outcome.status is ReceiptStatus.STORED
        assert count(store, "fixations") == 1
        return
    assert (outcome.status, outcome.reason) == (ReceiptStatus.REJECTED, reason)
    assert outcome.authenticated  # signed: the camera gets a receipt saying why
    assert "captured_at" in outcome.detail
    assert count(store, "fixations") == 0
    assert dead_letter_reasons(store) == [reason]
