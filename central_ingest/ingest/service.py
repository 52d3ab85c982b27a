"""Ingestion of device messages: checked, then stored exactly once, in batches.

The same service serves MQTT (batches of many) and HTTP (batches of one). A batch is one
transaction: every accepted message, its ledger entry and every dead letter are committed
together, and only then does the caller acknowledge anything to the broker or the device.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from central_ingest.config import RegistryConfig
from central_ingest.core.cases import PaymentMatch
from central_ingest.core.clock import iso, parse_iso
from central_ingest.core.intake import (
    Accepted,
    CaptureWindow,
    Parsed,
    Refused,
    Rejection,
    authenticate,
    parse_envelope,
)
from central_ingest.notify.outbox import queue_status_notice
from central_ingest.roadside import RoadsideIntake
from central_ingest.store import ingest as repo
from central_ingest.store.bailiffs import Issuer
from central_ingest.store.db import Database, Store
from central_ingest.store.dead_letters import dead_letter_row
from central_ingest.store.devices import devices_by_id
from central_ingest.store.errors import StoreConflict
from central_ingest.store.evidence import evidence_sizes
from central_ingest.store.ledger import LedgerAppender
from contract import (
    DeviceStatus,
    Fixation,
    Payment,
    ReceiptStatus,
    canonical_json,
    now_utc,
    parse_device_topic,
)
from contract.roadside import SignedRoadsideProtocol

Channel = Literal["mqtt", "http"]


@dataclass(frozen=True)
class Incoming:
    payload: bytes
    channel: Channel
    topic: str | None = None
    source: str | None = None
    """Where it came from, to count refusals per source: the HTTP client's address, or
    ``mqtt:<region>:<device id of the topic>`` (the broker's ACL lets a certificate publish
    only under its own id, so that id names the client)."""


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
        # Named in the bailiffs' recall when a payment settles a case already handed over.
        self._issuer = Issuer(
            agency_code=config.agency_code, case_link_base_url=config.case_link_base_url
        )
        self._clock = clock
        # An officer's protocol passes its own checks too, and opens its case as it is stored.
        self.roadside = RoadsideIntake(config)
        self._counts_lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def process(self, item: Incoming) -> Outcome:
        return self.process_batch([item])[0]

    def process_batch(self, items: Sequence[Incoming]) -> list[Outcome]:
        """Check and store a batch; returns one outcome per item, in order, after the commit.

        Signatures are verified before the write lock is taken, so that several workers verify
        in parallel and only queue for the short bulk write. A device revoked in between those
        two steps (milliseconds) still has that one batch stored, as if it had come just before.
        """
        parsed: list[Parsed | Refused] = [
            parse_envelope(item.payload, max_bytes=self._config.max_message_bytes) for item in items
        ]
        moment = self._clock()
        checked = self._authenticate_all(self._store.db, items, parsed, moment)
        received_at = iso(moment)
        try:
            with self._store.transaction() as db:
                outcomes = self._store_all(db, items, checked, received_at, careful=False)
        except StoreConflict:
            # Some message breaks a rule of the schema: store one by one, refusing only it.
            with self._store.transaction() as db:
                outcomes = self._store_all(db, items, checked, received_at, careful=True)
        with self._counts_lock:
            self.counts.update(outcome.reason or outcome.status.value for outcome in outcomes)
        return outcomes

    def _authenticate_all(
        self,
        db: Database,
        items: Sequence[Incoming],
        parsed: list[Parsed | Refused],
        received_at: datetime,
    ) -> list[Accepted | Refused]:
        window = CaptureWindow(
            received_at=received_at,
            clock_skew=timedelta(seconds=self._config.clock_skew_s),
            limitation=timedelta(days=self._config.deadlines.limitation_days),
        )
        valid = [entry for entry in parsed if not isinstance(entry, Refused)]
        devices = devices_by_id(db, {envelope.device_id for _, envelope, _ in valid})
        wanted = {
            ref.sha256
            for _, _, body in valid
            if isinstance(body, Fixation)
            for ref in body.evidence
        }
        sizes = evidence_sizes(db, wanted)
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
            result = authenticate(
                entry,
                topic_claim=topic_claim,
                devices=devices,
                evidence_sizes=sizes.get,
                capture_window=window,
            )
            if isinstance(result, Accepted) and isinstance(result.body, SignedRoadsideProtocol):
                device_key = devices[result.envelope.device_id].public_key
                result = self.roadside.check(db, entry[0], result, device_key, received_at)
            checked.append(result)
        return checked

    def _store_all(
        self,
        db: Database,
        items: Sequence[Incoming],
        checked: list[Accepted | Refused],
        received_at: str,
        *,
        careful: bool,
    ) -> list[Outcome]:
        known = _known_messages(
            db, {str(entry.envelope.message_id) for entry in checked if isinstance(entry, Accepted)}
        )
        writer = _BulkWriter(db, self._issuer, received_at, self.roadside, self._config)
        outcomes: list[Outcome] = []
        for item, entry in zip(items, checked, strict=True):
            refusal = entry
            if isinstance(entry, Accepted):
                result = self._store_one(writer, item, entry, known, careful=careful)
                if isinstance(result, Outcome):
                    outcomes.append(result)
                    continue
                refusal = result
            assert isinstance(refusal, Refused)
            writer.dead_letter(item, refusal)
            outcomes.append(
                Outcome(
                    ReceiptStatus.RETRY if refusal.reason.retryable else ReceiptStatus.REJECTED,
                    refusal.reason.value,
                    refusal.detail,
                    refusal.device_id,
                    refusal.message_id,
                    refusal.reason.after_signature,
                )
            )
        writer.flush()
        return outcomes

    @staticmethod
    def _store_one(
        writer: _BulkWriter,
        item: Incoming,
        accepted: Accepted,
        known: dict[str, str],
        *,
        careful: bool,
    ) -> Outcome | Refused:
        envelope = accepted.envelope
        message_id, device_id = str(envelope.message_id), envelope.device_id
        if message_id in known:
            if known[message_id] != accepted.body_sha256:
                return Refused(
                    Rejection.MESSAGE_ID_CONFLICT,
                    f"message {message_id} was already stored with different content",
                    device_id,
                    message_id,
                )
            return Outcome(
                ReceiptStatus.DUPLICATE, None, "already stored", device_id, message_id, True
            )
        if careful:
            # Earlier messages' rows are theirs: written before this one's savepoint, they are
            # not lost if it rolls back.
            writer.flush()
            try:
                with repo.savepoint(writer.db):
                    writer.add(item, accepted)
                    writer.flush()
            except StoreConflict as exc:
                # The savepoint undid this message's rows; the writer must forget them too, or
                # the next flush would write them again and fail the same way.
                writer.discard()
                return Refused(
                    Rejection.MESSAGE_ID_CONFLICT,
                    f"the registry refused to store message {message_id}: {exc}",
                    device_id,
                    message_id,
                )
        else:
            writer.add(item, accepted)
        known[message_id] = accepted.body_sha256
        return Outcome(ReceiptStatus.STORED, None, "stored", device_id, message_id, True)


# An unknown case has nobody to tell; a closed one is told nothing new by a payment.
_PAYMENT_WITHOUT_NOTICE = frozenset({PaymentMatch.UNKNOWN_CASE, PaymentMatch.CASE_CLOSED})


class _BulkWriter:
    """Collects the rows of a batch and writes them with one statement per table. Payments go
    through the case lifecycle at once (after a flush), since they change cases."""

    def __init__(
        self,
        db: Database,
        issuer: Issuer,
        received_at: str,
        roadside: RoadsideIntake,
        config: RegistryConfig,
    ) -> None:
        self.db = db
        self._config = config
        self._issuer = issuer
        self._roadside = roadside
        self._received_at = received_at
        self._ledger: LedgerAppender | None = None
        self._messages: list[tuple[object, ...]] = []
        self._fixations: list[tuple[object, ...]] = []
        self._evidence: list[tuple[str, str, str]] = []
        self._statuses: list[tuple[object, ...]] = []
        self._dead_letters: list[tuple[object, ...]] = []

    def add(self, item: Incoming, accepted: Accepted) -> None:
        envelope, body = accepted.envelope, accepted.body
        message_row = (
            str(envelope.message_id),
            envelope.device_id,
            envelope.kind.value,
            item.channel,
            self._received_at,
            accepted.envelope_sha256,
            accepted.envelope_json,
        )
        if isinstance(body, Payment):
            self.flush()
            received = parse_iso(self._received_at)
            match = repo.store_payment_message(
                self.db,
                message_row,
                payment=body,
                message_id=str(envelope.message_id),
                device_id=envelope.device_id,
                received_at=received,
                issuer=self._issuer,
            )
            if PaymentMatch(match) not in _PAYMENT_WITHOUT_NOTICE:
                # The driver is told in the payment's own transaction, what is left due or not.
                queue_status_notice(
                    self.db,
                    body.case_number.strip().upper(),
                    "payment_received",
                    received,
                    config=self._config,
                    amount_minor=body.amount_minor,
                )
            return
        if isinstance(body, SignedRoadsideProtocol):
            # The protocol opens its case (and queues its notices) at once, as a payment does.
            self.flush()
            self._roadside.write(self.db, message_row, accepted)
            return
        self._messages.append(message_row)
        if isinstance(body, Fixation):
            self._add_fixation(body, accepted)
        elif isinstance(body, DeviceStatus):
            # The box's last will is sealed when it connects and published by the broker when
            # the connection dies: its sent_at is older than every status of that session,
            # yet the broker's retained copy (offline) is the truth. So an offline report
            # counts from when the registry received it: it replaces every status sent
            # before, and the first status the box sends after reconnecting replaces it
            # (store.ingest.UPSERT_DEVICE_STATUS keeps the latest by this time).
            reported_at = envelope.sent_at
            if not body.online:
                reported_at = max(reported_at, parse_iso(self._received_at))
            self._statuses.append(
                (
                    envelope.device_id,
                    str(envelope.message_id),
                    iso(reported_at),
                    self._received_at,
                    accepted.body_json,
                )
            )

    def _add_fixation(self, fixation: Fixation, accepted: Accepted) -> None:
        envelope = accepted.envelope
        fixation_id = str(fixation.fixation_id)
        measured, position = fixation.measurement, fixation.position
        self._fixations.append(
            (
                fixation_id,
                str(envelope.message_id),
                envelope.device_id,
                fixation.sequence,
                iso(fixation.captured_at),
                self._received_at,
                fixation.violation.value,
                fixation.plate.text,
                fixation.plate.confidence,
                fixation.plate.format,
                measured.speed_kmh,
                measured.limit_kmh,
                measured.light_phase,
                fixation.zone,
                position.lat if position else None,
                position.lon if position else None,
            )
        )
        self._evidence.extend(
            (fixation_id, ref.sha256, ref.role.value) for ref in fixation.evidence
        )
        if self._ledger is None:
            self._ledger = LedgerAppender(self.db)
        self._ledger.append(
            recorded_at=self._received_at,
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

    def dead_letter(self, item: Incoming, refused: Refused) -> None:
        # Before the signature check anyone may have sent it: only its digest, size and first
        # bytes are kept (store.dead_letters).
        self._dead_letters.append(
            dead_letter_row(
                received_at=self._received_at,
                channel=item.channel,
                topic=item.topic,
                device_id=refused.device_id,
                message_id=refused.message_id,
                reason=refused.reason.value,
                detail=refused.detail,
                retryable=refused.reason.retryable,
                payload=item.payload,
                source=item.source,
                signed=refused.reason.after_signature,
            )
        )

    def flush(self) -> None:
        repo.write_batch(
            self.db,
            messages=self._messages,
            fixations=self._fixations,
            evidence=self._evidence,
            statuses=self._statuses,
            dead_letters=self._dead_letters,
            ledger=self._ledger,
        )
        self.discard()

    def discard(self) -> None:
        """Forget the buffered rows: written by `flush`, or undone with their savepoint. A fresh
        ledger appender then reads the chain's tail again, as committed."""
        self._ledger = None
        for rows in (
            self._messages,
            self._fixations,
            self._evidence,
            self._statuses,
            self._dead_letters,
        ):
            rows.clear()


def _body_hash(body: dict[str, object]) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _known_messages(db: Database, message_ids: set[str]) -> dict[str, str]:
    """Body hashes of messages already stored, to tell a duplicate from an id conflict."""
    return {
        message_id: _body_hash(json.loads(envelope)["body"])
        for message_id, envelope in repo.stored_envelopes(db, message_ids).items()
    }
