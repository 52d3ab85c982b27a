"""A registry on a real SQLite file with a movable clock, operators, vehicles, a camera and a
payment terminal; fixations and payments are signed by the devices and go through the real
ingest service (checks, storage, ledger), without the transport."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from central_ingest.cases import CaseService
from central_ingest.config import RegistryConfig, load_config
from central_ingest.core.clock import iso
from central_ingest.ingest.service import Incoming, IngestService
from central_ingest.notify.senders import FileSender
from central_ingest.notify.worker import DeliveryStats, deliver_due
from central_ingest.store.db import Store
from central_ingest.vehicles import SqliteVehicleRegister, VehicleRecord
from central_ingest.wiring import open_registry_store
from contract import (
    AcquirerRefs,
    CardData,
    ClockSource,
    DeviceKey,
    EvidenceRef,
    EvidenceRole,
    Fixation,
    Measurement,
    MessageKind,
    Payment,
    PaymentChannel,
    PlateRead,
    Position,
    ReceiptStatus,
    SignedEnvelope,
    ViolationCode,
    encode_envelope,
    seal,
)
from tests.support.stores import database_overrides

# 11:00 in Astana on a Monday: far from midnight, so local and UTC dates agree.
START = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)

REVIEWERS = ("aigerim", "daniyar")
SUPERVISORS = ("saule", "bolat")

OWNER_PERSON = VehicleRecord(
    plate="123ABC01",
    owner_id="791028302728",
    owner_kind="person",
    owner_name="Nurlan Abenov",
    phone="+77011234567",
    email="n.abenov@example.kz",
    make="Toyota",
    model="Camry",
    colour="white",
)
OWNER_SECOND = VehicleRecord(
    plate="456DEF02",
    owner_id="061211600012",
    owner_kind="person",
    owner_name="Aliya Serikova",
    phone="+77017654321",
    email=None,
    make="Hyundai",
    model="Elantra",
    colour="grey",
)
# The seeds' driver: the register knows who owns the car, not how to reach him (not registered
# by default: tests that need him upsert him).
OWNER_UNREACHABLE = VehicleRecord(
    plate="777KZZ02",
    owner_id="850101300124",
    owner_kind="person",
    owner_name="Askar Omarov",
    phone=None,
    email=None,
    make="Lada",
    model="Vesta",
    colour="white",
)
UNREGISTERED_PLATE = "999ZZZ17"


class Clock:
    """The registry's clock, moved by the test."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return self.now


@dataclass
class RegistryWorld:
    store: Store
    config: RegistryConfig
    clock: Clock
    vehicles: SqliteVehicleRegister
    registry: CaseService
    camera_id: str = "cam-astana-0001"
    terminal_id: str = "term-patrol-0001"
    camera_key: DeviceKey = field(default_factory=DeviceKey.generate)
    terminal_key: DeviceKey = field(default_factory=DeviceKey.generate)
    sequence: int = 0
    tell_drivers: bool = False
    """``open_case`` delivers each new case's notices at once (through the outbox file), as a
    hand-over to bailiffs needs; tests of the notices themselves deliver them their way."""

    @classmethod
    def create(
        cls, tmp_path: Path, *, tell_drivers: bool = False, **config_overrides: Any
    ) -> RegistryWorld:
        config = load_config(data_dir=tmp_path / "registry", **database_overrides(config_overrides))
        store = open_registry_store(config)
        clock = Clock()
        vehicles = SqliteVehicleRegister(store)
        world = cls(
            store=store,
            config=config,
            clock=clock,
            vehicles=vehicles,
            registry=CaseService(store, config, vehicles, clock=clock),
            tell_drivers=tell_drivers,
        )
        world._seed()
        return world

    def _seed(self) -> None:
        at = iso(self.clock.now)
        with self.store.transaction() as db:
            for username, role in [
                *((name, "reviewer") for name in REVIEWERS),
                *((name, "supervisor") for name in SUPERVISORS),
            ]:
                db.conn.execute(
                    "INSERT INTO operators (username, display_name, role, password_hash,"
                    " created_at) VALUES (?, ?, ?, 'not-a-login', ?)",
                    (username, username.title(), role, at),
                )
            for device_id, kind, key in [
                (self.camera_id, "camera", self.camera_key),
                (self.terminal_id, "terminal", self.terminal_key),
            ]:
                db.conn.execute(
                    "INSERT INTO devices (device_id, kind, public_key, registered_at)"
                    " VALUES (?, ?, ?, ?)",
                    (device_id, kind, key.public_key_b64, at),
                )
        self.vehicles.upsert([OWNER_PERSON, OWNER_SECOND])

    # --- what devices send -------------------------------------------------------------------

    def add_fixation(
        self,
        *,
        plate: str = OWNER_PERSON.plate,
        violation: ViolationCode = ViolationCode.SPEEDING,
        speed_kmh: float | None = 85.0,
        limit_kmh: int | None = 60,
        captured_at: datetime | None = None,
        received_at: datetime | None = None,
        confidence: float = 0.96,
    ) -> str:
        """Store a fixation awaiting review, as the ingest would; returns its id."""
        received = received_at or self.clock.now
        captured = captured_at or received - timedelta(seconds=3)
        self.sequence += 1
        images = [
            (EvidenceRole.FULL_FRAME, f"full frame {self.sequence}".encode()),
            (EvidenceRole.PLATE_CROP, f"plate crop {self.sequence}".encode()),
        ]
        fixation = Fixation(
            fixation_id=uuid4(),
            sequence=self.sequence,
            captured_at=captured,
            clock_source=ClockSource.GPS,
            violation=violation,
            plate=PlateRead(text=plate, confidence=confidence, format="kz_person"),
            measurement=Measurement(
                speed_kmh=speed_kmh,
                limit_kmh=limit_kmh,
                light_phase="red" if violation is ViolationCode.RED_LIGHT else None,
            ),
            position=Position(lat=51.128, lon=71.430, fix_quality=1, satellites=9),
            zone="Astana, Kabanbay batyr avenue, km 4",
            evidence=[
                EvidenceRef(
                    role=role, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data)
                )
                for role, data in images
            ],
        )
        at = iso(received)
        with self.store.transaction() as db:
            # Evidence bytes are not images here: only their hashes and sizes matter to ingest.
            db.conn.executemany(
                "INSERT INTO evidence (sha256, size_bytes, content_type, uploaded_by,"
                " stored_at) VALUES (?, ?, 'image/jpeg', ?, ?)",
                [(ref.sha256, ref.size_bytes, self.camera_id, at) for ref in fixation.evidence],
            )
        self._ingest(
            seal(MessageKind.FIXATION, self.camera_id, fixation, self.camera_key), received
        )
        fixation_id = str(fixation.fixation_id)
        return fixation_id

    def pay(
        self,
        case_number: str,
        amount_minor: int,
        *,
        paid_at: datetime | None = None,
        received_at: datetime | None = None,
        channel: PaymentChannel = PaymentChannel.TERMINAL,
    ) -> str:
        """A verified payment message reaching the registry; returns the match status."""
        paid = paid_at or self.clock.now
        received = received_at or paid
        payment = Payment(
            payment_id=uuid4(),
            case_number=case_number,
            amount_minor=amount_minor,
            paid_at=paid,
            channel=channel,
            card=CardData(masked_pan="440043******1234", scheme="visa", aid="A0000000031010"),
            acquirer=AcquirerRefs(approval_code="A1B2C3", rrn="123456789012", stan="000042"),
        )
        self._ingest(
            seal(MessageKind.PAYMENT, self.terminal_id, payment, self.terminal_key), received
        )
        return str(
            self.scalar(
                "SELECT match_status FROM payments WHERE payment_id = ?", str(payment.payment_id)
            )
        )

    def _ingest(self, envelope: SignedEnvelope, received: datetime) -> None:
        outcome = IngestService(self.store, self.config, clock=lambda: received).process(
            Incoming(encode_envelope(envelope), "http")
        )
        if outcome.status is not ReceiptStatus.STORED:
            raise AssertionError(f"the ingest refused a test message: {outcome}")

    # --- looking at the database -------------------------------------------------------------

    def scalar(self, sql: str, *params: Any) -> Any:
        row = self.store.db.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def ledger(self, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
        rows = self.store.db.conn.execute(
            "SELECT action, actor, payload FROM ledger WHERE entity_type = ? AND entity_id = ?"
            " ORDER BY seq",
            (entity_type, entity_id),
        ).fetchall()
        return [
            {"action": action, "actor": actor, "payload": json.loads(payload)}
            for action, actor, payload in rows
        ]

    def open_case(
        self, *, plate: str = OWNER_PERSON.plate, told: bool | None = None, **fixation: Any
    ) -> str:
        """A fixation confirmed by the first reviewer; returns the case number. ``told`` (by
        default the world's ``tell_drivers``): its notices are delivered at once."""
        fixation_id = self.add_fixation(plate=plate, **fixation)
        case_number = self.registry.confirm_fixation(
            fixation_id, REVIEWERS[0], seconds_spent=12.5
        ).case_number
        if self.tell_drivers if told is None else told:
            self.deliver_notices()
        return case_number

    def deliver_notices(self) -> DeliveryStats:
        """Send every queued notice through the outbox file, which counts as delivered."""
        sender = FileSender(self.config.notification_outbox_path, clock=self.clock)
        return deliver_due(self.store, sender, self.clock.now, batch=1000)
