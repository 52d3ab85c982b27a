"""Devices as the registry sees them: provisioned keys, real JPEG evidence, signed messages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from central_ingest.store.db import Store
from central_ingest.store.devices import register_device
from contract import (
    ClockSource,
    DeviceKey,
    DeviceKind,
    EvidenceRef,
    EvidenceRole,
    Fixation,
    Measurement,
    MessageKind,
    PlateRead,
    Position,
    ViolationCode,
    encode_envelope,
    now_utc,
    seal,
)


@dataclass
class SimulatedDevice:
    device_id: str
    kind: DeviceKind
    key: DeviceKey = field(default_factory=DeviceKey.generate)
    sequence: int = 0

    def register(self, store: Store) -> SimulatedDevice:
        register_device(
            store,
            device_id=self.device_id,
            kind=self.kind,
            public_key_b64=self.key.public_key_b64,
            description=f"test {self.kind.value}",
            actor="officer:provisioning-test",
            now=now_utc(),
        )
        return self

    def seal(self, kind: MessageKind, body: Fixation, message_id: UUID | None = None) -> bytes:
        return encode_envelope(seal(kind, self.device_id, body, self.key, message_id=message_id))


def evidence_ref(role: EvidenceRole, data: bytes) -> EvidenceRef:
    return EvidenceRef(role=role, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))


def speeding_fixation(
    camera: SimulatedDevice,
    *,
    plate: str = "123ABC01",
    speed_kmh: float = 95.0,
    limit_kmh: int = 60,
    captured_at: datetime | None = None,
    evidence: list[EvidenceRef] | None = None,
) -> Fixation:
    camera.sequence += 1
    return Fixation(
        fixation_id=uuid4(),
        sequence=camera.sequence,
        captured_at=captured_at or now_utc() - timedelta(seconds=2),
        clock_source=ClockSource.GPS,
        violation=ViolationCode.SPEEDING,
        plate=PlateRead(text=plate, confidence=0.97, format="kz_person", box=(410, 520, 180, 40)),
        measurement=Measurement(speed_kmh=speed_kmh, limit_kmh=limit_kmh, tolerance_kmh=0),
        position=Position(lat=51.128, lon=71.430, fix_quality=1, satellites=9),
        zone="Astana, Kabanbay batyr avenue, km 4",
        evidence=evidence
        or [EvidenceRef(role=EvidenceRole.FULL_FRAME, sha256="0" * 64, size_bytes=1)],
    )
