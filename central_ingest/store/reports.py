"""Read-only queries behind the back-office reports (``central_ingest.reports``).

Each function returns the grouped counts of one aspect, as rows; ``central_ingest.reports`` adds
them up per plate, camera or officer and ranks the groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from central_ingest.store.db import Database

FixationGroup = Literal["plate", "camera"]
"""The dimensions along which fixations themselves are grouped."""

OfficerRole = Literal["requested_by", "decided_by"]
"""The two people involved in a cancellation: who asked for it and who decided it."""

# The plate of the vehicle as the officer established it: a corrected read wins over the camera's.
_GROUP_EXPRESSIONS: dict[FixationGroup, str] = {
    "plate": "COALESCE(NULLIF(f.corrected_plate, ''), f.plate_text)",
    "camera": "f.device_id",
}

_OFFICER_ROLES: frozenset[str] = frozenset(("requested_by", "decided_by"))

_FOLLOW_UP_COLUMNS = (
    "payment_id",
    "match_status",
    "case_number",
    "matched_case",
    "case_status",
    "amount_minor",
    "due_minor",
    "difference_minor",
    "paid_at",
    "received_at",
    "channel",
    "device_id",
    "rrn",
    "approval_code",
)

_DEAD_LETTER_COLUMNS = (
    "reason",
    "count",
    "retryable",
    "devices",
    "first_received_at",
    "last_received_at",
)


def _group_expression(group: FixationGroup) -> str:
    try:
        return _GROUP_EXPRESSIONS[group]
    except KeyError:
        raise ValueError(f"fixations cannot be grouped by {group!r}") from None


def _officer_column(role: OfficerRole) -> str:
    if role not in _OFFICER_ROLES:
        raise ValueError(f"{role!r} is not a role in a cancellation request")
    return role


# --- by plate or camera ----------------------------------------------------------------------


def fixation_outcomes(db: Database, group: FixationGroup) -> list[tuple[str, int, int, int]]:
    """(group, fixations, confirmed, rejected) for every group that has a fixation."""
    rows: list[tuple[str, int, int, int]] = db.conn.execute(
        f"SELECT {_group_expression(group)}, count(*),"
        " count(*) FILTER (WHERE f.status = 'confirmed'),"
        " count(*) FILTER (WHERE f.status = 'rejected') FROM fixations f GROUP BY 1"
    ).fetchall()
    return rows


def fixation_rejection_reasons(db: Database, group: FixationGroup) -> list[tuple[str, str, int]]:
    """(group, reject reason, rejected fixations)."""
    rows: list[tuple[str, str, int]] = db.conn.execute(
        f"SELECT {_group_expression(group)}, f.reject_reason, count(*) FROM fixations f"
        " WHERE f.status = 'rejected' GROUP BY 1, 2"
    ).fetchall()
    return rows


def cancelled_cases(db: Database, group: FixationGroup) -> list[tuple[str, int]]:
    """(group, cases cancelled by an approved request). A case counts once even if (against the
    rules) more than one request for it was approved."""
    rows: list[tuple[str, int]] = db.conn.execute(
        f"SELECT {_group_expression(group)}, count(DISTINCT c.case_number)"
        " FROM cancellation_requests r"
        " JOIN cases c ON c.case_number = r.case_number"
        " JOIN fixations f ON f.fixation_id = c.fixation_id"
        " WHERE r.status = 'approved' GROUP BY 1"
    ).fetchall()
    return rows


def cancellation_reasons(db: Database, group: FixationGroup) -> list[tuple[str, str, int]]:
    """(group, reason as written without surrounding spaces, approved cancellation requests)."""
    rows: list[tuple[str, str, int]] = db.conn.execute(
        f"SELECT {_group_expression(group)}, trim(r.reason), count(*)"
        " FROM cancellation_requests r"
        " JOIN cases c ON c.case_number = r.case_number"
        " JOIN fixations f ON f.fixation_id = c.fixation_id"
        " WHERE r.status = 'approved' GROUP BY 1, 2"
    ).fetchall()
    return rows


# --- by officer ------------------------------------------------------------------------------


def officer_fixation_decisions(db: Database) -> list[tuple[str, int, int, int]]:
    """(officer, fixations decided, confirmed, rejected)."""
    rows: list[tuple[str, int, int, int]] = db.conn.execute(
        "SELECT decided_by, count(*), count(*) FILTER (WHERE status = 'confirmed'),"
        " count(*) FILTER (WHERE status = 'rejected')"
        " FROM fixations WHERE decided_by IS NOT NULL GROUP BY 1"
    ).fetchall()
    return rows


def officer_rejection_reasons(db: Database) -> list[tuple[str, str, int]]:
    """(officer, reject reason, fixations the officer rejected)."""
    rows: list[tuple[str, str, int]] = db.conn.execute(
        "SELECT decided_by, reject_reason, count(*) FROM fixations"
        " WHERE status = 'rejected' GROUP BY 1, 2"
    ).fetchall()
    return rows


def officer_cancellation_decisions(db: Database, role: OfficerRole) -> list[tuple[str, int, int]]:
    """(officer, decided cancellation requests, approved ones) for the officer in ``role``."""
    rows: list[tuple[str, int, int]] = db.conn.execute(
        f"SELECT {_officer_column(role)}, count(*), count(*) FILTER (WHERE status = 'approved')"
        " FROM cancellation_requests WHERE status != 'pending' GROUP BY 1"
    ).fetchall()
    return rows


def officer_cancellation_reasons(db: Database, role: OfficerRole) -> list[tuple[str, str, int]]:
    """(officer, reason without surrounding spaces, approved cancellation requests) for the
    officer in ``role``."""
    rows: list[tuple[str, str, int]] = db.conn.execute(
        f"SELECT {_officer_column(role)}, trim(reason), count(*) FROM cancellation_requests"
        " WHERE status = 'approved' GROUP BY 1, 2"
    ).fetchall()
    return rows


# --- payments and refused messages -----------------------------------------------------------


def payments_with_match_status(db: Database, match_statuses: Sequence[str]) -> list[dict[str, Any]]:
    """Payments whose match status is one of those given, with the status of the case they
    were matched to and the difference from the amount due, oldest first."""
    placeholders = ", ".join("?" for _ in match_statuses)
    cursor = db.conn.execute(
        "SELECT p.payment_id, p.match_status, p.case_number, p.matched_case, c.status,"
        " p.amount_minor, p.due_minor, p.amount_minor - p.due_minor, p.paid_at, p.received_at,"
        " p.channel, p.device_id, p.rrn, p.approval_code"
        " FROM payments p LEFT JOIN cases c ON c.case_number = p.matched_case"
        f" WHERE p.match_status IN ({placeholders}) ORDER BY p.paid_at, p.payment_id",
        tuple(match_statuses),
    )
    return [dict(zip(_FOLLOW_UP_COLUMNS, row, strict=True)) for row in cursor]


def dead_letter_reasons(db: Database) -> list[dict[str, Any]]:
    """Refused messages counted by reason (how many, how many retryable, from how many devices,
    first and last received), the most frequent first."""
    cursor = db.conn.execute(
        "SELECT reason, count(*), count(*) FILTER (WHERE retryable != 0),"
        " count(DISTINCT device_id),"
        " min(received_at), max(received_at) FROM dead_letters"
        " GROUP BY reason ORDER BY count(*) DESC, reason"
    )
    return [dict(zip(_DEAD_LETTER_COLUMNS, row, strict=True)) for row in cursor]
