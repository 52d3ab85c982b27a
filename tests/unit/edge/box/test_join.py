"""The camera box's join of sensor readings with plate reads (edge.box.join), pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contract import ClockSource, PlateRead, ViolationCode
from edge.box.config import JoinSettings, RadarDirection
from edge.box.join import Sighting, ViolationJoiner
from edge.box.readings import PhaseChange, RadarReading, StopLineCrossing
from edge.violations import BusLaneRule, BusLaneWindow, CameraRules, RedLightRule, SpeedingRule
from firmware_bridge import Direction, LightPhase

T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)  # 15:00 local, a Monday
JOIN = JoinSettings(window_s=2.0, reading_delay_s=0.5, sighting_delay_s=5.0)


def speeding_joiner(direction: RadarDirection = RadarDirection.APPROACHING) -> ViolationJoiner[str]:
    rules = CameraRules(camera_id="cam-1", zone="A-1 km 12", speeding=SpeedingRule(limit_kmh=60))
    return ViolationJoiner(rules, JOIN.model_copy(update={"radar_direction": direction}))


def sighting(token: str, at: datetime, lane: int = 1, text: str = "123ABC01") -> Sighting[str]:
    return Sighting(token, PlateRead(text=text, confidence=0.9, format="kz_person"), lane, at)


def radar(
    speed: float, at: datetime, lane: int = 1, direction: Direction = Direction.APPROACHING
) -> RadarReading:
    return RadarReading(speed, direction, lane, at, ClockSource.GPS)


def test_a_fast_vehicle_becomes_a_speeding_violation_once_its_window_closes() -> None:
    joiner = speeding_joiner()
    joiner.add_sighting(sighting("car", T0))
    joiner.add_reading(radar(97.0, T0 + timedelta(seconds=0.4)))
    assert joiner.settle(T0 + timedelta(seconds=2.4)).violations == []  # window + delay not over
    settled = joiner.settle(T0 + timedelta(seconds=2.6))
    assert [v.sighting.token for v in settled.violations] == ["car"]
    decision = settled.violations[0].decision
    assert decision.violation is ViolationCode.SPEEDING
    assert decision.measurement().speed_kmh == 97.0
    assert joiner.pending_sightings == 0


def test_a_radar_reading_arriving_after_the_plate_read_still_joins() -> None:
    joiner = speeding_joiner()
    joiner.add_sighting(sighting("car", T0))
    assert joiner.settle(T0 + timedelta(seconds=1)).violations == []
    joiner.add_reading(radar(90.0, T0 + timedelta(seconds=1.5)))
    assert len(joiner.settle(T0 + timedelta(seconds=3)).violations) == 1


def test_within_limit_plus_tolerance_is_compliant() -> None:
    joiner = speeding_joiner()
    joiner.add_sighting(sighting("car", T0))
    joiner.add_reading(radar(70.0, T0))
    settled = joiner.settle(T0 + timedelta(seconds=3))
    assert settled.violations == [] and [s.token for s in settled.compliant] == ["car"]


def test_readings_of_traffic_in_the_other_direction_are_ignored_and_counted() -> None:
    joiner = speeding_joiner()
    joiner.add_sighting(sighting("car", T0))
    joiner.add_reading(radar(120.0, T0, direction=Direction.RECEDING))
    assert joiner.settle(T0 + timedelta(seconds=3)).violations == []
    assert joiner.counters.wrong_direction == 1
    both = speeding_joiner(RadarDirection.BOTH)
    both.add_sighting(sighting("car", T0))
    both.add_reading(radar(120.0, T0, direction=Direction.RECEDING))
    assert len(both.settle(T0 + timedelta(seconds=3)).violations) == 1


def test_each_reading_goes_to_the_nearest_vehicle_in_its_lane_only() -> None:
    joiner = speeding_joiner()
    joiner.add_sighting(sighting("first", T0, text="111AAA01"))
    joiner.add_sighting(sighting("second", T0 + timedelta(seconds=1.2), text="222BBB02"))
    joiner.add_sighting(sighting("other-lane", T0 + timedelta(seconds=1.1), lane=2))
    joiner.add_reading(radar(95.0, T0 + timedelta(seconds=1.1)))  # nearest to "second"
    joiner.add_reading(radar(65.0, T0 + timedelta(seconds=0.1)))
    settled = joiner.settle(T0 + timedelta(seconds=10))
    assert [v.sighting.token for v in settled.violations] == ["second"]
    assert {s.token for s in settled.compliant} == {"first", "other-lane"}


def test_a_reading_outside_the_window_does_not_join() -> None:
    joiner = speeding_joiner()
    joiner.add_sighting(sighting("car", T0))
    joiner.add_reading(radar(110.0, T0 + timedelta(seconds=2.5)))
    assert joiner.settle(T0 + timedelta(seconds=3)).violations == []


def test_a_violation_no_plate_was_read_for_is_reported_as_unread() -> None:
    joiner = speeding_joiner()
    joiner.add_reading(radar(110.0, T0))
    joiner.add_reading(radar(50.0, T0))
    assert joiner.settle(T0 + timedelta(seconds=5)).unread == []  # a late sighting may claim it
    settled = joiner.settle(T0 + timedelta(seconds=10))
    assert [r.speed_kmh for r in settled.unread if isinstance(r, RadarReading)] == [110.0]
    assert joiner.counters.unread_violations == 1


def test_red_light_crossing_joins_the_vehicle_seen_there() -> None:
    rules = CameraRules(
        camera_id="cam-1", zone="x", red_light=RedLightRule(stop_line_lanes=frozenset({1}))
    )
    joiner: ViolationJoiner[str] = ViolationJoiner(rules, JOIN)
    joiner.add_reading(PhaseChange(LightPhase.RED, T0))
    joiner.add_reading(StopLineCrossing(1, T0 + timedelta(seconds=3), ClockSource.GPS))
    joiner.add_sighting(sighting("runner", T0 + timedelta(seconds=3.3)))
    joiner.add_reading(PhaseChange(LightPhase.GREEN, T0 + timedelta(seconds=30)))
    joiner.add_reading(StopLineCrossing(1, T0 + timedelta(seconds=31), ClockSource.GPS))
    joiner.add_sighting(sighting("green", T0 + timedelta(seconds=31)))
    settled = joiner.settle(T0 + timedelta(seconds=60))
    assert [(v.sighting.token, v.decision.violation) for v in settled.violations] == [
        ("runner", ViolationCode.RED_LIGHT)
    ]
    assert [s.token for s in settled.compliant] == ["green"]


def test_bus_lane_needs_no_sensor_only_the_lane_and_the_hours() -> None:
    window = BusLaneWindow.model_validate({"start": "07:00", "end": "20:00"})
    rules = CameraRules(
        camera_id="cam-1", zone="x", bus_lane=BusLaneRule(lanes=frozenset({2}), windows=[window])
    )
    joiner: ViolationJoiner[str] = ViolationJoiner(rules, JOIN)
    joiner.add_sighting(sighting("in-bus-lane", T0, lane=2))
    joiner.add_sighting(sighting("lane-1", T0, lane=1))
    joiner.add_sighting(sighting("at-night", T0 + timedelta(hours=8), lane=2))  # 23:00 local
    settled = joiner.settle(T0 + timedelta(hours=9))
    assert [v.sighting.token for v in settled.violations] == ["in-bus-lane"]
