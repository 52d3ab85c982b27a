"""Per-camera configuration of the violation rules (validated with pydantic)."""

from __future__ import annotations

from datetime import time, timedelta, timezone

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contract.wire import DeviceId

KAZAKHSTAN_UTC_OFFSET_HOURS = 5
"""One time zone, UTC+5, since March 2024; bus-lane hours are signposted in local time."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpeedingRule(_Config):
    limit_kmh: int = Field(gt=0, le=200, description="posted limit of the zone")
    tolerance_kmh: int = Field(
        default=10, ge=0, le=50, description="no violation up to limit + tolerance inclusive"
    )


class RedLightRule(_Config):
    stop_line_lanes: frozenset[int] = Field(min_length=1)
    red_grace_ms: int = Field(
        default=300,
        ge=0,
        le=5_000,
        description="a crossing this soon after red began is not a violation (the driver was "
        "committed at amber, and loop and controller clocks differ by a few hundred ms)",
    )


class BusLaneWindow(_Config):
    """Hours during which the lane is reserved, local time. ``end`` before ``start`` means the
    window runs past midnight; ``weekdays`` are ISO numbers (1 Monday .. 7 Sunday) of the day
    the window starts on."""

    start: time
    end: time
    weekdays: frozenset[int] = Field(default=frozenset(range(1, 8)), min_length=1)

    @model_validator(mode="after")
    def _valid(self) -> BusLaneWindow:
        if self.start == self.end:
            raise ValueError("a bus-lane window needs different start and end times")
        if not self.weekdays <= frozenset(range(1, 8)):
            raise ValueError("weekdays are 1 (Monday) to 7 (Sunday)")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("bus-lane hours are local wall-clock times, without a time zone")
        return self

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class BusLaneRule(_Config):
    lanes: frozenset[int] = Field(min_length=1)
    windows: list[BusLaneWindow] = Field(min_length=1)
    utc_offset_hours: int = Field(default=KAZAKHSTAN_UTC_OFFSET_HOURS, ge=-12, le=14)

    @property
    def local_zone(self) -> timezone:
        return timezone(timedelta(hours=self.utc_offset_hours))


class CameraRules(_Config):
    """Which rules one camera enforces, and where it stands."""

    camera_id: DeviceId
    zone: str = Field(min_length=1, max_length=120, description="place name or zone id")
    speeding: SpeedingRule | None = None
    red_light: RedLightRule | None = None
    bus_lane: BusLaneRule | None = None

    @model_validator(mode="after")
    def _enforces_something(self) -> CameraRules:
        if self.speeding is None and self.red_light is None and self.bus_lane is None:
            raise ValueError(f"camera {self.camera_id} has no rule configured")
        return self
