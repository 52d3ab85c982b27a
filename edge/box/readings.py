"""What the bridge process hands the recorder, as plain values (no serial, no SQLite)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contract import ClockSource, Position
from firmware_bridge import Direction, LightPhase, LightPhaseChange, LoopCrossing, LoopKind
from firmware_bridge import RadarSpeed as RadarMessage


@dataclass(frozen=True, slots=True)
class RadarReading:
    speed_kmh: float
    direction: Direction
    lane: int
    at: datetime
    clock: ClockSource


@dataclass(frozen=True, slots=True)
class StopLineCrossing:
    lane: int
    at: datetime
    clock: ClockSource


@dataclass(frozen=True, slots=True)
class PhaseChange:
    phase: LightPhase
    at: datetime


SensorReading = RadarReading | StopLineCrossing | PhaseChange


def reading_from_message(message: object) -> SensorReading | None:
    """The journal entry for a microcontroller message, None for messages that are state
    (tamper, heartbeat, GPS) or not about traffic (trigger-loop crossings only wake the camera)."""
    if isinstance(message, RadarMessage):
        return RadarReading(
            message.speed_kmh, message.direction, message.lane, message.at, message.clock
        )
    if isinstance(message, LoopCrossing) and message.loop is LoopKind.STOP_LINE:
        return StopLineCrossing(message.lane, message.at, message.clock)
    if isinstance(message, LightPhaseChange):
        return PhaseChange(message.phase, message.at)
    return None


@dataclass(frozen=True, slots=True)
class BoxState:
    """The box's condition as its processes last wrote it; times are UNIX seconds."""

    tamper_open: bool = False
    mcu_heard_at: float | None = None
    mcu_link_error: str | None = None
    camera_frame_at: float | None = None
    camera_error: str | None = None
    position: Position | None = None
    position_at: float | None = None
    illuminator_wanted: bool | None = None
