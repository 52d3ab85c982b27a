"""Fines and deadlines of a case, as pure arithmetic over the configured legal figures.

Fines are set in MRP (the monthly calculation index) and converted with the MRP of the day of
the offence, in Kazakhstan's local time (UTC+5): an offence at 01:00 on 1 January local time
is still 31 December in UTC, yet it is fined at the new year's MRP. Money is in tiyn
(1/100 KZT).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from central_ingest.core.clock import local
from central_ingest.core.errors import DomainError, InvalidInput
from central_ingest.core.labels import OFFENCES, label_text
from contract import ViolationCode
from i18n.text import Text

TIYN_PER_KZT = 100


# What this module reads of the configured legal figures (``central_ingest.config``'s
# FineSchedule and Deadlines satisfy these): described here rather than imported, so that the
# pure core depends on no configuration loader (tests/unit/test_layering.py).
class SpeedBandTerms(Protocol):
    @property
    def min_excess_kmh(self) -> int: ...
    @property
    def part(self) -> str: ...
    @property
    def fine_mrp(self) -> int: ...


class FixedFineTerms(Protocol):
    @property
    def article(self) -> str: ...
    @property
    def part(self) -> str: ...
    @property
    def fine_mrp(self) -> int: ...


class FineSchedule(Protocol):
    @property
    def speeding_article(self) -> str: ...
    @property
    def speeding_bands(self) -> Sequence[SpeedBandTerms]: ...
    @property
    def fixed(self) -> Mapping[ViolationCode, FixedFineTerms]: ...


class Deadlines(Protocol):
    @property
    def discount_days(self) -> int: ...
    @property
    def appeal_days(self) -> int: ...
    @property
    def voluntary_days(self) -> int: ...
    @property
    def limitation_days(self) -> int: ...


class NotAnOffence(InvalidInput):
    """The measurement does not amount to an offence: the officer must reject the fixation."""


class MrpNotConfigured(DomainError):
    """The configuration has no MRP value for the year of the offence."""


@dataclass(frozen=True)
class FineAssessment:
    article: str
    part: str
    fine_mrp: int


def assess_fine(
    violation: ViolationCode,
    speed_kmh: float | None,
    limit_kmh: int | None,
    schedule: FineSchedule,
) -> FineAssessment:
    """The article, part and fine in MRP for a violation. Speeding is banded by the excess over
    the limit; each band covers [its min_excess_kmh, the next band's), so 20 km/h over falls
    in the 20-40 band."""
    if violation is ViolationCode.SPEEDING:
        return _assess_speeding(speed_kmh, limit_kmh, schedule)
    fixed = schedule.fixed.get(violation)
    if fixed is None:
        raise DomainError(
            "fine_not_configured",
            Text(
                "No fine is configured for %(offence)s (%(code)s): add it to the fine schedule.",
                offence=label_text(violation, OFFENCES),
                code=violation.value,
            ),
        )
    return FineAssessment(article=fixed.article, part=fixed.part, fine_mrp=fixed.fine_mrp)


def _assess_speeding(
    speed_kmh: float | None, limit_kmh: int | None, schedule: FineSchedule
) -> FineAssessment:
    if speed_kmh is None or limit_kmh is None:
        raise InvalidInput(
            "measurement_missing",
            Text("A speeding fixation needs both the measured speed and the limit."),
        )
    excess = speed_kmh - limit_kmh
    applicable = [band for band in schedule.speeding_bands if excess >= band.min_excess_kmh]
    if not applicable:
        lowest = schedule.speeding_bands[0].min_excess_kmh
        raise NotAnOffence(
            "not_an_offence",
            Text(
                "%(speed)s km/h where the limit is %(limit)s km/h is %(excess)s km/h over; less"
                " than %(lowest)s km/h over is not an offence under article %(article)s, so"
                " reject the fixation instead of confirming it.",
                speed=format(speed_kmh, "g"),
                limit=limit_kmh,
                excess=format(excess, "g"),
                lowest=lowest,
                article=schedule.speeding_article,
            ),
        )
    band = applicable[-1]
    return FineAssessment(article=schedule.speeding_article, part=band.part, fine_mrp=band.fine_mrp)


def offence_day(captured_at: datetime) -> date:
    """The calendar day of the offence in Kazakhstan (UTC+5), which fixes the MRP."""
    return local(captured_at).date()


def mrp_on(day: date, mrp_by_year: Mapping[int, int]) -> int:
    try:
        return mrp_by_year[day.year]
    except KeyError:
        raise MrpNotConfigured(
            "mrp_not_configured",
            Text(
                "No MRP value is configured for %(year)s, the year of the offence: add it to"
                " mrp_by_year before confirming offences of that year.",
                year=day.year,
            ),
        ) from None


def fine_minor(fine_mrp: int, mrp_kzt: int) -> int:
    return fine_mrp * mrp_kzt * TIYN_PER_KZT


def discounted_minor(fine_minor: int, discount_percent: int) -> int:
    # Integer floor division: a fraction of a tiyn is rounded down, in the payer's favour.
    return fine_minor * (100 - discount_percent) // 100


def amount_due_minor(
    fine_minor: int, discount_percent: int, discount_deadline: datetime, at: datetime
) -> int:
    """The amount that settles the case when paid at ``at``: the discounted amount up to and
    including the discount deadline, the full fine after it."""
    if at <= discount_deadline:
        return discounted_minor(fine_minor, discount_percent)
    return fine_minor


@dataclass(frozen=True)
class CaseDeadlines:
    discount_deadline: datetime
    entry_into_force: datetime
    voluntary_deadline: datetime
    limitation_at: datetime


def case_deadlines(resolution_at: datetime, deadlines: Deadlines) -> CaseDeadlines:
    """Deadlines counted from the resolution: the discount window from the resolution itself,
    voluntary payment and the enforcement limitation from its entry into force."""
    entry_into_force = resolution_at + timedelta(days=deadlines.appeal_days)
    return CaseDeadlines(
        discount_deadline=resolution_at + timedelta(days=deadlines.discount_days),
        entry_into_force=entry_into_force,
        voluntary_deadline=entry_into_force + timedelta(days=deadlines.voluntary_days),
        limitation_at=entry_into_force + timedelta(days=deadlines.limitation_days),
    )
