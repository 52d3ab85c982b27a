"""Fixations over SQLite: the review queue, a fixation's row and evidence, and the officer's
rejection. (The confirmation opens a case: ``store.case_opening``.)

Functions that write run inside the caller's write transaction (``Store.transaction``) and
append their ledger entry in it; the readers take any handle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from central_ingest.core import cases as rules
from central_ingest.core.cases import FixationStatus, Rejection
from central_ingest.core.clock import iso
from central_ingest.core.errors import NotFound
from central_ingest.store.db import Database
from central_ingest.store.ledger import append_entry
from central_ingest.store.rows import one_row
from i18n.text import Text


def fixation_row(db: Database, fixation_id: str) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM fixations WHERE fixation_id = ?", (fixation_id,))


def require_fixation(db: Database, fixation_id: str) -> dict[str, Any]:
    row = fixation_row(db, fixation_id)
    if row is None:
        raise NotFound(
            "fixation_not_found", Text("There is no fixation %(fixation)s.", fixation=fixation_id)
        )
    return row


def pending_fixation(db: Database, fixation_id: str) -> dict[str, Any]:
    """The fixation, refused unless it still awaits an officer's decision."""
    row = require_fixation(db, fixation_id)
    rules.require_awaiting_review(fixation_id, FixationStatus(row["status"]))
    return row


def fixation_evidence(db: Database, fixation_id: str) -> list[tuple[str, str]]:
    """(role, sha256) of each evidence image, full frame first."""
    rows = db.conn.execute(
        "SELECT role, sha256 FROM fixation_evidence WHERE fixation_id = ?"
        " ORDER BY CASE role WHEN 'full_frame' THEN 0 WHEN 'plate_crop' THEN 1 ELSE 2 END, sha256",
        (fixation_id,),
    ).fetchall()
    return [(str(role), str(sha256)) for role, sha256 in rows]


def case_number_of_fixation(db: Database, fixation_id: str) -> str | None:
    row = db.conn.execute(
        "SELECT case_number FROM cases WHERE fixation_id = ?", (fixation_id,)
    ).fetchone()
    return None if row is None else str(row[0])


# --- the review queue ------------------------------------------------------------------------


def review_queue_size(db: Database) -> int:
    (count,) = db.conn.execute(
        "SELECT count(*) FROM fixations WHERE status = 'awaiting_review'"
    ).fetchone()
    return int(count)


def oldest_awaiting_review(db: Database, excluding: Sequence[str]) -> dict[str, Any] | None:
    """The fixation that has waited longest, leaving out the ids given."""
    marks = ",".join("?" * len(excluding))
    exclusion = f" AND fixation_id NOT IN ({marks})" if excluding else ""
    return one_row(
        db,
        "SELECT * FROM fixations WHERE status = 'awaiting_review'"
        f"{exclusion} ORDER BY received_at, fixation_id LIMIT 1",
        excluding,
    )


# --- rejection -------------------------------------------------------------------------------


def reject_fixation(db: Database, fixation_id: str, decision: Rejection, now: datetime) -> None:
    pending_fixation(db, fixation_id)
    at = iso(now)
    db.conn.execute(
        "UPDATE fixations SET status = 'rejected', decided_at = ?, decided_by = ?,"
        " reject_reason = ?, decision_note = ?, seconds_spent = ? WHERE fixation_id = ?",
        (
            at,
            decision.officer,
            decision.reason.value,
            decision.note or None,
            decision.seconds_spent,
            fixation_id,
        ),
    )
    append_entry(
        db,
        recorded_at=at,
        entity_type="fixation",
        entity_id=fixation_id,
        action="rejected",
        actor=f"officer:{decision.officer}",
        payload={
            "status": FixationStatus.REJECTED.value,
            "officer": decision.officer,
            "reason": decision.reason.value,
            "note": decision.note,
            "seconds_spent": decision.seconds_spent,
        },
    )
