"""Joining a rule's decision with the plate read, time, position and evidence into a fixation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from contract import (
    ClockSource,
    DeviceKey,
    EvidenceRef,
    Fixation,
    MessageKind,
    PlateRead,
    Position,
    SignedEnvelope,
    seal,
)
from edge.violations.bus_lane import BusLaneDecision
from edge.violations.config import CameraRules
from edge.violations.red_light import RedLightDecision
from edge.violations.speeding import SpeedingDecision

Decision = SpeedingDecision | RedLightDecision | BusLaneDecision


@dataclass(frozen=True, slots=True)
class CameraFixation:
    """A fixation and the camera that made it, ready to be signed with that camera's key."""

    camera_id: str
    fixation: Fixation

    def seal(self, key: DeviceKey, message_id: UUID | None = None) -> SignedEnvelope:
        return seal(MessageKind.FIXATION, self.camera_id, self.fixation, key, message_id=message_id)


def build_fixation(
    *,
    rules: CameraRules,
    decision: Decision,
    plate: PlateRead,
    captured_at: datetime,
    clock_source: ClockSource,
    position: Position | None,
    evidence: list[EvidenceRef],
    sequence: int,
    fixation_id: UUID | None = None,
) -> CameraFixation:
    """The fixation for ``decision``. ``position`` must be a validated fix (the bridge's
    ``GpsTracker`` offers one only when RMC is valid and GGA has a fix); without one the
    fixation has no position rather than a wrong one. Raises pydantic.ValidationError if a
    field is out of range, e.g. no full-frame evidence image."""
    return CameraFixation(
        camera_id=rules.camera_id,
        fixation=Fixation(
            fixation_id=fixation_id or uuid4(),
            sequence=sequence,
            captured_at=captured_at,
            clock_source=clock_source,
            violation=decision.violation,
            plate=plate,
            measurement=decision.measurement(),
            position=position,
            zone=rules.zone,
            evidence=evidence,
        ),
    )
