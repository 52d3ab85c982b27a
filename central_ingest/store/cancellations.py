"""Cancellations over SQLite: an officer's request to cancel a case and a second officer's
decision (the schema refuses one person deciding their own request), with a recall to the
bailiffs when a case they hold is cancelled. Functions that write run inside the caller's
write transaction (``Store.transaction``), one ledger entry per change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from central_ingest.core import cases as rules
from central_ingest.core.cases import CancellationStatus, CaseStatus
from central_ingest.core.clock import iso
from central_ingest.core.errors import Conflict, NotFound
from central_ingest.store.bailiffs import Issuer, recall
from central_ingest.store.case_reads import require_case
from central_ingest.store.case_status import case_entry, set_case_status
from central_ingest.store.db import Database
from central_ingest.store.ledger import append_entry
from central_ingest.store.rows import all_rows, one_row
from i18n.text import Text

_CANCELLATION_SELECT = (
    "SELECT r.*, c.status AS case_status FROM cancellation_requests r"
    " JOIN cases c ON c.case_number = r.case_number"
)


def cancellation_not_found(request_id: int) -> NotFound:
    return NotFound(
        "cancellation_not_found",
        Text("There is no cancellation request %(request)s.", request=request_id),
    )


def cancellation_row(db: Database, request_id: int) -> dict[str, Any] | None:
    return one_row(db, f"{_CANCELLATION_SELECT} WHERE r.request_id = ?", (request_id,))


def pending_cancellation_rows(db: Database) -> list[dict[str, Any]]:
    return all_rows(
        db,
        f"{_CANCELLATION_SELECT} WHERE r.status = 'pending' ORDER BY r.requested_at, r.request_id",
        (),
    )


def request_cancellation(
    db: Database, case_number: str, officer: str, reason: str, now: datetime
) -> int:
    """Record a request to cancel a case; a second officer decides it. Returns its id."""
    case = require_case(db, case_number)
    text = rules.check_cancellation_request(case_number, CaseStatus(case["status"]), reason)
    pending = db.conn.execute(
        "SELECT request_id FROM cancellation_requests WHERE case_number = ? AND status = 'pending'",
        (case_number,),
    ).fetchone()
    if pending is not None:
        raise Conflict(
            "cancellation_pending",
            Text(
                "Case %(case)s already has cancellation request %(request)s waiting for a"
                " decision.",
                case=case_number,
                request=pending[0],
            ),
        )
    at = iso(now)
    request_id = int(
        db.conn.execute(
            "INSERT INTO cancellation_requests (case_number, requested_by, requested_at, reason)"
            " VALUES (?, ?, ?, ?) RETURNING request_id",
            (case_number, officer, at, text),
        ).fetchone()[0]
    )
    append_entry(
        db,
        recorded_at=at,
        entity_type="cancellation",
        entity_id=str(request_id),
        action="requested",
        actor=f"officer:{officer}",
        payload={
            "status": CancellationStatus.PENDING.value,
            "case_number": case_number,
            "reason": text,
        },
    )
    return request_id


def decide_cancellation(
    db: Database,
    request_id: int,
    supervisor: str,
    *,
    approve: bool,
    note: str,
    issuer: Issuer,
    now: datetime,
) -> None:
    request = cancellation_row(db, request_id)
    if request is None:
        raise cancellation_not_found(request_id)
    rules.check_cancellation_decision(
        request_id,
        request_status=CancellationStatus(request["status"]),
        requested_by=request["requested_by"],
        supervisor=supervisor,
    )
    case_number = request["case_number"]
    case_status = CaseStatus(request["case_status"])
    if approve:
        # The case may have been paid or expired since the request was made.
        rules.check_cancellation_request(case_number, case_status, request["reason"])
    decision = CancellationStatus.APPROVED if approve else CancellationStatus.DENIED
    at = iso(now)
    actor = f"officer:{supervisor}"
    db.conn.execute(
        "UPDATE cancellation_requests SET status = ?, decided_by = ?, decided_at = ?,"
        " decision_note = ? WHERE request_id = ?",
        (decision.value, supervisor, at, note.strip() or None, request_id),
    )
    append_entry(
        db,
        recorded_at=at,
        entity_type="cancellation",
        entity_id=str(request_id),
        action=decision.value,
        actor=actor,
        payload={
            "status": decision.value,
            "case_number": case_number,
            "requested_by": request["requested_by"],
            "note": note.strip(),
        },
    )
    if not approve:
        return
    case = require_case(db, case_number)
    paid_minor = int(case["paid_minor"])
    set_case_status(
        db,
        case_number,
        expected=case_status,
        status=CaseStatus.CANCELLED,
        paid_minor=paid_minor,
        at=at,
    )
    case_entry(
        db,
        case_number=case_number,
        status=CaseStatus.CANCELLED,
        paid_minor=paid_minor,
        action="cancelled",
        actor=actor,
        at=at,
        request_id=request_id,
        requested_by=request["requested_by"],
        reason=request["reason"],
    )
    reason = rules.recall_reason_on_close(case_status, CaseStatus.CANCELLED)
    if reason is not None:
        recall(db, case_number, reason, paid_minor=paid_minor, actor=actor, at=at, issuer=issuer)
