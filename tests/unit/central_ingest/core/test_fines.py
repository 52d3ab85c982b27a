"""Fines and deadlines: every band edge, the MRP of the offence date, the discount boundary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central_ingest.config import Deadlines, FineSchedule, RegistryConfig
from central_ingest.core.errors import DomainError, InvalidInput
from central_ingest.core.fines import (
    FineAssessment,
    MrpNotConfigured,
    NotAnOffence,
    amount_due_minor,
    assess_fine,
    case_deadlines,
    discounted_minor,
    fine_minor,
    mrp_on,
    offence_day,
)
from contract import ViolationCode

SCHEDULE = FineSchedule()
MRP = RegistryConfig().mrp_by_year
RESOLUTION = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)


def speeding(speed_kmh: float, limit_kmh: int = 60) -> FineAssessment:
    return assess_fine(ViolationCode.SPEEDING, speed_kmh, limit_kmh, SCHEDULE)


@pytest.mark.parametrize(
    ("speed_kmh", "part", "fine_mrp"),
    [
        (70.0, "1", 5),  # exactly 10 over: the first band
        (79.9, "1", 5),
        (80.0, "2", 10),  # exactly 20 over
        (99.9, "2", 10),
        (100.0, "3", 20),  # exactly 40 over
        (119.9, "3", 20),
        (120.0, "4", 40),  # exactly 60 over
        (220.0, "4", 40),
    ],
)
def test_speeding_bands_include_their_lower_edge(
    speed_kmh: float, part: str, fine_mrp: int
) -> None:
    assert speeding(speed_kmh) == FineAssessment(article="592", part=part, fine_mrp=fine_mrp)


@pytest.mark.parametrize("speed_kmh", [0.0, 60.0, 65.0, 69.9])
def test_less_than_ten_over_is_not_an_offence(speed_kmh: float) -> None:
    with pytest.raises(NotAnOffence) as refused:
        speeding(speed_kmh)
    assert refused.value.code == "not_an_offence"
    assert "reject the fixation" in refused.value.message
    assert isinstance(refused.value, DomainError)


def test_speeding_without_a_measurement_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        assess_fine(ViolationCode.SPEEDING, None, 60, SCHEDULE)
    assert refused.value.code == "measurement_missing"


@pytest.mark.parametrize(
    ("violation", "article", "fine_mrp"),
    [
        (ViolationCode.RED_LIGHT, "599", 10),
        (ViolationCode.PHONE, "591", 5),
        (ViolationCode.SEAT_BELT, "590", 5),
        (ViolationCode.BUS_LANE, "601", 3),
    ],
)
def test_fixed_fines_ignore_speed(violation: ViolationCode, article: str, fine_mrp: int) -> None:
    assessment = assess_fine(violation, None, None, SCHEDULE)
    assert (assessment.article, assessment.fine_mrp) == (article, fine_mrp)


def test_a_violation_missing_from_the_schedule_is_a_configuration_error() -> None:
    schedule = FineSchedule(fixed={})
    with pytest.raises(DomainError) as refused:
        assess_fine(ViolationCode.PHONE, None, None, schedule)
    assert refused.value.code == "fine_not_configured"


def test_the_offence_day_is_the_day_in_astana() -> None:
    assert offence_day(datetime(2024, 12, 31, 18, 59, tzinfo=UTC)) == date(2024, 12, 31)
    assert offence_day(datetime(2024, 12, 31, 19, 0, tzinfo=UTC)) == date(2025, 1, 1)


def test_mrp_is_that_of_the_offence_year_not_of_the_payment_year() -> None:
    offence = datetime(2024, 12, 20, 9, 0, tzinfo=UTC)
    assert mrp_on(offence_day(offence), MRP) == 3692
    assert fine_minor(10, mrp_on(offence_day(offence), MRP)) == 3_692_000
    assert mrp_on(date(2026, 1, 1), MRP) == 4325


def test_a_missing_mrp_year_is_a_clear_error() -> None:
    with pytest.raises(MrpNotConfigured) as refused:
        mrp_on(date(2031, 5, 1), MRP)
    assert refused.value.code == "mrp_not_configured"
    assert "2031" in refused.value.message and "mrp_by_year" in refused.value.message


def test_half_of_an_odd_amount_is_rounded_down_for_the_payer() -> None:
    assert discounted_minor(3_932_000, 50) == 1_966_000
    assert discounted_minor(101, 50) == 50
    assert discounted_minor(1_000, 0) == 1_000
    assert discounted_minor(999, 100) == 0


def test_the_discount_holds_up_to_and_including_the_deadline() -> None:
    deadline = RESOLUTION + timedelta(days=7)
    full = 3_932_000
    assert amount_due_minor(full, 50, deadline, RESOLUTION) == 1_966_000
    assert amount_due_minor(full, 50, deadline, deadline) == 1_966_000
    assert amount_due_minor(full, 50, deadline, deadline + timedelta(microseconds=1)) == full
    assert amount_due_minor(full, 50, deadline, deadline + timedelta(days=1)) == full


def test_deadlines_count_from_the_resolution_and_its_entry_into_force() -> None:
    deadlines = case_deadlines(RESOLUTION, Deadlines())
    assert deadlines.discount_deadline == RESOLUTION + timedelta(days=7)
    assert deadlines.entry_into_force == RESOLUTION + timedelta(days=10)
    assert deadlines.voluntary_deadline == RESOLUTION + timedelta(days=40)
    assert deadlines.limitation_at == RESOLUTION + timedelta(days=375)


def test_deadlines_follow_the_configuration() -> None:
    deadlines = case_deadlines(
        RESOLUTION,
        Deadlines(discount_days=20, appeal_days=0, voluntary_days=60, limitation_days=730),
    )
    assert deadlines.discount_deadline == RESOLUTION + timedelta(days=20)
    assert deadlines.entry_into_force == RESOLUTION
    assert deadlines.voluntary_deadline == RESOLUTION + timedelta(days=60)
    assert deadlines.limitation_at == RESOLUTION + timedelta(days=730)


@given(
    fine=st.integers(min_value=1, max_value=10**9),
    percent=st.integers(min_value=0, max_value=100),
    offset_s=st.integers(min_value=-(10**7), max_value=10**7),
)
def test_the_amount_due_never_exceeds_the_fine_and_never_falls_below_the_discount(
    fine: int, percent: int, offset_s: int
) -> None:
    deadline = RESOLUTION + timedelta(days=7)
    due = amount_due_minor(fine, percent, deadline, deadline + timedelta(seconds=offset_s))
    assert discounted_minor(fine, percent) <= due <= fine
    assert (
        fine * (100 - percent) - 100
        < discounted_minor(fine, percent) * 100
        <= fine * (100 - percent)
    )
