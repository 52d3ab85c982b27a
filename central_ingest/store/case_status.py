"""How a case changes: its row moved from the status the caller read to the next one, and the
ledger entry recording the change, both inside the caller's write transaction. Payments,
hand-overs, expiry and cancellations all go through these two functions (the opening writes
the row itself and records it with ``case_entry``)."""

from __future__ import annotations

from typing import Any

from central_ingest.core.cases import CaseStatus
from central_ingest.core.errors import Conflict
from central_ingest.store.db import Database
from central_ingest.store.ledger import append_entry
from i18n.text import Text


def case_entry(
    db: Database,
    *,
    case_number: str,
    status: CaseStatus,
    paid_minor: int,
    action: str,
    actor: str,
    at: str,
    **details: Any,
) -> None:
    append_entry(
        db,
        recorded_at=at,
        entity_type="case",
        entity_id=case_number,
        action=action,
        actor=actor,
        payload={"status": status.value, "paid_minor": paid_minor, **details},
    )


def set_case_status(
    db: Database,
    case_number: str,
    *,
    expected: CaseStatus,
    status: CaseStatus,
    paid_minor: int,
    at: str,
) -> None:
    """Move the case from ``expected`` to ``status``; refused if it is no longer in
    ``expected`` (it changed since the caller read it)."""
    cursor = db.conn.execute(
        "UPDATE cases SET status = ?, paid_minor = ?, updated_at = ?"
        " WHERE case_number = ? AND status = ?",
        (status.value, paid_minor, at, case_number, expected.value),
    )
    if cursor.rowcount != 1:
        raise Conflict(
            "case_changed",
            Text(
                "Case %(case)s changed while it was being updated; look at it again.",
                case=case_number,
            ),
        )
