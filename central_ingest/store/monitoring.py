"""Read-only queries for monitoring, for the officers' queue and for the supervisors' view of
refused messages."""

from __future__ import annotations

import json
from typing import Any

from central_ingest.store.db import Database

_COUNTABLE = {"fixations": "status", "cases": "status"}


def status_counts(db: Database, table: str) -> dict[str, int]:
    """Rows of ``fixations`` or ``cases`` per status."""
    column = _COUNTABLE[table]
    rows = db.conn.execute(f"SELECT {column}, COUNT(*) FROM {table} GROUP BY {column}").fetchall()
    return {str(key): int(count) for key, count in rows}


BOX_OUTBOX_FIELDS = ("dead_letters", "evictions")


def box_outbox_counts(db: Database) -> dict[str, dict[str, int]]:
    """Per field of ``BOX_OUTBOX_FIELDS``, per device: what its latest status reported (the
    signed body is stored verbatim; devices whose status leaves the field out are absent)."""
    counts: dict[str, dict[str, int]] = {field: {} for field in BOX_OUTBOX_FIELDS}
    for device_id, body in db.conn.execute("SELECT device_id, body FROM device_status"):
        status = json.loads(body)
        for field in BOX_OUTBOX_FIELDS:
            value = status.get(field)
            if isinstance(value, int):
                counts[field][str(device_id)] = value
    return counts


def database_answers(db: Database) -> None:
    """A trivial query, for liveness: raises if the database cannot be read."""
    db.conn.execute("SELECT 1").fetchone()


def waiting_for_officer(db: Database, officer: str) -> int:
    """Fixations awaiting review, plus pending second reviews of other officers' decisions."""
    (waiting,) = db.conn.execute(
        "SELECT (SELECT count(*) FROM fixations WHERE status = 'awaiting_review')"
        " + (SELECT count(*) FROM double_reviews WHERE status = 'pending'"
        " AND first_officer != ?)",
        (officer,),
    ).fetchone()
    return int(waiting)


def dead_letters(
    db: Database,
    *,
    reason: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The newest refused messages first, without their payloads (which may be large or
    binary); page with ``before_id`` = the smallest id of the previous page."""
    clauses: list[str] = []
    params: list[str | int] = []
    if reason is not None:
        clauses.append("reason = ?")
        params.append(reason)
    if before_id is not None:
        clauses.append("dead_letter_id < ?")
        params.append(before_id)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return list(
        db.query(
            "SELECT dead_letter_id, received_at, channel, topic, device_id, message_id, reason,"
            " detail, retryable, length(payload) AS payload_bytes FROM dead_letters"
            f" {where} ORDER BY dead_letter_id DESC LIMIT ?",
            [*params, limit],
        )
    )
