"""Speeding: a radar reading against the zone limit plus tolerance.

The article 592 bands only label the decision for the operator; the registry computes the fine
(``central_ingest.core.fines``) from the measurement the fixation carries.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract import Measurement, ViolationCode
from edge.violations.config import SpeedingRule

# (lowest excess over the limit in km/h, label); each band covers [its minimum, the next one).
ARTICLE_592_BANDS: tuple[tuple[int, str], ...] = (
    (10, "art. 592: 10-20 km/h over"),
    (20, "art. 592: 20-40 km/h over"),
    (40, "art. 592: 40-60 km/h over"),
    (60, "art. 592: over 60 km/h over"),
)
BELOW_BANDS_LABEL = "under 10 km/h over: no article 592 band"


def band_label(excess_kmh: float) -> str:
    label = BELOW_BANDS_LABEL
    for minimum, band in ARTICLE_592_BANDS:
        if excess_kmh >= minimum:
            label = band
    return label


@dataclass(frozen=True, slots=True)
class SpeedingDecision:
    speed_kmh: float
    limit_kmh: int
    tolerance_kmh: int
    lane: int
    band: str
    violation: ViolationCode = ViolationCode.SPEEDING

    @property
    def excess_kmh(self) -> float:
        return self.speed_kmh - self.limit_kmh

    def measurement(self) -> Measurement:
        return Measurement(
            speed_kmh=self.speed_kmh,
            limit_kmh=self.limit_kmh,
            tolerance_kmh=self.tolerance_kmh,
            lane=str(self.lane),
        )


def check_speeding(speed_kmh: float, lane: int, rule: SpeedingRule) -> SpeedingDecision | None:
    """A decision when ``speed_kmh`` exceeds limit + tolerance; None at or below it."""
    if speed_kmh <= rule.limit_kmh + rule.tolerance_kmh:
        return None
    return SpeedingDecision(
        speed_kmh=speed_kmh,
        limit_kmh=rule.limit_kmh,
        tolerance_kmh=rule.tolerance_kmh,
        lane=lane,
        band=band_label(speed_kmh - rule.limit_kmh),
    )
