"""Prosecutor and back-office reports read from the registry database.

``removal_report`` answers "who removes fines and why": for each plate, officer or camera it
counts how many fixations were confirmed, rejected, and how many resulting cases were cancelled
(approved cancellation requests), with the reasons, most suspicious groups first (see
``central_ingest.core.reports`` for the score).

- by plate and by camera, the events are the decided fixations of the group and a removal is a
  rejection or a later cancellation of the case;
- by officer, the events are the officer's own actions with a known outcome (fixation decisions,
  cancellation requests decided by a supervisor, cancellation decisions made as a supervisor)
  and a removal is a rejection, an approved cancellation they asked for, or one they approved.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from central_ingest.core.reports import GroupCounts, pooled_rate, rank_outliers
from central_ingest.store.db import Store

RemovalDimension = Literal["plate", "officer", "camera"]

# The plate of the vehicle as the officer established it: a corrected read wins over the camera's.
_GROUP_EXPRESSIONS: dict[str, str] = {
    "plate": "COALESCE(NULLIF(f.corrected_plate, ''), f.plate_text)",
    "camera": "f.device_id",
}

FOLLOW_UP_MATCH_STATUSES = ("unknown_case", "underpaid", "overpaid", "case_closed")
"""Payments that no automatic rule settles: a person must contact the payer or the bank."""


@dataclass
class _Tally:
    fixations: int = 0
    confirmed: int = 0
    rejected: int = 0
    cancelled: int = 0
    cancellations_requested: int = 0
    cancellations_approved: int = 0
    events: int = 0
    rejection_reasons: Counter[str] = field(default_factory=Counter)
    cancellation_reasons: Counter[str] = field(default_factory=Counter)

    @property
    def removed(self) -> int:
        return self.rejected + self.cancelled


def removal_report(
    store: Store, by: RemovalDimension, *, min_events: int = 3, limit: int = 100
) -> list[dict[str, Any]]:
    """One dict per group with at least ``min_events`` events, outliers first."""
    if by == "officer":
        tallies = _officer_tallies(store)
    elif by in _GROUP_EXPRESSIONS:
        tallies = _fixation_tallies(store, _GROUP_EXPRESSIONS[by])
    else:
        raise ValueError(f"unknown report dimension {by!r}: use plate, officer or camera")
    groups = [GroupCounts(key, tally.removed, tally.events) for key, tally in tallies.items()]
    baseline = pooled_rate(groups)
    report: list[dict[str, Any]] = []
    for scored in rank_outliers(groups, min_events=min_events)[:limit]:
        key = scored.counts.key
        tally = tallies[key]
        row: dict[str, Any] = {
            "by": by,
            "key": key,
            "fixations": tally.fixations,
            "confirmed": tally.confirmed,
            "rejected": tally.rejected,
            "cancelled": tally.cancelled,
        }
        if by == "officer":
            row["cancellations_requested"] = tally.cancellations_requested
            row["cancellations_approved"] = tally.cancellations_approved
        row.update(
            events=tally.events,
            removed=tally.removed,
            removal_rate=round(scored.counts.rate, 4),
            baseline_rate=round(baseline, 4),
            score=round(scored.score, 4),
            rejection_reasons=dict(tally.rejection_reasons.most_common()),
            cancellation_reasons=dict(tally.cancellation_reasons.most_common()),
        )
        report.append(row)
    return report


def _fixation_tallies(store: Store, group: str) -> dict[str, _Tally]:
    conn = store.db.conn
    tallies: dict[str, _Tally] = {}
    for key, fixations, confirmed, rejected in conn.execute(
        f"SELECT {group}, count(*), sum(f.status = 'confirmed'), sum(f.status = 'rejected')"
        " FROM fixations f GROUP BY 1"
    ):
        tallies[key] = _Tally(fixations=fixations, confirmed=confirmed, rejected=rejected,
                              events=confirmed + rejected)
    for key, reason, count in conn.execute(
        f"SELECT {group}, f.reject_reason, count(*) FROM fixations f"
        " WHERE f.status = 'rejected' GROUP BY 1, 2"
    ):
        tallies[key].rejection_reasons[reason] = count
    # A case counts once even if (against the rules) more than one request for it was approved.
    for key, cancelled in conn.execute(
        f"SELECT {group}, count(DISTINCT c.case_number) FROM cancellation_requests r"
        " JOIN cases c ON c.case_number = r.case_number"
        " JOIN fixations f ON f.fixation_id = c.fixation_id"
        " WHERE r.status = 'approved' GROUP BY 1"
    ):
        tallies[key].cancelled = cancelled
    for key, reason, count in conn.execute(
        f"SELECT {group}, trim(r.reason), count(*) FROM cancellation_requests r"
        " JOIN cases c ON c.case_number = r.case_number"
        " JOIN fixations f ON f.fixation_id = c.fixation_id"
        " WHERE r.status = 'approved' GROUP BY 1, 2"
    ):
        tallies[key].cancellation_reasons[reason] = count
    return tallies


def _officer_tallies(store: Store) -> dict[str, _Tally]:
    conn = store.db.conn
    tallies: dict[str, _Tally] = {}

    def tally(officer: str) -> _Tally:
        return tallies.setdefault(officer, _Tally())

    for officer, decided, confirmed, rejected in conn.execute(
        "SELECT decided_by, count(*), sum(status = 'confirmed'), sum(status = 'rejected')"
        " FROM fixations WHERE decided_by IS NOT NULL GROUP BY 1"
    ):
        officer_tally = tally(officer)
        officer_tally.fixations = decided
        officer_tally.confirmed = confirmed
        officer_tally.rejected = rejected
        officer_tally.events += decided
    for officer, reason, count in conn.execute(
        "SELECT decided_by, reject_reason, count(*) FROM fixations"
        " WHERE status = 'rejected' GROUP BY 1, 2"
    ):
        tally(officer).rejection_reasons[reason] = count
    # The same cancellation is an action of both people involved: who asked and who approved.
    for role in ("requested_by", "decided_by"):
        for officer, decided, approved in conn.execute(
            f"SELECT {role}, count(*), sum(status = 'approved') FROM cancellation_requests"
            " WHERE status != 'pending' GROUP BY 1"
        ):
            officer_tally = tally(officer)
            officer_tally.events += decided
            officer_tally.cancelled += approved
            if role == "requested_by":
                officer_tally.cancellations_requested = approved
            else:
                officer_tally.cancellations_approved = approved
        for officer, reason, count in conn.execute(
            f"SELECT {role}, trim(reason), count(*) FROM cancellation_requests"
            " WHERE status = 'approved' GROUP BY 1, 2"
        ):
            tally(officer).cancellation_reasons[reason] += count
    return tallies


def unmatched_payments_report(store: Store) -> list[dict[str, Any]]:
    """Payments that need a person to follow up, oldest first."""
    placeholders = ", ".join("?" for _ in FOLLOW_UP_MATCH_STATUSES)
    cursor = store.db.conn.execute(
        "SELECT p.payment_id, p.match_status, p.case_number, p.matched_case, c.status,"
        " p.amount_minor, p.due_minor, p.amount_minor - p.due_minor, p.paid_at, p.received_at,"
        " p.channel, p.device_id, p.rrn, p.approval_code"
        " FROM payments p LEFT JOIN cases c ON c.case_number = p.matched_case"
        f" WHERE p.match_status IN ({placeholders}) ORDER BY p.paid_at, p.payment_id",
        FOLLOW_UP_MATCH_STATUSES,
    )
    columns = ("payment_id", "match_status", "case_number", "matched_case", "case_status",
               "amount_minor", "due_minor", "difference_minor", "paid_at", "received_at",
               "channel", "device_id", "rrn", "approval_code")
    return [dict(zip(columns, row, strict=True)) for row in cursor]


def dead_letter_summary(store: Store) -> list[dict[str, Any]]:
    """Rejected messages counted by reason, the most frequent first."""
    cursor = store.db.conn.execute(
        "SELECT reason, count(*), sum(retryable != 0), count(DISTINCT device_id),"
        " min(received_at), max(received_at) FROM dead_letters"
        " GROUP BY reason ORDER BY count(*) DESC, reason"
    )
    columns = ("reason", "count", "retryable", "devices", "first_received_at",
               "last_received_at")
    return [dict(zip(columns, row, strict=True)) for row in cursor]
