"""Joining what the sensors measured with what the camera read: the box's decision core.

Pure: no clocks, files or network. The recorder feeds it sensor readings (from the bridge's
journal) and vehicle sightings (from the video pipeline) in any order, and asks it to
``settle`` at the current time. A sighting is settled once every reading that could belong to
it has had time to arrive (its time plus the join window), so a late radar message still finds
its vehicle. Each reading belongs to one vehicle at most: the nearest in time, in the same lane.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from contract import PlateRead
from edge.box.config import JoinSettings, RadarDirection
from edge.box.readings import PhaseChange, RadarReading, SensorReading, StopLineCrossing
from edge.violations import (
    CameraRules,
    Decision,
    PhaseTimeline,
    check_bus_lane,
    check_red_light,
    check_speeding,
)
from firmware_bridge import Direction

Token = TypeVar("Token")
Claimable = TypeVar("Claimable", RadarReading, StopLineCrossing)


@dataclass(frozen=True)
class Sighting(Generic[Token]):
    """A vehicle the video pipeline read; ``token`` is the caller's handle on its evidence."""

    token: Token
    plate: PlateRead
    lane: int
    seen_at: datetime


@dataclass(frozen=True)
class Violation(Generic[Token]):
    sighting: Sighting[Token]
    decision: Decision


@dataclass(frozen=True)
class Settled(Generic[Token]):
    violations: list[Violation[Token]]
    compliant: list[Sighting[Token]]
    unread: list[RadarReading | StopLineCrossing]
    """Readings that were violations but no plate was read near them: the camera missed a
    vehicle (dirty lens, occlusion), which the box reports as a counter."""


@dataclass
class JoinCounters:
    sightings: int = 0
    violations: int = 0
    wrong_direction: int = 0
    unread_violations: int = 0


_DIRECTIONS = {
    RadarDirection.APPROACHING: {Direction.APPROACHING},
    RadarDirection.RECEDING: {Direction.RECEDING},
    RadarDirection.BOTH: {Direction.APPROACHING, Direction.RECEDING},
}


@dataclass
class _Pending(Generic[Token]):
    readings: list[RadarReading | StopLineCrossing] = field(default_factory=list)
    sightings: list[Sighting[Token]] = field(default_factory=list)


class ViolationJoiner(Generic[Token]):
    def __init__(self, rules: CameraRules, settings: JoinSettings) -> None:
        self.rules = rules
        self.window = timedelta(seconds=settings.window_s)
        self.settle_after = self.window + timedelta(seconds=settings.reading_delay_s)
        self.keep_readings = 2 * self.window + timedelta(
            seconds=settings.reading_delay_s + settings.sighting_delay_s
        )
        self._directions = _DIRECTIONS[settings.radar_direction]
        self._timeline = PhaseTimeline()
        self._pending: _Pending[Token] = _Pending()
        self.counters = JoinCounters()

    @property
    def pending_sightings(self) -> int:
        return len(self._pending.sightings)

    def add_reading(self, reading: SensorReading) -> None:
        if isinstance(reading, PhaseChange):
            self._timeline.record(reading.phase.name.lower(), reading.at)  # type: ignore[arg-type]
        elif isinstance(reading, RadarReading) and reading.direction not in self._directions:
            self.counters.wrong_direction += 1
        else:
            self._pending.readings.append(reading)

    def add_sighting(self, sighting: Sighting[Token]) -> None:
        self.counters.sightings += 1
        self._pending.sightings.append(sighting)

    def settle(self, now: datetime) -> Settled[Token]:
        """Decide every sighting whose join window has closed by ``now``; forget readings no
        sighting can claim any more."""
        due = sorted(
            (s for s in self._pending.sightings if s.seen_at + self.settle_after <= now),
            key=lambda s: s.seen_at,
        )
        violations: list[Violation[Token]] = []
        compliant: list[Sighting[Token]] = []
        for sighting in due:
            self._pending.sightings.remove(sighting)
            decisions = self._decide(sighting)
            violations += [Violation(sighting, decision) for decision in decisions]
            if not decisions:
                compliant.append(sighting)
        self.counters.violations += len(violations)
        return Settled(violations, compliant, self._expire_readings(now))

    def _decide(self, sighting: Sighting[Token]) -> list[Decision]:
        decisions: list[Decision] = []
        rules = self.rules
        if rules.speeding is not None:
            radar = self._claim(sighting, RadarReading)
            if radar is not None:
                speeding = check_speeding(radar.speed_kmh, radar.lane, rules.speeding)
                if speeding is not None:
                    decisions.append(speeding)
        if rules.red_light is not None:
            crossing = self._claim(sighting, StopLineCrossing)
            if crossing is not None:
                red = check_red_light(crossing.at, crossing.lane, self._timeline, rules.red_light)
                if red is not None:
                    decisions.append(red)
        if rules.bus_lane is not None:
            bus = check_bus_lane(sighting.seen_at, sighting.lane, rules.bus_lane)
            if bus is not None:
                decisions.append(bus)
        return decisions

    def _claim(self, sighting: Sighting[Token], kind: type[Claimable]) -> Claimable | None:
        """The unclaimed reading of ``kind`` in the sighting's lane nearest to it in time."""
        candidates = [
            reading
            for reading in self._pending.readings
            if isinstance(reading, kind)
            and reading.lane == sighting.lane
            and abs(reading.at - sighting.seen_at) <= self.window
        ]
        if not candidates:
            return None
        nearest = min(candidates, key=lambda reading: abs(reading.at - sighting.seen_at))
        self._pending.readings.remove(nearest)
        return nearest

    def _expire_readings(self, now: datetime) -> list[RadarReading | StopLineCrossing]:
        """Readings no sighting can claim any more: a sighting up to one window later than the
        reading, reported up to the sighting delay late, judged after the reading delay."""
        horizon = now - self.keep_readings
        expired = [reading for reading in self._pending.readings if reading.at < horizon]
        self._pending.readings = [r for r in self._pending.readings if r.at >= horizon]
        unread = [reading for reading in expired if self._is_violation(reading)]
        self.counters.unread_violations += len(unread)
        return unread

    def _is_violation(self, reading: RadarReading | StopLineCrossing) -> bool:
        rules = self.rules
        if isinstance(reading, RadarReading):
            return rules.speeding is not None and (
                check_speeding(reading.speed_kmh, reading.lane, rules.speeding) is not None
            )
        return rules.red_light is not None and (
            check_red_light(reading.at, reading.lane, self._timeline, rules.red_light) is not None
        )
