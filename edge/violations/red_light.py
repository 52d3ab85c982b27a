"""Red light: a stop-line crossing while the signal shows red, after a grace period."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from contract import Measurement, ViolationCode
from edge.violations.config import RedLightRule

Phase = Literal["red", "amber", "green"]
_HISTORY = 64


@dataclass(frozen=True, slots=True)
class PhaseSpan:
    phase: Phase
    since: datetime


class PhaseTimeline:
    """The signal's recent phase changes, so a crossing is judged by the phase at the moment
    of the crossing even when the controller's message arrives a little after it."""

    def __init__(self) -> None:
        self._changes: list[PhaseSpan] = []

    def record(self, phase: Phase, at: datetime) -> None:
        index = bisect.bisect_right([c.since for c in self._changes], at)
        self._changes.insert(index, PhaseSpan(phase, at))
        del self._changes[:-_HISTORY]

    def phase_at(self, at: datetime) -> PhaseSpan | None:
        """The phase showing at ``at``, or None if no change is known before it."""
        index = bisect.bisect_right([c.since for c in self._changes], at)
        return self._changes[index - 1] if index else None


@dataclass(frozen=True, slots=True)
class RedLightDecision:
    lane: int
    red_elapsed_ms: int
    violation: ViolationCode = ViolationCode.RED_LIGHT

    def measurement(self) -> Measurement:
        return Measurement(
            light_phase="red", red_elapsed_ms=self.red_elapsed_ms, lane=str(self.lane)
        )


def check_red_light(
    crossed_at: datetime, lane: int, timeline: PhaseTimeline, rule: RedLightRule
) -> RedLightDecision | None:
    """A decision when the crossing of a watched stop line happened more than the grace period
    into red. Amber, green, an unknown phase or another lane: None."""
    if lane not in rule.stop_line_lanes:
        return None
    span = timeline.phase_at(crossed_at)
    if span is None or span.phase != "red":
        return None
    elapsed_ms = int((crossed_at - span.since).total_seconds() * 1000)
    if elapsed_ms <= rule.red_grace_ms:
        return None
    return RedLightDecision(lane=lane, red_elapsed_ms=elapsed_ms)
