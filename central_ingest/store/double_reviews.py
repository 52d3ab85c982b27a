"""Double review over SQLite: a random sample of confirmations is reviewed a second time, blind,
by another officer; the verdict is recorded beside the first decision and in the ledger.

A second verdict that disagrees does not undo anything by itself: a confirmed fixation is final
and its case is open. It files a cancellation request in the second officer's name, which a
supervisor (a third person) then approves or denies, as for any cancellation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from central_ingest.core.cases import FixationStatus, RejectReason
from central_ingest.core.clock import iso
from central_ingest.core.errors import Conflict, Forbidden, NotFound
from central_ingest.store.cancellations import request_cancellation
from central_ingest.store.db import Database, Store
from central_ingest.store.fixations import require_fixation
from central_ingest.store.ledger import append_entry
from central_ingest.store.sqlite_db import SqliteStore
from i18n.text import Text

DDL = """
CREATE TABLE IF NOT EXISTS double_reviews (
    fixation_id TEXT PRIMARY KEY REFERENCES fixations(fixation_id),
    case_number TEXT NOT NULL REFERENCES cases(case_number),
    first_officer TEXT NOT NULL REFERENCES operators(username),
    first_plate TEXT NOT NULL,
    sampled_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    second_officer TEXT REFERENCES operators(username),
    verdict TEXT CHECK (verdict IN ('confirmed', 'rejected')),
    second_plate TEXT,
    reject_reason TEXT,
    note TEXT,
    agrees INTEGER,
    seconds_spent REAL,
    reviewed_at TEXT,
    cancellation_request_id INTEGER REFERENCES cancellation_requests(request_id),
    CHECK (second_officer IS NULL OR second_officer != first_officer),
    CHECK (status = 'pending' OR (second_officer IS NOT NULL AND verdict IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS double_reviews_queue ON double_reviews(status, sampled_at);
CREATE INDEX IF NOT EXISTS double_reviews_first ON double_reviews(first_officer, status);
CREATE TRIGGER IF NOT EXISTS double_review_decided_once BEFORE UPDATE ON double_reviews
WHEN OLD.status != 'pending'
BEGIN SELECT RAISE(ABORT, 'a double review is decided once'); END;
"""


def ensure_schema(store: Store) -> None:
    """SQLite creates the table at start-up; PostgreSQL's is made by its migrations."""
    if isinstance(store, SqliteStore):
        store.db.conn.executescript(DDL)


@dataclass(frozen=True)
class SecondVerdict:
    """The second officer's blind verdict: confirmed with the plate they read, or rejected."""

    officer: str
    confirmed: bool
    plate: str | None
    reject_reason: RejectReason | None
    note: str
    seconds_spent: float


def agrees(first_plate: str, verdict: SecondVerdict) -> bool:
    """The second officer agrees when they too confirm, against the same vehicle."""
    return verdict.confirmed and verdict.plate == first_plate


def sample(db: Database, fixation_id: str, case_number: str, now: datetime) -> None:
    """Put a just-confirmed fixation in the double-review queue."""
    row = require_fixation(db, fixation_id)
    if row["status"] != FixationStatus.CONFIRMED.value:
        raise Conflict(
            "not_confirmed", Text("Fixation %(fixation)s is not confirmed.", fixation=fixation_id)
        )
    db.conn.execute(
        "INSERT INTO double_reviews (fixation_id, case_number, first_officer, first_plate,"
        " sampled_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(fixation_id) DO NOTHING",
        (
            fixation_id,
            case_number,
            row["decided_by"],
            row["corrected_plate"] or row["plate_text"],
            iso(now),
        ),
    )


def oldest_pending(db: Database, officer: str, excluding: Sequence[str]) -> str | None:
    """The oldest sample waiting for a second officer other than the one who confirmed it."""
    marks = ",".join("?" * len(excluding))
    exclusion = f" AND fixation_id NOT IN ({marks})" if excluding else ""
    row = db.conn.execute(
        "SELECT fixation_id FROM double_reviews WHERE status = 'pending' AND first_officer != ?"
        f"{exclusion} ORDER BY sampled_at, fixation_id LIMIT 1",
        (officer, *excluding),
    ).fetchone()
    return None if row is None else str(row[0])


def pending_row(db: Database, fixation_id: str) -> dict[str, Any] | None:
    cursor = db.conn.execute(
        "SELECT fixation_id, case_number, first_officer, first_plate, status"
        " FROM double_reviews WHERE fixation_id = ?",
        (fixation_id,),
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip((column[0] for column in cursor.description), row, strict=True))


def record_verdict(
    db: Database, fixation_id: str, verdict: SecondVerdict, now: datetime
) -> tuple[bool, int | None]:
    """Record the second verdict (in the caller's transaction); returns whether it agrees and
    the cancellation request it filed, if any."""
    row = pending_row(db, fixation_id)
    if row is None:
        raise NotFound(
            "double_review_not_found",
            Text(
                "Fixation %(fixation)s was not sampled for a second review.", fixation=fixation_id
            ),
        )
    if row["status"] != "pending":
        raise Conflict(
            "double_review_done",
            Text("Fixation %(fixation)s has already had its second review.", fixation=fixation_id),
        )
    if row["first_officer"] == verdict.officer:
        raise Forbidden(
            "own_decision",
            Text(
                "%(officer)s confirmed fixation %(fixation)s: the second review is another"
                " officer's.",
                officer=verdict.officer,
                fixation=fixation_id,
            ),
        )
    agreed = agrees(row["first_plate"], verdict)
    at = iso(now)
    request_id = None if agreed else _file_cancellation(db, row, verdict, now)
    db.conn.execute(
        "UPDATE double_reviews SET status = 'done', second_officer = ?, verdict = ?,"
        " second_plate = ?, reject_reason = ?, note = ?, agrees = ?, seconds_spent = ?,"
        " reviewed_at = ?, cancellation_request_id = ? WHERE fixation_id = ?",
        (
            verdict.officer,
            "confirmed" if verdict.confirmed else "rejected",
            verdict.plate,
            None if verdict.reject_reason is None else verdict.reject_reason.value,
            verdict.note or None,
            int(agreed),
            verdict.seconds_spent,
            at,
            request_id,
            fixation_id,
        ),
    )
    append_entry(
        db,
        recorded_at=at,
        entity_type="fixation",
        entity_id=fixation_id,
        action="double_reviewed",
        actor=f"officer:{verdict.officer}",
        payload={
            # The fixation itself stays confirmed: the verifier compares this with its row.
            "status": FixationStatus.CONFIRMED.value,
            "officer": verdict.officer,
            "first_officer": row["first_officer"],
            "verdict": "confirmed" if verdict.confirmed else "rejected",
            "plate": verdict.plate,
            "reject_reason": None if verdict.reject_reason is None else verdict.reject_reason.value,
            "note": verdict.note,
            "agrees": agreed,
            "seconds_spent": verdict.seconds_spent,
            "cancellation_request_id": request_id,
        },
    )
    return agreed, request_id


def _file_cancellation(
    db: Database, row: dict[str, Any], verdict: SecondVerdict, now: datetime
) -> int | None:
    if verdict.confirmed:
        why = f"plate read as {verdict.plate}, not {row['first_plate']}"
    else:
        reason = verdict.reject_reason or RejectReason.OTHER
        why = f"rejected: {reason.value.replace('_', ' ')}"
        if verdict.note:
            why += f" ({verdict.note})"
    reason_text = f"Blind double review by {verdict.officer} disagrees: {why}"
    try:
        with db.atomic():
            return request_cancellation(db, row["case_number"], verdict.officer, reason_text, now)
    except Conflict:
        # The case is closed (paid, expired) or a request is already waiting: the
        # disagreement stays on record for the supervisor and the prosecutor all the same.
        return None
