"""Violation rules as a pure core: no clocks, files or network, only decisions.

- ``CameraRules`` (pydantic) configures per camera which rules apply: ``SpeedingRule`` (limit
  and tolerance), ``RedLightRule`` (watched stop lines, grace after red), ``BusLaneRule``
  (lanes and hours, local time UTC+5).
- ``check_speeding``, ``check_red_light`` (with a ``PhaseTimeline``), ``check_bus_lane`` return
  a decision or None; a decision knows its ``ViolationCode`` and its contract ``Measurement``.
- ``build_fixation`` joins a decision with the plate read, capture time and clock source, the
  validated GPS position and the evidence references into a ``contract.Fixation``; its
  ``CameraFixation.seal`` signs it with the camera's key through ``contract.seal``.
"""

from edge.violations.bus_lane import BusLaneDecision, check_bus_lane
from edge.violations.config import (
    KAZAKHSTAN_UTC_OFFSET_HOURS,
    BusLaneRule,
    BusLaneWindow,
    CameraRules,
    RedLightRule,
    SpeedingRule,
)
from edge.violations.fixation import CameraFixation, Decision, build_fixation
from edge.violations.red_light import (
    Phase,
    PhaseSpan,
    PhaseTimeline,
    RedLightDecision,
    check_red_light,
)
from edge.violations.speeding import (
    ARTICLE_592_BANDS,
    SpeedingDecision,
    band_label,
    check_speeding,
)

__all__ = [
    "ARTICLE_592_BANDS",
    "KAZAKHSTAN_UTC_OFFSET_HOURS",
    "BusLaneDecision",
    "BusLaneRule",
    "BusLaneWindow",
    "CameraFixation",
    "CameraRules",
    "Decision",
    "Phase",
    "PhaseSpan",
    "PhaseTimeline",
    "RedLightDecision",
    "RedLightRule",
    "SpeedingDecision",
    "SpeedingRule",
    "band_label",
    "build_fixation",
    "check_bus_lane",
    "check_red_light",
    "check_speeding",
]
