"""Appeals over the store: filing one (with its attachments' records), deciding it, and the
case's row changed by the decision, each with its ledger entry, inside the caller's write
transaction (``Store.transaction``). The rules are core/appeals.py's; the database repeats the
ones that must hold whatever code writes (store/appeal_schema.py).

Every step is a ledger entry about the case (entity ``case``), so the case's history, the
prosecutor's proofs and the console's timeline show the appeal where they show the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from central_ingest.core.appeals import (
    AppealChannel,
    AppealDecision,
    AppealRuling,
    AttachmentType,
    ForceDates,
)
from central_ingest.core.cases import CaseStatus
from central_ingest.core.clock import iso
from central_ingest.core.errors import Conflict, NotFound
from central_ingest.core.fines import FineAssessment
from central_ingest.store.case_status import case_entry, set_case_status
from central_ingest.store.db import Database
from central_ingest.store.rows import all_rows, one_row
from i18n.text import Text


@dataclass(frozen=True)
class AttachmentRecord:
    """A file already stored (content-addressed) that the appeal names."""

    sha256: str
    file_name: str
    content_type: AttachmentType
    size_bytes: int


@dataclass(frozen=True)
class AmendedTerms:
    assessment: FineAssessment
    fine_minor: int


def appeal_of_case(db: Database, case_number: str) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM appeals WHERE case_number = ?", (case_number,))


def appeal_row(db: Database, appeal_id: int) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM appeals WHERE appeal_id = ?", (appeal_id,))


def require_appeal(db: Database, appeal_id: int) -> dict[str, Any]:
    row = appeal_row(db, appeal_id)
    if row is None:
        raise NotFound("appeal_not_found", Text("There is no appeal %(appeal)s.", appeal=appeal_id))
    return row


def open_appeal_rows(db: Database, limit: int) -> list[dict[str, Any]]:
    """Appeals waiting for a decision, oldest first (the supervisors' list)."""
    return all_rows(
        db,
        "SELECT a.*, c.plate, c.article, c.part, c.fine_minor, c.status AS case_status"
        " FROM appeals a JOIN cases c ON c.case_number = a.case_number"
        " WHERE a.status = 'open' ORDER BY a.filed_at, a.appeal_id LIMIT ?",
        (limit,),
    )


def attachment_rows(db: Database, appeal_id: int) -> list[dict[str, Any]]:
    return all_rows(
        db,
        "SELECT * FROM appeal_attachments WHERE appeal_id = ? ORDER BY position",
        (appeal_id,),
    )


def _touch_case(db: Database, case_number: str, status: CaseStatus, at: str) -> None:
    """Take the case's row (PostgreSQL's row lock: a hand-over of it waits for this
    transaction, then sees the appeal) and check it is still in the status the rules read."""
    cursor = db.conn.execute(
        "UPDATE cases SET updated_at = ? WHERE case_number = ? AND status = ?",
        (at, case_number, status.value),
    )
    if cursor.rowcount != 1:
        raise Conflict(
            "case_changed",
            Text(
                "Case %(case)s changed while the appeal was being filed; look at it again.",
                case=case_number,
            ),
        )


def file_appeal(
    db: Database,
    case: dict[str, Any],
    *,
    text: str,
    channel: AppealChannel,
    due: datetime,
    attachments: Sequence[AttachmentRecord],
    now: datetime,
) -> int:
    """Record an appeal the rules accepted; returns its id."""
    at = iso(now)
    case_number = case["case_number"]
    status = CaseStatus(case["status"])
    _touch_case(db, case_number, status, at)
    appeal_id = int(
        db.conn.execute(
            "INSERT INTO appeals (case_number, filed_at, due_at, channel, text)"
            " VALUES (?, ?, ?, ?, ?) RETURNING appeal_id",
            (case_number, at, iso(due), channel.value, text),
        ).fetchone()[0]
    )
    for position, item in enumerate(attachments, start=1):
        db.conn.execute(
            "INSERT INTO appeal_attachments (appeal_id, position, sha256, file_name,"
            " content_type, size_bytes, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                appeal_id,
                position,
                item.sha256,
                item.file_name,
                item.content_type.value,
                item.size_bytes,
                at,
            ),
        )
    case_entry(
        db,
        case_number=case_number,
        status=status,
        paid_minor=int(case["paid_minor"]),
        action="appeal_filed",
        actor=f"driver:{channel.value}",
        at=at,
        appeal_id=appeal_id,
        due_at=iso(due),
        # The driver's words stay in the appeal's row; the ledger fixes them by their hash.
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        attachments=[
            {
                "sha256": item.sha256,
                "content_type": item.content_type.value,
                "size": item.size_bytes,
            }
            for item in attachments
        ],
    )
    return appeal_id


def decide_appeal(
    db: Database,
    appeal: dict[str, Any],
    case: dict[str, Any],
    decision: AppealRuling,
    *,
    decided_by: str,
    dates: ForceDates,
    amended: AmendedTerms | None,
    now: datetime,
) -> CaseStatus:
    """Close the appeal with ``decision`` and apply it to the case; returns the case's status.
    The appeal is closed first: the database refuses the case's new dates while it is open."""
    at = iso(now)
    appeal_id = int(appeal["appeal_id"])
    case_number = case["case_number"]
    cursor = db.conn.execute(
        "UPDATE appeals SET status = 'decided', decided_at = ?, decided_by = ?, decided_as = ?,"
        " court_reference = ?, decision = ?, decision_note = ?, amended_article = ?,"
        " amended_part = ?, amended_fine_minor = ? WHERE appeal_id = ? AND status = 'open'",
        (
            at,
            decided_by,
            decision.decided_as.value,
            decision.court_reference,
            decision.decision.value,
            decision.note or None,
            None if amended is None else amended.assessment.article,
            None if amended is None else amended.assessment.part,
            None if amended is None else amended.fine_minor,
            appeal_id,
        ),
    )
    if cursor.rowcount != 1:
        raise Conflict(
            "appeal_already_decided",
            Text(
                "Appeal %(appeal)s has already been decided; a decision is final.", appeal=appeal_id
            ),
        )
    status = CaseStatus(case["status"])
    paid_minor = int(case["paid_minor"])
    details: dict[str, Any] = {}
    if decision.decision is AppealDecision.CANCELLED:
        set_case_status(
            db,
            case_number,
            expected=status,
            status=CaseStatus.CANCELLED,
            paid_minor=paid_minor,
            at=at,
        )
        status = CaseStatus.CANCELLED
    elif not status.closed:
        db.conn.execute(
            "UPDATE cases SET entry_into_force = ?, voluntary_deadline = ?, limitation_at = ?,"
            " updated_at = ? WHERE case_number = ?",
            (
                iso(dates.entry_into_force),
                iso(dates.voluntary_deadline),
                iso(dates.limitation_at),
                at,
                case_number,
            ),
        )
        details["entry_into_force"] = iso(dates.entry_into_force)
        details["voluntary_deadline"] = iso(dates.voluntary_deadline)
        details["limitation_at"] = iso(dates.limitation_at)
    if amended is not None:
        db.conn.execute(
            "UPDATE cases SET article = ?, part = ?, fine_mrp = ?, fine_minor = ?"
            " WHERE case_number = ?",
            (
                amended.assessment.article,
                amended.assessment.part,
                amended.assessment.fine_mrp,
                amended.fine_minor,
                case_number,
            ),
        )
        details["amended_from"] = {
            "article": case["article"],
            "part": case["part"],
            "fine_minor": int(case["fine_minor"]),
        }
        details["amended_to"] = {
            "article": amended.assessment.article,
            "part": amended.assessment.part,
            "fine_mrp": amended.assessment.fine_mrp,
            "fine_minor": amended.fine_minor,
        }
    case_entry(
        db,
        case_number=case_number,
        status=status,
        paid_minor=paid_minor,
        action="appeal_decided",
        actor=decided_by,
        at=at,
        appeal_id=appeal_id,
        decision=decision.decision.value,
        decided_as=decision.decided_as.value,
        court_reference=decision.court_reference,
        **details,
    )
    return status
