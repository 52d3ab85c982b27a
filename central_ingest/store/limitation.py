"""The enforcement limitation over SQLite: cases whose limitation is near, for the report, and
the expiry of those whose limitation is reached (recalled from the bailiffs if handed over).
The expiry runs inside the caller's write transaction, one ledger entry per change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from central_ingest.core import cases as rules
from central_ingest.core.cases import CaseStatus
from central_ingest.core.clock import iso
from central_ingest.store.bailiffs import Issuer, recall
from central_ingest.store.case_reads import case_state
from central_ingest.store.case_status import case_entry, set_case_status
from central_ingest.store.db import Database
from central_ingest.store.rows import all_rows

LIMITATION_ACTOR = "system:limitation"

_UNEXECUTED = tuple(status.value for status in CaseStatus if status.unexecuted)
_UNEXECUTED_MARKS = ",".join("?" * len(_UNEXECUTED))


def expire_limited(db: Database, issuer: Issuer, now: datetime, limit: int) -> list[str]:
    """Expire up to ``limit`` unexecuted cases whose limitation is reached; returns them."""
    at = iso(now)
    candidates = all_rows(
        db,
        f"SELECT * FROM cases WHERE status IN ({_UNEXECUTED_MARKS}) AND limitation_at <= ?"
        " ORDER BY limitation_at, case_number LIMIT ?",
        (*_UNEXECUTED, at, limit),
    )
    expired: list[str] = []
    for case in candidates:
        state = case_state(case)
        status = rules.expire(state, now)
        set_case_status(
            db,
            state.case_number,
            expected=state.status,
            status=status,
            paid_minor=state.paid_minor,
            at=at,
        )
        case_entry(
            db,
            case_number=state.case_number,
            status=status,
            paid_minor=state.paid_minor,
            action="expired",
            actor=LIMITATION_ACTOR,
            at=at,
        )
        reason = rules.recall_reason_on_close(state.status, status)
        if reason is not None:
            recall(
                db,
                state.case_number,
                reason,
                paid_minor=state.paid_minor,
                actor=LIMITATION_ACTOR,
                at=at,
                issuer=issuer,
            )
        expired.append(state.case_number)
    return expired


def limitation_candidates(db: Database, until: datetime) -> list[dict[str, Any]]:
    """Unexecuted cases whose limitation falls on or before ``until``, soonest first."""
    return all_rows(
        db,
        f"SELECT * FROM cases WHERE status IN ({_UNEXECUTED_MARKS}) AND limitation_at <= ?"
        " ORDER BY limitation_at, case_number",
        (*_UNEXECUTED, iso(until)),
    )
