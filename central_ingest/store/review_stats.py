"""Officers' figures: how fast they decide (from the seconds the console measured) and how often
a blind second review agrees with their confirmations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from central_ingest.core.clock import iso
from central_ingest.store.db import Store

SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class OfficerFigures:
    officer: str
    decisions: int
    confirmed: int
    rejected: int
    seconds_spent: float
    decisions_last_hour: int
    double_reviewed: int
    double_review_agreed: int
    second_reviews_done: int

    @property
    def per_hour(self) -> float | None:
        """Decisions per hour of time spent on them, None before the first one."""
        if self.decisions == 0 or self.seconds_spent <= 0:
            return None
        return self.decisions * SECONDS_PER_HOUR / self.seconds_spent

    @property
    def mean_seconds(self) -> float | None:
        return self.seconds_spent / self.decisions if self.decisions else None

    @property
    def agreement_rate(self) -> float | None:
        """Share of this officer's sampled confirmations that the second officer agreed with."""
        if self.double_reviewed == 0:
            return None
        return self.double_review_agreed / self.double_reviewed


def officer_figures(store: Store, since: datetime, now: datetime) -> list[OfficerFigures]:
    """Every officer who decided anything since ``since``, by user name."""
    conn = store.db.conn
    decided = {
        officer: (count, confirmed, rejected, spent or 0.0)
        for officer, count, confirmed, rejected, spent in conn.execute(
            "SELECT decided_by, count(*), count(*) FILTER (WHERE status = 'confirmed'),"
            " count(*) FILTER (WHERE status = 'rejected'),"
            " sum(seconds_spent) FROM fixations WHERE decided_by IS NOT NULL AND decided_at >= ?"
            " GROUP BY decided_by",
            (iso(since),),
        )
    }
    last_hour = dict(
        conn.execute(
            "SELECT decided_by, count(*) FROM fixations WHERE decided_by IS NOT NULL"
            " AND decided_at >= ? GROUP BY decided_by",
            (iso(now - timedelta(hours=1)),),
        ).fetchall()
    )
    sampled = {
        officer: (count, agreed or 0)
        for officer, count, agreed in conn.execute(
            "SELECT first_officer, count(*), sum(agrees) FROM double_reviews"
            " WHERE status = 'done' GROUP BY first_officer"
        )
    }
    second = dict(
        conn.execute(
            "SELECT second_officer, count(*) FROM double_reviews WHERE status = 'done'"
            " AND reviewed_at >= ? GROUP BY second_officer",
            (iso(since),),
        ).fetchall()
    )
    figures = []
    for officer in sorted(set(decided) | set(sampled) | set(second)):
        count, confirmed, rejected, spent = decided.get(officer, (0, 0, 0, 0.0))
        reviewed, agreed = sampled.get(officer, (0, 0))
        figures.append(
            OfficerFigures(
                officer=officer,
                decisions=count,
                confirmed=confirmed,
                rejected=rejected,
                seconds_spent=float(spent),
                decisions_last_hour=int(last_hour.get(officer, 0)),
                double_reviewed=reviewed,
                double_review_agreed=agreed,
                second_reviews_done=int(second.get(officer, 0)),
            )
        )
    return figures


def figures_of(store: Store, officer: str, since: datetime, now: datetime) -> OfficerFigures:
    for figures in officer_figures(store, since, now):
        if figures.officer == officer:
            return figures
    return OfficerFigures(officer, 0, 0, 0, 0.0, 0, 0, 0, 0)


def disagreements(store: Store, limit: int = 50) -> list[dict[str, object]]:
    """The latest double reviews that disagreed with the first officer, newest first."""
    cursor = store.db.conn.execute(
        "SELECT d.fixation_id, d.case_number, d.first_officer, d.first_plate, d.second_officer,"
        " d.verdict, d.second_plate, d.reject_reason, d.note, d.reviewed_at,"
        " d.cancellation_request_id, c.status AS case_status"
        " FROM double_reviews d JOIN cases c ON c.case_number = d.case_number"
        " WHERE d.status = 'done' AND d.agrees = 0 ORDER BY d.reviewed_at DESC LIMIT ?",
        (limit,),
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
