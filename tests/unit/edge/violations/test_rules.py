"""The violation rules and their boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from contract import Measurement, ViolationCode
from edge.violations import (
    BusLaneRule,
    BusLaneWindow,
    CameraRules,
    PhaseTimeline,
    RedLightRule,
    SpeedingRule,
    band_label,
    check_bus_lane,
    check_red_light,
    check_speeding,
)

# --- speeding --------------------------------------------------------------------------------

RULE_60 = SpeedingRule(limit_kmh=60, tolerance_kmh=10)


@pytest.mark.parametrize("speed", [0.0, 59.9, 60.0, 65.0, 70.0])
def test_up_to_limit_plus_tolerance_is_no_violation(speed: float) -> None:
    assert check_speeding(speed, lane=1, rule=RULE_60) is None


def test_just_above_limit_plus_tolerance_is_a_violation_with_its_measurement() -> None:
    decision = check_speeding(70.1, lane=2, rule=RULE_60)
    assert decision is not None
    assert decision.violation is ViolationCode.SPEEDING
    assert decision.excess_kmh == pytest.approx(10.1)
    assert decision.band == "art. 592: 10-20 km/h over"
    assert decision.measurement() == Measurement(
        speed_kmh=70.1, limit_kmh=60, tolerance_kmh=10, lane="2"
    )


def test_tolerance_is_configurable_per_camera() -> None:
    strict = SpeedingRule(limit_kmh=60, tolerance_kmh=0)
    decision = check_speeding(65.0, lane=1, rule=strict)
    assert decision is not None and decision.band == "under 10 km/h over: no article 592 band"
    assert check_speeding(65.0, lane=1, rule=SpeedingRule(limit_kmh=60, tolerance_kmh=5)) is None


@pytest.mark.parametrize(
    ("excess", "label"),
    [
        (9.9, "under 10 km/h over: no article 592 band"),
        (10.0, "art. 592: 10-20 km/h over"),
        (19.9, "art. 592: 10-20 km/h over"),
        (20.0, "art. 592: 20-40 km/h over"),
        (39.9, "art. 592: 20-40 km/h over"),
        (40.0, "art. 592: 40-60 km/h over"),
        (60.0, "art. 592: over 60 km/h over"),
        (140.0, "art. 592: over 60 km/h over"),
    ],
)
def test_article_592_band_labels_at_their_edges(excess: float, label: str) -> None:
    assert band_label(excess) == label


def test_97_in_a_60_zone_is_labelled_in_the_20_to_40_band() -> None:
    decision = check_speeding(97.0, lane=2, rule=RULE_60)
    assert decision is not None and decision.band == "art. 592: 20-40 km/h over"


# --- red light -------------------------------------------------------------------------------

T0 = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)
RED_RULE = RedLightRule(stop_line_lanes=frozenset({1, 2}), red_grace_ms=300)


def timeline(*changes: tuple[str, float]) -> PhaseTimeline:
    line = PhaseTimeline()
    for phase, seconds in changes:
        line.record(phase, T0 + timedelta(seconds=seconds))  # type: ignore[arg-type]
    return line


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_crossing_well_into_red_is_a_violation_with_the_elapsed_time() -> None:
    decision = check_red_light(
        at(12.5), 1, timeline(("green", 0), ("amber", 7), ("red", 10)), RED_RULE
    )
    assert decision is not None
    assert decision.violation is ViolationCode.RED_LIGHT
    assert decision.measurement() == Measurement(light_phase="red", red_elapsed_ms=2500, lane="1")


@pytest.mark.parametrize(
    ("crossing_s", "expected"),
    [(10.0, False), (10.3, False), (10.301, True)],
    ids=["at red onset", "at end of grace", "just after grace"],
)
def test_the_red_grace_boundary(crossing_s: float, expected: bool) -> None:
    line = timeline(("amber", 7), ("red", 10))
    assert (check_red_light(at(crossing_s), 2, line, RED_RULE) is not None) is expected


@pytest.mark.parametrize("crossing_s", [6.0, 9.999])
def test_crossing_on_green_or_amber_is_no_violation(crossing_s: float) -> None:
    line = timeline(("green", 0), ("amber", 7), ("red", 10))
    assert check_red_light(at(crossing_s), 1, line, RED_RULE) is None


def test_crossing_in_a_lane_without_a_watched_stop_line_is_no_violation() -> None:
    assert check_red_light(at(15), 3, timeline(("red", 10)), RED_RULE) is None


def test_unknown_phase_at_the_crossing_is_no_violation() -> None:
    assert check_red_light(at(5), 1, timeline(("red", 10)), RED_RULE) is None


def test_a_phase_change_recorded_late_still_judges_the_earlier_crossing() -> None:
    line = timeline(("red", 10), ("green", 40))
    line.record("amber", at(7))  # arrived after the later changes
    assert check_red_light(at(9), 1, line, RED_RULE) is None
    assert check_red_light(at(20), 1, line, RED_RULE) is not None
    assert check_red_light(at(41), 1, line, RED_RULE) is None


# --- bus lane ---------------------------------------------------------------------------------

WEEKDAY_PEAKS = BusLaneRule(
    lanes=frozenset({1}),
    windows=[
        BusLaneWindow(start=time(7, 0), end=time(10, 0), weekdays=frozenset({1, 2, 3, 4, 5})),
        BusLaneWindow(start=time(17, 0), end=time(20, 0), weekdays=frozenset({1, 2, 3, 4, 5})),
    ],
)
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def local(day: datetime, hh: int, mm: int = 0) -> datetime:
    """UTC instant of local (UTC+5) wall-clock time hh:mm on ``day``."""
    return day + timedelta(hours=hh - 5, minutes=mm)


@pytest.mark.parametrize(
    ("hh", "mm", "expected"),
    [(6, 59, False), (7, 0, True), (9, 59, True), (10, 0, False), (17, 30, True), (20, 0, False)],
)
def test_bus_lane_hours_are_local_time_half_open(hh: int, mm: int, expected: bool) -> None:
    decision = check_bus_lane(local(MONDAY, hh, mm), lane=1, rule=WEEKDAY_PEAKS)
    assert (decision is not None) is expected


def test_the_decision_names_the_window_and_local_time() -> None:
    decision = check_bus_lane(datetime(2026, 3, 2, 3, 15, tzinfo=UTC), lane=1, rule=WEEKDAY_PEAKS)
    assert decision is not None
    assert decision.window == "07:00-10:00"
    assert decision.local_time.hour == 8 and decision.local_time.utcoffset() == timedelta(hours=5)
    assert decision.violation is ViolationCode.BUS_LANE
    assert decision.measurement() == Measurement(lane="1")


def test_utc_morning_of_7_is_noon_local_and_outside_the_window() -> None:
    assert check_bus_lane(datetime(2026, 3, 2, 7, 30, tzinfo=UTC), 1, WEEKDAY_PEAKS) is None


def test_weekend_and_other_lanes_are_free() -> None:
    saturday = MONDAY + timedelta(days=5)
    assert check_bus_lane(local(saturday, 8), lane=1, rule=WEEKDAY_PEAKS) is None
    assert check_bus_lane(local(MONDAY, 8), lane=2, rule=WEEKDAY_PEAKS) is None


def test_a_window_past_midnight_belongs_to_the_day_it_starts() -> None:
    friday_night = BusLaneRule(
        lanes=frozenset({1}),
        windows=[BusLaneWindow(start=time(22, 0), end=time(6, 0), weekdays=frozenset({5}))],
    )
    friday = MONDAY + timedelta(days=4)
    assert check_bus_lane(local(friday, 23), 1, friday_night) is not None
    assert check_bus_lane(local(friday + timedelta(days=1), 5, 59), 1, friday_night) is not None
    assert check_bus_lane(local(friday + timedelta(days=1), 6, 0), 1, friday_night) is None
    assert check_bus_lane(local(friday, 5), 1, friday_night) is None  # Thursday's night: free


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        check_bus_lane(datetime(2026, 3, 2, 8, 0), 1, WEEKDAY_PEAKS)


# --- configuration ----------------------------------------------------------------------------


def test_camera_rules_load_from_configuration_data() -> None:
    rules = CameraRules.model_validate(
        {
            "camera_id": "cam-astana-017",
            "zone": "Astana, Kabanbay Batyr / Turan",
            "speeding": {"limit_kmh": 60, "tolerance_kmh": 10},
            "red_light": {"stop_line_lanes": [1, 2], "red_grace_ms": 200},
            "bus_lane": {"lanes": [1], "windows": [{"start": "07:00", "end": "10:00"}]},
        }
    )
    assert rules.red_light is not None and rules.red_light.stop_line_lanes == {1, 2}
    assert rules.bus_lane is not None and rules.bus_lane.utc_offset_hours == 5


@pytest.mark.parametrize(
    "bad",
    [
        {"camera_id": "cam-1", "zone": "x"},  # no rule at all
        {"camera_id": "cam-1", "zone": "x", "speeding": {"limit_kmh": 0}},
        {"camera_id": "cam-1", "zone": "x", "speeding": {"limit_kmh": 60, "tolerance_kmh": -1}},
        {"camera_id": "Cam 1", "zone": "x", "speeding": {"limit_kmh": 60}},
        {
            "camera_id": "cam-1",
            "zone": "x",
            "bus_lane": {"lanes": [1], "windows": [{"start": "07:00", "end": "07:00"}]},
        },
        {
            "camera_id": "cam-1",
            "zone": "x",
            "bus_lane": {
                "lanes": [1],
                "windows": [{"start": "07:00", "end": "09:00", "weekdays": [0]}],
            },
        },
    ],
)
def test_invalid_camera_rules_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CameraRules.model_validate(bad)
