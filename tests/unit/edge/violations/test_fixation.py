"""Joining a decision with plate, time, GPS and evidence into a signed contract fixation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from pydantic import ValidationError

from contract import (
    ClockSource,
    DeviceKey,
    EvidenceRef,
    EvidenceRole,
    Fixation,
    MessageKind,
    PlateRead,
    load_public_key,
    signed_bytes,
    verify_signature,
)
from edge.violations import (
    CameraRules,
    PhaseTimeline,
    RedLightRule,
    SpeedingRule,
    build_fixation,
    check_red_light,
    check_speeding,
)
from firmware_bridge.gps import GpsReading, GpsTracker
from firmware_bridge.simulator.nmea import fix_sentences, no_fix_sentences

RULES = CameraRules(
    camera_id="cam-astana-017",
    zone="Astana, Kabanbay Batyr / Turan",
    speeding=SpeedingRule(limit_kmh=60, tolerance_kmh=10),
    red_light=RedLightRule(stop_line_lanes=frozenset({2})),
)
CAPTURED = datetime(2026, 3, 2, 3, 15, 7, 250_000, tzinfo=UTC)
PLATE = PlateRead(text="123ABC01", confidence=0.97, format="kz_person", box=(812, 544, 180, 44))


def evidence(role: EvidenceRole, content: bytes) -> EvidenceRef:
    return EvidenceRef(
        role=role, sha256=hashlib.sha256(content).hexdigest(), size_bytes=len(content)
    )


FULL = evidence(EvidenceRole.FULL_FRAME, b"full frame jpeg bytes")
CROP = evidence(EvidenceRole.PLATE_CROP, b"plate crop jpeg bytes")


def gps(*sentences: str) -> GpsReading:
    tracker = GpsTracker()
    for sentence in sentences:
        tracker.feed(sentence, 0.0)
    return tracker.reading(0.0)


def test_a_speeding_fixation_joins_every_input() -> None:
    decision = check_speeding(97.0, lane=2, rule=RULES.speeding)  # type: ignore[arg-type]
    assert decision is not None
    made = build_fixation(
        rules=RULES,
        decision=decision,
        plate=PLATE,
        captured_at=CAPTURED,
        clock_source=ClockSource.GPS,
        position=gps(*fix_sentences(51.1283, 71.4305, 9, CAPTURED)).position,
        evidence=[FULL, CROP],
        sequence=41,
        fixation_id=UUID(int=7),
    )
    fixation = made.fixation
    assert made.camera_id == "cam-astana-017"
    assert fixation.fixation_id == UUID(int=7) and fixation.sequence == 41
    assert fixation.violation.value == "speeding"
    assert fixation.plate == PLATE
    assert fixation.captured_at == CAPTURED and fixation.clock_source is ClockSource.GPS
    assert fixation.measurement.speed_kmh == 97.0 and fixation.measurement.limit_kmh == 60
    assert fixation.position is not None and fixation.position.satellites == 9
    assert fixation.zone == RULES.zone
    assert [ref.sha256 for ref in fixation.evidence] == [FULL.sha256, CROP.sha256]


def test_without_a_validated_fix_the_fixation_carries_no_position() -> None:
    decision = check_speeding(97.0, lane=2, rule=RULES.speeding)  # type: ignore[arg-type]
    assert decision is not None
    for reading in (
        gps(*no_fix_sentences(CAPTURED)),
        gps(*fix_sentences(51.1, 71.4, 2, CAPTURED)),
        None,
    ):
        made = build_fixation(
            rules=RULES,
            decision=decision,
            plate=PLATE,
            captured_at=CAPTURED,
            clock_source=ClockSource.RTC,
            position=None if reading is None else reading.position,
            evidence=[FULL],
            sequence=1,
        )
        assert made.fixation.position is None


def test_a_red_light_fixation_carries_phase_and_elapsed_time() -> None:
    timeline = PhaseTimeline()
    timeline.record("red", CAPTURED - timedelta(seconds=3))
    decision = check_red_light(CAPTURED, 2, timeline, RULES.red_light)  # type: ignore[arg-type]
    assert decision is not None
    fixation = build_fixation(
        rules=RULES,
        decision=decision,
        plate=PLATE,
        captured_at=CAPTURED,
        clock_source=ClockSource.NTP,
        position=None,
        evidence=[FULL],
        sequence=2,
    ).fixation
    assert fixation.violation.value == "red_light"
    assert (fixation.measurement.light_phase, fixation.measurement.red_elapsed_ms) == ("red", 3000)


def test_evidence_must_include_a_full_frame() -> None:
    decision = check_speeding(97.0, lane=2, rule=RULES.speeding)  # type: ignore[arg-type]
    assert decision is not None
    with pytest.raises(ValidationError, match="full_frame"):
        build_fixation(
            rules=RULES,
            decision=decision,
            plate=PLATE,
            captured_at=CAPTURED,
            clock_source=ClockSource.GPS,
            position=None,
            evidence=[CROP],
            sequence=3,
        )


def test_the_fixation_seals_under_the_camera_id_and_verifies() -> None:
    key = DeviceKey.generate()
    decision = check_speeding(97.0, lane=2, rule=RULES.speeding)  # type: ignore[arg-type]
    assert decision is not None
    made = build_fixation(
        rules=RULES,
        decision=decision,
        plate=PLATE,
        captured_at=CAPTURED,
        clock_source=ClockSource.GPS,
        position=None,
        evidence=[FULL],
        sequence=4,
    )
    envelope = made.seal(key)
    assert envelope.kind is MessageKind.FIXATION and envelope.device_id == "cam-astana-017"
    assert Fixation.model_validate(envelope.body) == made.fixation
    as_sent = envelope.model_dump(mode="json")
    assert verify_signature(
        load_public_key(key.public_key_b64), signed_bytes(as_sent), envelope.signature
    )
