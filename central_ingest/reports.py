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
from central_ingest.store import reports as repo
from central_ingest.store.db import Store
from central_ingest.store.dead_letters import dead_letter_sources
from central_ingest.store.reports import FixationGroup, OfficerRole

RemovalDimension = Literal["plate", "officer", "camera"]

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
    elif by == "plate" or by == "camera":
        tallies = _fixation_tallies(store, by)
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


def _fixation_tallies(store: Store, group: FixationGroup) -> dict[str, _Tally]:
    db = store.db
    tallies: dict[str, _Tally] = {}
    for key, fixations, confirmed, rejected in repo.fixation_outcomes(db, group):
        tallies[key] = _Tally(
            fixations=fixations, confirmed=confirmed, rejected=rejected, events=confirmed + rejected
        )
    for key, reason, count in repo.fixation_rejection_reasons(db, group):
        tallies[key].rejection_reasons[reason] = count
    # A case counts once even if (against the rules) more than one request for it was approved.
    for key, cancelled in repo.cancelled_cases(db, group):
        tallies[key].cancelled = cancelled
    for key, reason, count in repo.cancellation_reasons(db, group):
        tallies[key].cancellation_reasons[reason] = count
    return tallies


def _officer_tallies(store: Store) -> dict[str, _Tally]:
    db = store.db
    tallies: dict[str, _Tally] = {}

    def tally(officer: str) -> _Tally:
        return tallies.setdefault(officer, _Tally())

    for officer, decided, confirmed, rejected in repo.officer_fixation_decisions(db):
        officer_tally = tally(officer)
        officer_tally.fixations = decided
        officer_tally.confirmed = confirmed
        officer_tally.rejected = rejected
        officer_tally.events += decided
    for officer, reason, count in repo.officer_rejection_reasons(db):
        tally(officer).rejection_reasons[reason] = count
    # The same cancellation is an action of both people involved: who asked and who approved.
    roles: tuple[OfficerRole, ...] = ("requested_by", "decided_by")
    for role in roles:
        for officer, decided, approved in repo.officer_cancellation_decisions(db, role):
            officer_tally = tally(officer)
            officer_tally.events += decided
            officer_tally.cancelled += approved
            if role == "requested_by":
                officer_tally.cancellations_requested = approved
            else:
                officer_tally.cancellations_approved = approved
        for officer, reason, count in repo.officer_cancellation_reasons(db, role):
            tally(officer).cancellation_reasons[reason] += count
    return tallies


def unmatched_payments_report(store: Store) -> list[dict[str, Any]]:
    """Payments that need a person to follow up, oldest first."""
    return repo.payments_with_match_status(store.db, FOLLOW_UP_MATCH_STATUSES)


def dead_letter_summary(store: Store) -> list[dict[str, Any]]:
    """Rejected messages counted by reason, the most frequent first."""
    return repo.dead_letter_reasons(store.db)


def dead_letter_sources_report(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """Refused messages counted by where they came from (an HTTP client's address, or an MQTT
    region and the device named by the topic), the most frequent first: who floods the
    registry with what it refuses, and how much of it was signed by a registered device."""
    return dead_letter_sources(store.db, limit=limit)
