"""The ingest's statements: a batch of device messages written with one statement per table.

Every function here runs inside the ingest's write transaction (``Store.transaction``), except
the look-ups, which the ingest also makes before taking the write lock. Rows are tuples in the
column order of the statements below; ``central_ingest.ingest.service`` builds them. A row that
breaks a rule of the schema (a duplicate key, a foreign key, a trigger) raises
``StoreConflict``; any other failure of the database raises ``StoreError``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TypeAlias

from central_ingest.store.bailiffs import Issuer
from central_ingest.store.db import Database
from central_ingest.store.dead_letters import INSERT_DEAD_LETTER
from central_ingest.store.errors import translated_errors
from central_ingest.store.ledger import LedgerAppender
from central_ingest.store.payments import record_payment
from contract import Payment

Row: TypeAlias = tuple[object, ...]

MESSAGE_COLUMNS = (
    "message_id",
    "device_id",
    "kind",
    "channel",
    "received_at",
    "envelope_sha256",
    "envelope",
)
FIXATION_COLUMNS = (
    "fixation_id",
    "message_id",
    "device_id",
    "sequence",
    "captured_at",
    "received_at",
    "violation",
    "plate_text",
    "plate_confidence",
    "plate_format",
    "speed_kmh",
    "limit_kmh",
    "light_phase",
    "zone",
    "lat",
    "lon",
)
INSERT_MESSAGE = (
    "INSERT INTO messages (message_id, device_id, kind, channel, received_at, envelope_sha256,"
    " envelope) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# A status report arriving late never overwrites a newer one (an offline report, such as the
# box's last will, is dated by its receipt: central_ingest/ingest/service.py).
UPSERT_DEVICE_STATUS = (
    "INSERT INTO device_status (device_id, message_id, reported_at, received_at, body)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET"
    " message_id = excluded.message_id, reported_at = excluded.reported_at,"
    " received_at = excluded.received_at, body = excluded.body"
    " WHERE excluded.reported_at >= device_status.reported_at"
)


def stored_envelopes(db: Database, message_ids: set[str]) -> dict[str, str]:
    """The envelopes (JSON text) of the messages among ``message_ids`` already stored."""
    if not message_ids:
        return {}
    marks = ",".join("?" * len(message_ids))
    rows = db.conn.execute(
        f"SELECT message_id, envelope FROM messages WHERE message_id IN ({marks})",
        tuple(message_ids),
    ).fetchall()
    return {message_id: envelope for message_id, envelope in rows}


def write_batch(
    db: Database,
    *,
    messages: Sequence[Row],
    fixations: Sequence[Row],
    evidence: Sequence[Row],
    statuses: Sequence[Row],
    dead_letters: Sequence[Row],
    ledger: LedgerAppender | None,
) -> None:
    """One statement per table for the rows collected, then the ledger's entries, in that order
    (a fixation's message, and its evidence's fixation, exist before the rows that name them).

    Row shapes: ``messages`` as ``INSERT_MESSAGE``; ``fixations`` as ``FIXATION_COLUMNS``;
    ``evidence`` (fixation_id, sha256, role); ``statuses`` (device_id, message_id, reported_at,
    received_at, body), a late report never replacing a newer one; ``dead_letters`` as
    ``store.dead_letters.record_dead_letter``'s columns, the payload already cut."""
    with translated_errors():
        conn = db.conn
        db.insert_rows("messages", MESSAGE_COLUMNS, messages)
        db.insert_rows("fixations", FIXATION_COLUMNS, fixations)
        db.insert_rows("fixation_evidence", ("fixation_id", "sha256", "role"), evidence)
        conn.executemany(UPSERT_DEVICE_STATUS, statuses)
        conn.executemany(INSERT_DEAD_LETTER, dead_letters)
        if ledger is not None:
            ledger.flush()


def store_payment_message(
    db: Database,
    message: Row,
    *,
    payment: Payment,
    message_id: str,
    device_id: str,
    received_at: datetime,
    issuer: Issuer,
) -> str:
    """A payment's message (a row as ``INSERT_MESSAGE``), then the payment through the case
    lifecycle (``store.payments.record_payment``), which appends to the ledger itself; returns
    how the payment matched."""
    with translated_errors():
        db.conn.execute(INSERT_MESSAGE, message)
        return record_payment(
            db,
            payment=payment,
            message_id=message_id,
            device_id=device_id,
            received_at=received_at,
            issuer=issuer,
        )


@contextmanager
def savepoint(db: Database) -> Iterator[None]:
    """A nested atomic step inside the transaction: undone alone if it raises."""
    with translated_errors(), db.atomic():
        yield
