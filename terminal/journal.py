"""The terminal's durable journal (SQLite, synchronous=FULL): payments by idempotency key,
reversals armed before the authorisation is sent, and the outbox of signed payment reports.

Nothing here ever holds a full card number, track data, CVV or PIN: only the masked number
and the acquirer's references.

A payment's outcome message is kept untranslated (``terminal.messages``: the message id and its
parameters as JSON), so a retry shows it in the language of whoever asks.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from i18n import Message
from localdb import open_sqlite, write_transaction
from terminal.messages import decode_message, encode_message

SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    payment_id TEXT PRIMARY KEY,
    case_number TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    state TEXT NOT NULL,
    stan TEXT,
    masked_pan TEXT,
    scheme TEXT,
    aid TEXT,
    approval_code TEXT,
    rrn TEXT,
    paid_at TEXT,
    message TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_case ON payments (case_number, state);
CREATE TABLE IF NOT EXISTS reversals (
    payment_id TEXT PRIMARY KEY REFERENCES payments (payment_id),
    stan TEXT NOT NULL,
    transmitted_at TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    message_id TEXT PRIMARY KEY,
    envelope BLOB NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at TEXT
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class PaymentState(StrEnum):
    STARTED = "started"  # the card is being read; nothing sent to the bank
    AUTHORISING = "authorising"  # the 0200 may have reached the bank: a reversal is armed
    APPROVED = "approved"  # charged, card agreed: the payment stands
    NOT_CHARGED = "not_charged"  # declined or failed before any money moved
    REVERSING = "reversing"  # charged, then undone: a reversal is due
    REVERSED = "reversed"  # the bank acknowledged the reversal

    @property
    def final(self) -> bool:
        return self in (PaymentState.APPROVED, PaymentState.NOT_CHARGED, PaymentState.REVERSED)


class ReversalState(StrEnum):
    ARMED = "armed"  # written before the 0200 is sent; sent only if the outcome goes wrong
    DUE = "due"
    ACKNOWLEDGED = "acknowledged"
    DISARMED = "disarmed"


@dataclass(frozen=True)
class PaymentRow:
    payment_id: str
    case_number: str
    amount_minor: int
    state: PaymentState
    stan: str | None
    masked_pan: str | None
    scheme: str | None
    aid: str | None
    approval_code: str | None
    rrn: str | None
    paid_at: str | None
    message: Message | None  # None until an outcome is recorded


@dataclass(frozen=True)
class DueReversal:
    payment_id: str
    stan: str
    transmitted_at: datetime
    amount_minor: int
    reason: str


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # synchronous=FULL: a reversal must survive a power cut.
        self._conn = open_sqlite(path, synchronous="FULL")
        self._lock = threading.RLock()
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._conn, self._lock)

    # --- payments ----------------------------------------------------------------------------

    def payment(self, payment_id: str) -> PaymentRow | None:
        row = self._conn.execute(
            "SELECT payment_id, case_number, amount_minor, state, stan, masked_pan, scheme, aid,"
            " approval_code, rrn, paid_at, message FROM payments WHERE payment_id = ?",
            (payment_id,),
        ).fetchone()
        if row is None:
            return None
        return PaymentRow(
            payment_id=row[0],
            case_number=row[1],
            amount_minor=row[2],
            state=PaymentState(row[3]),
            stan=row[4],
            masked_pan=row[5],
            scheme=row[6],
            aid=row[7],
            approval_code=row[8],
            rrn=row[9],
            paid_at=row[10],
            message=decode_message(row[11]),
        )

    def approved_for_case(self, case_number: str) -> PaymentRow | None:
        row = self._conn.execute(
            "SELECT payment_id FROM payments WHERE case_number = ? AND state = ?",
            (case_number, PaymentState.APPROVED.value),
        ).fetchone()
        return None if row is None else self.payment(row[0])

    def start(self, payment_id: str, case_number: str, amount_minor: int, now: datetime) -> bool:
        """Record a new payment; False when this idempotency key was already used."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO payments (payment_id, case_number, amount_minor, state,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    payment_id,
                    case_number,
                    amount_minor,
                    PaymentState.STARTED.value,
                    now.isoformat(),
                    now.isoformat(),
                ),
            )
            return cursor.rowcount == 1

    def next_stan(self) -> str:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO counters (name, value) VALUES ('stan', 1)"
                " ON CONFLICT (name) DO UPDATE SET value = value % 999999 + 1"
            )
            (value,) = db.execute("SELECT value FROM counters WHERE name = 'stan'").fetchone()
        return f"{value:06d}"

    def update(self, payment_id: str, state: PaymentState, now: datetime, **fields: Any) -> None:
        """``message`` is a ``Message``; the other fields are the card's and the bank's
        references."""
        with self._transaction() as db:
            _update_payment(db, payment_id, state, now, fields)

    # --- reversals ---------------------------------------------------------------------------

    def arm_reversal(
        self,
        payment_id: str,
        stan: str,
        transmitted_at: datetime,
        amount_minor: int,
        now: datetime,
    ) -> None:
        """Written (and fsynced) before the 0200 leaves, so a crash mid-authorisation still
        knows what to undo."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO reversals (payment_id, stan, transmitted_at, amount_minor, reason,"
                " state) VALUES (?, ?, ?, ?, '', ?)",
                (
                    payment_id,
                    stan,
                    transmitted_at.isoformat(),
                    amount_minor,
                    ReversalState.ARMED.value,
                ),
            )
            db.execute(
                "UPDATE payments SET state = ?, stan = ?, updated_at = ? WHERE payment_id = ?",
                (PaymentState.AUTHORISING.value, stan, now.isoformat(), payment_id),
            )

    def disarm_reversal(self, payment_id: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE reversals SET state = ? WHERE payment_id = ? AND state = ?",
                (ReversalState.DISARMED.value, payment_id, ReversalState.ARMED.value),
            )

    def reversal_due(self, payment_id: str, reason: str, message: Message, now: datetime) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE reversals SET state = ?, reason = ? WHERE payment_id = ? AND state = ?",
                (ReversalState.DUE.value, reason, payment_id, ReversalState.ARMED.value),
            )
            db.execute(
                "UPDATE payments SET state = ?, message = ?, updated_at = ? WHERE payment_id = ?",
                (
                    PaymentState.REVERSING.value,
                    encode_message(message),
                    now.isoformat(),
                    payment_id,
                ),
            )

    def in_doubt(self) -> list[PaymentRow]:
        """Payments whose charge was sent but whose outcome was never recorded (a crash, a
        lost answer): the payment device must find out or undo them."""
        ids = [
            row[0]
            for row in self._conn.execute(
                "SELECT payment_id FROM payments WHERE state = ? ORDER BY created_at",
                (PaymentState.AUTHORISING.value,),
            )
        ]
        return [row for row in map(self.payment, ids) if row is not None]

    def due_reversals(self) -> list[DueReversal]:
        rows = self._conn.execute(
            "SELECT payment_id, stan, transmitted_at, amount_minor, reason FROM reversals"
            " WHERE state = ? ORDER BY rowid",
            (ReversalState.DUE.value,),
        ).fetchall()
        return [DueReversal(r[0], r[1], datetime.fromisoformat(r[2]), r[3], r[4]) for r in rows]

    def reversal_failed(self, payment_id: str, error: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE reversals SET attempts = attempts + 1, last_error = ? WHERE payment_id = ?",
                (error, payment_id),
            )

    def reversal_acknowledged(self, payment_id: str, message: Message, now: datetime) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE reversals SET state = ?, attempts = attempts + 1, last_error = NULL"
                " WHERE payment_id = ?",
                (ReversalState.ACKNOWLEDGED.value, payment_id),
            )
            db.execute(
                "UPDATE payments SET state = ?, message = ?, updated_at = ? WHERE payment_id = ?",
                (PaymentState.REVERSED.value, encode_message(message), now.isoformat(), payment_id),
            )

    def reversal_state(self, payment_id: str) -> ReversalState | None:
        row = self._conn.execute(
            "SELECT state FROM reversals WHERE payment_id = ?", (payment_id,)
        ).fetchone()
        return None if row is None else ReversalState(row[0])

    # --- outbox ------------------------------------------------------------------------------

    def approve_and_queue(
        self, payment_id: str, envelope: bytes, now: datetime, **fields: Any
    ) -> None:
        """The payment stands: one transaction marks it approved, disarms its reversal and
        queues its signed report (message id = payment id), so none happens without the
        others."""
        with self._transaction() as db:
            db.execute(
                "UPDATE reversals SET state = ? WHERE payment_id = ? AND state = ?",
                (ReversalState.DISARMED.value, payment_id, ReversalState.ARMED.value),
            )
            _update_payment(db, payment_id, PaymentState.APPROVED, now, fields)
            db.execute(
                "INSERT OR IGNORE INTO outbox (message_id, envelope, created_at) VALUES (?, ?, ?)",
                (payment_id, envelope, now.isoformat()),
            )

    def undelivered(self) -> list[tuple[str, bytes]]:
        return [
            (row[0], bytes(row[1]))
            for row in self._conn.execute(
                "SELECT message_id, envelope FROM outbox WHERE delivered_at IS NULL"
                " ORDER BY created_at"
            )
        ]

    def delivered(self, message_id: str, now: datetime) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1 WHERE message_id = ?",
                (now.isoformat(), message_id),
            )

    def delivery_failed(self, message_id: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1 WHERE message_id = ?", (message_id,)
            )


_PAYMENT_DETAILS = frozenset(
    {"stan", "masked_pan", "scheme", "aid", "approval_code", "rrn", "paid_at", "message"}
)


def _update_payment(
    db: sqlite3.Connection,
    payment_id: str,
    state: PaymentState,
    now: datetime,
    fields: dict[str, Any],
) -> None:
    unknown = set(fields) - _PAYMENT_DETAILS
    if unknown:
        raise ValueError(f"the journal has no payment fields {sorted(unknown)}")
    if "message" in fields:
        fields = {**fields, "message": encode_message(fields["message"])}
    columns = "".join(f", {name} = ?" for name in fields)  # names checked above
    db.execute(
        f"UPDATE payments SET state = ?, updated_at = ?{columns} WHERE payment_id = ?",
        (state.value, now.isoformat(), *fields.values(), payment_id),
    )
