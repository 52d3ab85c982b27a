"""Ingestion of device messages: checked, then stored exactly once, in batches.

The same service serves MQTT (batches of many) and HTTP (batches of one). A batch is one
transaction: every accepted message, its ledger entry and every dead letter are committed
together, and only then does the caller acknowledge anything to the broker or the device.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlite_utils
from central_ingest.store.cases import record_payment

from central_ingest.config import RegistryConfig
from central_ingest.core.clock import iso
from central_ingest.core.intake import (
    Accepted,
    Parsed,
    Refused,
    Rejection,
    authenticate,
    parse_envelope,
)
from central_ingest.store.db import Store
from central_ingest.store.dead_letters import record_dead_letter
from central_ingest.store.devices import devices_by_id
from central_ingest.store.ledger import append_entry
from contract import (
    DeviceStatus,
    Fixation,
    Payment,
    ReceiptStatus,
    canonical_json,
    now_utc,
    parse_device_topic,
)

Channel = Literal["mqtt", "http"]


@dataclass(frozen=True)
class Incoming:
    payload: bytes
    channel: Channel
    topic: str | None = None


@dataclass(frozen=True)
class Outcome:
    status: ReceiptStatus
    reason: str | None
    detail: str
    device_id: str | None
    message_id: str | None
    authenticated: bool


class IngestService:
    def __init__(
        self,
        store: Store,
        config: RegistryConfig,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self._counts_lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def process(self, item: Incoming) -> Outcome:
        return self.process_batch([item])[0]

    def process_batch(self, items: Sequence[Incoming]) -> list[Outcome]:
        """Check and store a batch; returns one outcome per item, in order, after the commit."""
        parsed: list[Parsed | Refused] = [
            parse_envelope(item.payload, max_bytes=self._config.max_message_bytes) for item in items
        ]
        received_at = iso(self._clock())
        with self._store.transaction() as db:
            checked = self._authenticate_all(db, items, parsed)
            outcomes = self._store_all(db, items, checked, received_at)
        with self._counts_lock:
            self.counts.update(outcome.reason or outcome.status.value for outcome in outcomes)
        return outcomes

    def _authenticate_all(
        self,
        db: sqlite_utils.Database,
        items: Sequence[Incoming],
        parsed: list[Parsed | Refused],
    ) -> list[Accepted | Refused]:
        valid = [entry for entry in parsed if not isinstance(entry, Refused)]
        devices = devices_by_id(db, {envelope.device_id for _, envelope, _ in valid})
        wanted = {
            ref.sha256
            for _, _, body in valid
            if isinstance(body, Fixation)
            for ref in body.evidence
        }
        sizes = _evidence_sizes(db, wanted)
        checked: list[Accepted | Refused] = []
        for item, entry in zip(items, parsed, strict=True):
            if isinstance(entry, Refused):
                checked.append(entry)
                continue
            topic_claim = parse_device_topic(item.topic) if item.topic is not None else None
            if item.topic is not None and topic_claim is None:
                checked.append(
                    Refused(
                        Rejection.TOPIC_MISMATCH,
                        f"topic {item.topic!r} is not a device topic",
                        entry[1].device_id,
                        str(entry[1].message_id),
                    )
                )
                continue
            checked.append(
                authenticate(
                    entry, topic_claim=topic_claim, devices=devices, evidence_sizes=sizes.get
                )
            )
        return checked

    def _store_all(
        self,
        db: sqlite_utils.Database,
        items: Sequence[Incoming],
        checked: list[Accepted | Refused],
        received_at: str,
    ) -> list[Outcome]:
        known = _known_messages(
            db, {str(entry.envelope.message_id) for entry in checked if isinstance(entry, Accepted)}
        )
        outcomes: list[Outcome] = []
        for item, entry in zip(items, checked, strict=True):
            if isinstance(entry, Accepted):
                entry_or_refusal = self._store_one(db, item, entry, known, received_at)
                if isinstance(entry_or_refusal, Outcome):
                    outcomes.append(entry_or_refusal)
                    continue
                entry = entry_or_refusal
            record_dead_letter(
                db,
                received_at=received_at,
                channel=item.channel,
                topic=item.topic,
                device_id=entry.device_id,
                message_id=entry.message_id,
                reason=entry.reason.value,
                detail=entry.detail,
                retryable=entry.reason.retryable,
                payload=item.payload,
            )
            outcomes.append(
                Outcome(
                    ReceiptStatus.RETRY if entry.reason.retryable else ReceiptStatus.REJECTED,
                    entry.reason.value,
                    entry.detail,
                    entry.device_id,
                    entry.message_id,
                    entry.reason.after_signature,
                )
            )
        return outcomes

    def _store_one(
        self,
        db: sqlite_utils.Database,
        item: Incoming,
        accepted: Accepted,
        known: dict[str, str],
        received_at: str,
    ) -> Outcome | Refused:
        envelope = accepted.envelope
        message_id, device_id = str(envelope.message_id), envelope.device_id
        body_hash = _body_hash(envelope.body)
        if message_id in known:
            if known[message_id] != body_hash:
                return Refused(
                    Rejection.MESSAGE_ID_CONFLICT,
                    f"message {message_id} was already stored with different content",
                    device_id,
                    message_id,
                )
            return Outcome(
                ReceiptStatus.DUPLICATE, None, "already stored", device_id, message_id, True
            )
        try:
            with db.atomic():
                db.conn.execute(
                    "INSERT INTO messages (message_id, device_id, kind, channel, received_at,"
                    " envelope_sha256, envelope) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        message_id,
                        device_id,
                        envelope.kind.value,
                        item.channel,
                        received_at,
                        accepted.envelope_sha256,
                        accepted.envelope_json,
                    ),
                )
                body = accepted.body
                if isinstance(body, Fixation):
                    _store_fixation(db, body, accepted, received_at)
                elif isinstance(body, Payment):
                    record_payment(
                        db,
                        payment=body,
                        message_id=message_id,
                        device_id=device_id,
                        received_at=datetime.fromisoformat(received_at),
                        config=self._config,
                    )
                elif isinstance(body, DeviceStatus):
                    _store_status(db, body, accepted, received_at)
        except sqlite3.IntegrityError as exc:
            # Same body id under another message id, or a rule of the schema: keep the batch.
            return Refused(
                Rejection.MESSAGE_ID_CONFLICT,
                f"the registry refused to store message {message_id}: {exc}",
                device_id,
                message_id,
            )
        known[message_id] = body_hash
        return Outcome(ReceiptStatus.STORED, None, "stored", device_id, message_id, True)


def _body_hash(body: dict[str, object]) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _evidence_sizes(db: sqlite_utils.Database, hashes: set[str]) -> dict[str, int]:
    if not hashes:
        return {}
    marks = ",".join("?" * len(hashes))
    rows = db.conn.execute(
        f"SELECT sha256, size_bytes FROM evidence WHERE sha256 IN ({marks})", tuple(hashes)
    ).fetchall()
    return {sha: size for sha, size in rows}


def _known_messages(db: sqlite_utils.Database, message_ids: set[str]) -> dict[str, str]:
    """Body hashes of messages already stored, to tell a duplicate from an id conflict."""
    if not message_ids:
        return {}
    marks = ",".join("?" * len(message_ids))
    rows = db.conn.execute(
        f"SELECT message_id, envelope FROM messages WHERE message_id IN ({marks})",
        tuple(message_ids),
    ).fetchall()
    return {message_id: _body_hash(json.loads(envelope)["body"]) for message_id, envelope in rows}


def _store_fixation(
    db: sqlite_utils.Database, fixation: Fixation, accepted: Accepted, received_at: str
) -> None:
    envelope = accepted.envelope
    fixation_id = str(fixation.fixation_id)
    measured = fixation.measurement
    db.conn.execute(
        "INSERT INTO fixations (fixation_id, message_id, device_id, sequence, captured_at,"
        " received_at, violation, plate_text, plate_confidence, plate_format, speed_kmh,"
        " limit_kmh, light_phase, zone, lat, lon, body)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            fixation_id,
            str(envelope.message_id),
            envelope.device_id,
            fixation.sequence,
            iso(fixation.captured_at),
            received_at,
            fixation.violation.value,
            fixation.plate.text,
            fixation.plate.confidence,
            fixation.plate.format,
            measured.speed_kmh,
            measured.limit_kmh,
            measured.light_phase,
            fixation.zone,
            fixation.position.lat if fixation.position else None,
            fixation.position.lon if fixation.position else None,
            json.dumps(envelope.body, sort_keys=True, ensure_ascii=False),
        ),
    )
    db.conn.executemany(
        "INSERT INTO fixation_evidence (fixation_id, sha256, role) VALUES (?, ?, ?)",
        [(fixation_id, ref.sha256, ref.role.value) for ref in fixation.evidence],
    )
    append_entry(
        db,
        recorded_at=received_at,
        entity_type="fixation",
        entity_id=fixation_id,
        action="received",
        actor=f"device:{envelope.device_id}",
        payload={
            "status": "awaiting_review",
            "envelope_sha256": accepted.envelope_sha256,
            "violation": fixation.violation.value,
            "plate": fixation.plate.text,
            "captured_at": iso(fixation.captured_at),
        },
    )


def _store_status(
    db: sqlite_utils.Database, status: DeviceStatus, accepted: Accepted, received_at: str
) -> None:
    envelope = accepted.envelope
    db.conn.execute(
        "INSERT INTO device_status (device_id, message_id, reported_at, received_at, body)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET"
        " message_id = excluded.message_id, reported_at = excluded.reported_at,"
        " received_at = excluded.received_at, body = excluded.body"
        " WHERE excluded.reported_at >= device_status.reported_at",
        (
            envelope.device_id,
            str(envelope.message_id),
            iso(envelope.sent_at),
            received_at,
            json.dumps(status.model_dump(mode="json"), sort_keys=True),
        ),
    )
