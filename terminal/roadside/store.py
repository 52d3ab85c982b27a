"""The roadside journal: protocol number blocks, signed protocols, their printing and the reports
waiting for the registry, in the terminal's SQLite file (``localdb.open_sqlite``,
synchronous=FULL: a protocol handed to the driver must survive a power cut).

Numbers: a block the registry issued is kept with the next unused number. The protocol is
signed with the number ``next_number`` offers; ``record_signed`` then, in ONE transaction,
moves the block past that number (only if it is still the next one) and journals the signed
protocol. So a number is used once whatever happens: a protocol that was never journalled (the
token pulled, the power cut before the commit) leaves its number free and nobody saw it; a
journalled one has moved the block on, across restarts.

The outgoing order is the journal's: each protocol (its message id is the protocol id, so a
resend is a duplicate at the registry), then the payments taken for it, then the next protocol.
The payment's report is never sent before its protocol, whose case it pays.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from contract import SignedEnvelope
from contract.roadside import (
    ProtocolNumberBlock,
    SignedRoadsideProtocol,
    format_protocol_number,
)
from localdb import open_sqlite, write_transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS roadside_blocks (
    prefix TEXT NOT NULL,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL,
    next INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    PRIMARY KEY (prefix, first),
    CHECK (first <= next AND next <= last + 1)
);
CREATE TABLE IF NOT EXISTS roadside_protocols (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    protocol_id TEXT NOT NULL UNIQUE,
    protocol_number TEXT NOT NULL UNIQUE,
    envelope BLOB NOT NULL,
    journalled_at TEXT NOT NULL,
    language TEXT NOT NULL,
    printed_at TEXT,
    print_attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TEXT,
    send_status TEXT,
    send_attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS roadside_payments (
    payment_id TEXT PRIMARY KEY,
    protocol_id TEXT NOT NULL REFERENCES roadside_protocols (protocol_id),
    envelope BLOB NOT NULL,
    queued_at TEXT NOT NULL,
    sent_at TEXT,
    send_status TEXT,
    send_attempts INTEGER NOT NULL DEFAULT 0
);
"""


class NumberTaken(RuntimeError):
    """The number offered was used meanwhile (another writer): sign again with a new one."""


@dataclass(frozen=True)
class NumberSlot:
    prefix: str
    first: int  # the block's key
    n: int
    number: str


@dataclass(frozen=True)
class JournalledProtocol:
    seq: int
    protocol_id: str
    envelope: SignedEnvelope
    language: str
    printed_at: str | None
    sent_at: str | None
    send_status: str | None

    @property
    def signed(self) -> SignedRoadsideProtocol:
        return SignedRoadsideProtocol.model_validate(self.envelope.body)

    @property
    def number(self) -> str:
        return self.signed.protocol.protocol_number


@dataclass(frozen=True)
class Outgoing:
    """A message waiting for the registry: ``kind`` is "protocol" or "payment"."""

    kind: str
    message_id: str
    protocol_id: str
    envelope: bytes


class RoadsideStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = open_sqlite(path, synchronous="FULL")
        self._lock = threading.RLock()
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._conn, self._lock)

    # --- numbers -----------------------------------------------------------------------------

    def add_block(self, block: ProtocolNumberBlock) -> bool:
        """Keep a block the registry issued; False when it is already kept (a repeated answer)."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO roadside_blocks (prefix, first, last, next, device_id,"
                " issued_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    block.prefix,
                    block.first,
                    block.last,
                    block.first,
                    block.device_id,
                    block.issued_at.isoformat(),
                ),
            )
            return cursor.rowcount == 1

    def remaining(self) -> int:
        (left,) = self._conn.execute(
            "SELECT COALESCE(SUM(last - next + 1), 0) FROM roadside_blocks"
        ).fetchone()
        return int(left)

    def next_number(self) -> NumberSlot | None:
        """The number the next protocol gets (the oldest block first); None when none is left."""
        row = self._conn.execute(
            "SELECT prefix, first, next FROM roadside_blocks WHERE next <= last"
            " ORDER BY issued_at, prefix, first LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        prefix, first, n = row
        return NumberSlot(prefix, first, n, format_protocol_number(prefix, n))

    # --- protocols ---------------------------------------------------------------------------

    def record_signed(
        self,
        slot: NumberSlot,
        envelope: SignedEnvelope,
        envelope_bytes: bytes,
        language: str,
        now: datetime,
    ) -> None:
        """Consume the number and journal the signed protocol, in one transaction."""
        body = SignedRoadsideProtocol.model_validate(envelope.body)
        if body.protocol.protocol_number != slot.number:
            raise ValueError("the protocol was signed with another number than the slot's")
        with self._transaction() as db:
            moved = db.execute(
                "UPDATE roadside_blocks SET next = next + 1"
                " WHERE prefix = ? AND first = ? AND next = ?",
                (slot.prefix, slot.first, slot.n),
            )
            if moved.rowcount != 1:
                raise NumberTaken(slot.number)
            db.execute(
                "INSERT INTO roadside_protocols (protocol_id, protocol_number, envelope,"
                " journalled_at, language) VALUES (?, ?, ?, ?, ?)",
                (
                    str(body.protocol.protocol_id),
                    slot.number,
                    envelope_bytes,
                    now.isoformat(),
                    language,
                ),
            )

    def protocol(self, protocol_id: str) -> JournalledProtocol | None:
        rows = self._protocols("WHERE protocol_id = ?", (protocol_id,))
        return rows[0] if rows else None

    def protocol_by_number(self, number: str) -> JournalledProtocol | None:
        rows = self._protocols("WHERE protocol_number = ?", (number,))
        return rows[0] if rows else None

    def protocols(self) -> list[JournalledProtocol]:
        return self._protocols("", ())

    def _protocols(self, where: str, params: tuple[object, ...]) -> list[JournalledProtocol]:
        rows = self._conn.execute(
            "SELECT seq, protocol_id, envelope, language, printed_at, sent_at, send_status"
            f" FROM roadside_protocols {where} ORDER BY seq",
            params,
        ).fetchall()
        return [
            JournalledProtocol(
                seq=r[0],
                protocol_id=r[1],
                envelope=SignedEnvelope.model_validate_json(bytes(r[2])),
                language=r[3],
                printed_at=r[4],
                sent_at=r[5],
                send_status=r[6],
            )
            for r in rows
        ]

    def printed(self, protocol_id: str, now: datetime) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE roadside_protocols SET printed_at = ?, print_attempts = print_attempts + 1"
                " WHERE protocol_id = ?",
                (now.isoformat(), protocol_id),
            )

    def print_failed(self, protocol_id: str, error: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE roadside_protocols SET print_attempts = print_attempts + 1,"
                " last_error = ? WHERE protocol_id = ?",
                (error, protocol_id),
            )

    def unprinted(self) -> list[JournalledProtocol]:
        return self._protocols("WHERE printed_at IS NULL", ())

    # --- payments ----------------------------------------------------------------------------

    def queue_payment(
        self, payment_id: str, protocol_id: str, envelope: bytes, now: datetime
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO roadside_payments (payment_id, protocol_id, envelope,"
                " queued_at) VALUES (?, ?, ?, ?)",
                (payment_id, protocol_id, envelope, now.isoformat()),
            )

    def queued_payment(self, payment_id: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM roadside_payments WHERE payment_id = ?", (payment_id,)
        ).fetchone()
        return row is not None

    # --- the way to the registry -------------------------------------------------------------

    def outgoing(self) -> list[Outgoing]:
        """What is still to be sent, in the order it must arrive. The payments of a protocol the
        registry refused wait: their case does not exist there, and an officer must look."""
        rows = self._conn.execute(
            "SELECT 'protocol', p.protocol_id, p.protocol_id, p.envelope, p.seq, 0, ''"
            " FROM roadside_protocols p WHERE p.sent_at IS NULL"
            " UNION ALL"
            " SELECT 'payment', m.payment_id, m.protocol_id, m.envelope, p.seq, 1, m.queued_at"
            " FROM roadside_payments m JOIN roadside_protocols p USING (protocol_id)"
            " WHERE m.sent_at IS NULL AND p.send_status IS NOT 'rejected'"
            " ORDER BY 5, 6, 7"
        ).fetchall()
        return [Outgoing(r[0], r[1], r[2], bytes(r[3])) for r in rows]

    def sent(self, item: Outgoing, status: str, now: datetime) -> None:
        table, key = (
            ("roadside_protocols", "protocol_id")
            if item.kind == "protocol"
            else ("roadside_payments", "payment_id")
        )
        with self._transaction() as db:
            db.execute(
                f"UPDATE {table} SET sent_at = ?, send_status = ?,"  # names fixed above
                f" send_attempts = send_attempts + 1 WHERE {key} = ?",
                (now.isoformat(), status, item.message_id),
            )

    def send_failed(self, item: Outgoing, error: str) -> None:
        with self._transaction() as db:
            if item.kind == "protocol":
                db.execute(
                    "UPDATE roadside_protocols SET send_attempts = send_attempts + 1,"
                    " last_error = ? WHERE protocol_id = ?",
                    (error, item.message_id),
                )
            else:
                db.execute(
                    "UPDATE roadside_payments SET send_attempts = send_attempts + 1"
                    " WHERE payment_id = ?",
                    (item.message_id,),
                )
