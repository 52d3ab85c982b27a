"""Bus lane: a vehicle in a reserved lane during its signposted hours (local time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from contract import Measurement, ViolationCode
from edge.violations.config import BusLaneRule, BusLaneWindow


@dataclass(frozen=True, slots=True)
class BusLaneDecision:
    lane: int
    window: str
    local_time: datetime
    violation: ViolationCode = ViolationCode.BUS_LANE

    def measurement(self) -> Measurement:
        return Measurement(lane=str(self.lane))


def _in_window(local: datetime, window: BusLaneWindow) -> bool:
    clock = local.time().replace(tzinfo=None)
    if window.start < window.end:
        return local.isoweekday() in window.weekdays and window.start <= clock < window.end
    # Past midnight: the evening part belongs to today, the morning part to yesterday's window.
    if clock >= window.start:
        return local.isoweekday() in window.weekdays
    yesterday = (local - timedelta(days=1)).isoweekday()
    return clock < window.end and yesterday in window.weekdays


def check_bus_lane(seen_at: datetime, lane: int, rule: BusLaneRule) -> BusLaneDecision | None:
    """A decision when ``lane`` is reserved at ``seen_at`` (aware, any zone); windows are
    half-open: [start, end)."""
    if seen_at.tzinfo is None:
        raise ValueError("the time a vehicle was seen must carry its UTC offset")
    if lane not in rule.lanes:
        return None
    local = seen_at.astimezone(rule.local_zone)
    for window in rule.windows:
        if _in_window(local, window):
            return BusLaneDecision(lane=lane, window=window.label, local_time=local)
    return None
