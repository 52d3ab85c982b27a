"""Registry rows written into PostgreSQL with plain SQL, as a script would: devices, officers,
fixations, cases, payments, bailiff hand-overs, cancellations, ledger entries. Every id carries
a random tag, so tests sharing one database never meet each other's rows. And the checks the
schema tests make with them: refused by a rule, denied for want of a privilege."""

from __future__ import annotations

import itertools
import sqlite3
import time
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg import errors

from central_ingest.core.clock import iso
from central_ingest.store import double_reviews
from central_ingest.store import schema as sqlite_schema


class Rows:
    def __init__(self, conn: psycopg.Connection[Any], now: datetime) -> None:
        self.conn = conn
        self.now = now
        self.tag = uuid4().hex[:10]
        self._numbers = itertools.count(1)
        self.camera = f"cam-{self.tag}"
        self.terminal = f"term-{self.tag}"
        self.reviewer = f"reviewer-{self.tag}"
        self.supervisor = f"supervisor-{self.tag}"
        for device, kind in ((self.camera, "camera"), (self.terminal, "terminal")):
            conn.execute(
                "INSERT INTO devices (device_id, kind, public_key, registered_at)"
                " VALUES (%s, %s, 'key', %s)",
                (device, kind, self.at()),
            )
        for username, role in ((self.reviewer, "reviewer"), (self.supervisor, "supervisor")):
            conn.execute(
                "INSERT INTO operators (username, display_name, role, password_hash, created_at)"
                " VALUES (%s, %s, %s, 'argon2', %s)",
                (username, username.title(), role, self.at()),
            )

    def at(self, days: float = 0) -> str:
        return iso(self.now + timedelta(days=days))

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{self.tag}-{next(self._numbers)}"

    def message(self, device: str, kind: str) -> str:
        message_id = self._id("msg")
        self.conn.execute(
            "INSERT INTO messages (message_id, device_id, kind, channel, received_at,"
            " envelope_sha256, envelope) VALUES (%s, %s, %s, 'mqtt', %s, 'sha', '{}')",
            (message_id, device, kind, self.at()),
        )
        return message_id

    def fixation(self) -> str:
        fixation_id = self._id("fix")
        self.conn.execute(
            "INSERT INTO fixations (fixation_id, message_id, device_id, sequence, captured_at,"
            " received_at, violation, plate_text, plate_confidence, plate_format, speed_kmh,"
            " limit_kmh, zone) VALUES (%s, %s, %s, 1, %s, %s, 'speeding', '123ABC01', 0.97,"
            " 'kz_2012', 92.5, 60, 'urban')",
            (fixation_id, self.message(self.camera, "fixation"), self.camera, self.at(), self.at()),
        )
        return fixation_id

    def confirm(self, fixation_id: str) -> None:
        self.conn.execute(
            "UPDATE fixations SET status = 'confirmed', decided_at = %s, decided_by = %s"
            " WHERE fixation_id = %s",
            (self.at(), self.reviewer, fixation_id),
        )

    def case(self, fixation_id: str | None = None, status: str = "open") -> str:
        """A case opened from a fixation (a new, confirmed one unless given)."""
        if fixation_id is None:
            fixation_id = self.fixation()
            self.confirm(fixation_id)
        case_number = self._id("KZ")
        self.conn.execute(
            "INSERT INTO cases (case_number, fixation_id, plate, violation, article, part,"
            " offence_at, mrp_kzt, fine_mrp, fine_minor, discount_percent, resolution_at,"
            " resolved_by, discount_deadline, entry_into_force, voluntary_deadline,"
            " limitation_at, status, updated_at) VALUES (%s, %s, '123ABC01', 'speeding', '592',"
            " '1', %s, 3932, 10, 3932000, 50, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                case_number,
                fixation_id,
                self.at(),
                self.at(),
                self.reviewer,
                self.at(7),
                self.at(10),
                self.at(40),
                self.at(375),
                status,
                self.at(),
            ),
        )
        return case_number

    def payment(self, case_number: str | None, amount_minor: int = 1_966_000) -> str:
        payment_id = self._id("pay")
        self.conn.execute(
            "INSERT INTO payments (payment_id, message_id, device_id, case_number, matched_case,"
            " amount_minor, currency, paid_at, received_at, channel, match_status)"
            " VALUES (%s, %s, %s, %s, %s, %s, 'KZT', %s, %s, 'terminal', 'settled')",
            (
                payment_id,
                self.message(self.terminal, "payment"),
                self.terminal,
                case_number or "unknown",
                case_number,
                amount_minor,
                self.at(),
                self.at(),
            ),
        )
        return payment_id

    def notice(self, case_number: str, *, delivered: bool = True) -> None:
        """The resolution's SMS to the driver, delivered (or failed): a hand-over needs the
        driver told (case_told_before_bailiffs)."""
        self.conn.execute(
            "INSERT INTO notifications (case_number, channel, recipient, body, language,"
            " created_at, next_attempt_at, status, sent_at, delivered_at)"
            " VALUES (%s, 'sms', '+77011234567', 'resolution', 'kk', %s, %s, %s, %s, %s)",
            (
                case_number,
                self.at(),
                self.at(),
                "sent" if delivered else "failed",
                self.at(),
                self.at() if delivered else None,
            ),
        )

    def to_bailiffs(self, case_number: str, *, told: bool = True) -> None:
        if told:
            self.notice(case_number)
        self.conn.execute(
            "UPDATE cases SET status = 'sent_to_bailiffs', updated_at = %s WHERE case_number = %s",
            (self.at(41), case_number),
        )

    def handover(self, case_number: str, kind: str = "handover") -> int:
        row = self.conn.execute(
            "INSERT INTO bailiff_handovers (case_number, kind, amount_minor, recorded_at,"
            " document) VALUES (%s, %s, 3932000, %s, '{}') RETURNING seq",
            (case_number, kind, self.at(41)),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def cancellation(self, case_number: str) -> int:
        row = self.conn.execute(
            "INSERT INTO cancellation_requests (case_number, requested_by, requested_at, reason)"
            " VALUES (%s, %s, %s, 'the plate was misread') RETURNING request_id",
            (case_number, self.reviewer, self.at(1)),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def decide(self, request_id: str | int, by: str, status: str = "approved") -> None:
        self.conn.execute(
            "UPDATE cancellation_requests SET status = %s, decided_by = %s, decided_at = %s"
            " WHERE request_id = %s",
            (status, by, self.at(2), request_id),
        )

    def ledger_entry(self) -> int:
        """An entry at the ledger's tail, with its Merkle leaf and a signed head over it."""
        row = self.conn.execute(
            "INSERT INTO ledger (seq, recorded_at, entity_type, entity_id, action, actor,"
            " payload, prev_hash, entry_hash, leaf_hash)"
            " SELECT coalesce(max(seq), 0) + 1, %s, 'fixation', %s, 'received', 'device:x',"
            " '{}', 'prev', %s, 'leaf' FROM ledger RETURNING seq",
            (self.at(), self._id("fix"), self._id("hash")),
        ).fetchone()
        assert row is not None
        seq = int(row[0])
        self.conn.execute(
            "INSERT INTO merkle_nodes (level, idx, hash) VALUES (0, %s, %s)",
            (seq - 1, b"\x00" * 32),
        )
        self.conn.execute(
            "INSERT INTO tree_heads (tree_size, root_hash, signed_at, key_id, signature)"
            " VALUES (%s, 'root', %s, 'key', 'signature')",
            (seq, self.at()),
        )
        return seq


def refused(conn: psycopg.Connection[Any], match: str, sql: str, *params: object) -> None:
    """The statement fails as an integrity violation naming ``match``; the transaction goes on
    (it ran in a savepoint)."""
    with pytest.raises(psycopg.IntegrityError, match=match) as caught, conn.transaction():
        conn.execute(sql, params)
    assert caught.value.sqlstate is not None and caught.value.sqlstate.startswith("23")


def denied(conn: psycopg.Connection[Any], sql: str) -> None:
    """The statement fails for want of a privilege; the transaction goes on."""
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied"), conn.transaction():
        conn.execute(sql)


def first_column(conn: psycopg.Connection[Any], table: str) -> str:
    """The first column a statement may name in SET (identity columns may not be set)."""
    row = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
        " AND attidentity = '' ORDER BY attnum LIMIT 1",
        (table,),
    ).fetchone()
    assert row is not None
    return str(row[0])


def catalog(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """Every relation of the schema: kind, privileges, owner, triggers, columns and types."""
    return conn.execute(
        "SELECT c.relname, c.relkind, c.relacl::text, pg_get_userbyid(c.relowner),"
        " (SELECT array_agg(tgname || ':' || tgfoid::regproc ORDER BY tgname) FROM pg_trigger t"
        "  WHERE t.tgrelid = c.oid AND NOT tgisinternal)::text,"
        " (SELECT array_agg(attname || ':' || atttypid::regtype ORDER BY attnum) FROM pg_attribute"
        "  WHERE attrelid = c.oid AND attnum > 0)::text"
        " FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace ORDER BY c.relname"
    ).fetchall()


def sqlite_twin() -> sqlite3.Connection:
    """The SQLite schema the PostgreSQL one mirrors, in memory."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(sqlite_schema.DDL)
    conn.executescript(double_reviews.DDL)
    return conn


def wait_until_blocked(conn: psycopg.Connection[Any], pid: int, timeout_s: float = 5.0) -> None:
    """Returns once backend ``pid`` waits for a lock; fails after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
        if row == ("Lock",):
            return
        time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a lock in {timeout_s} s")
