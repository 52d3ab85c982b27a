"""A small registry for the audit tests, written row by row the way the service writes it:
operators, a camera whose key its registration records, three fixations signed by it, a paid
case, a rejected fixation and a cancelled case, and two signed tree heads. The tests then edit
it with the sqlite3 shell, behind the service's back."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from central_ingest.audit import (
    AuditReport,
    TreeHead,
    load_or_create_registry_key,
    sign_tree_head,
    verify_registry,
)
from central_ingest.config import RegistryConfig, load_config
from central_ingest.core.clock import iso
from central_ingest.store.db import Database, Store
from central_ingest.store.ledger import append_entry
from central_ingest.wiring import open_registry_store
from contract import (
    ClockSource,
    DeviceKey,
    EvidenceRef,
    EvidenceRole,
    Fixation,
    Measurement,
    MessageKind,
    PlateRead,
    ViolationCode,
    encode_envelope,
    seal,
)
from tests.support.stores import database_overrides

SQLITE3 = "/usr/bin/sqlite3"
START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
CASE_PAID = "KZ-GP-2025-000001"
CASE_CANCELLED = "KZ-GP-2025-000002"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Registry:
    config: RegistryConfig
    store: Store
    key: DeviceKey
    clock: datetime = START
    camera: DeviceKey = field(default_factory=DeviceKey.generate)

    def tick(self) -> str:
        self.clock += timedelta(minutes=1)
        return iso(self.clock)

    def sign(self) -> TreeHead:
        head = sign_tree_head(self.store, self.key, self.clock)
        assert head is not None
        return head

    def verify(self, case_number: str | None = None, **kwargs: Any) -> AuditReport:
        return verify_registry(self.store, self.key.public_key_b64, case_number, **kwargs)

    def shell(self, sql: str) -> None:
        """An edit with the sqlite3 command-line shell, bypassing the service entirely."""
        subprocess.run([SQLITE3, str(self.config.db_path), sql], check=True, timeout=30)


def _fixation(db: Database, registry: Registry, number: int) -> str:
    """A fixation as the ingest stores it: the envelope its camera signed kept verbatim, the
    row, its evidence links, and the "received" entry recording the envelope's hash."""
    fixation_id = f"00000000-0000-4000-8000-{number:012d}"
    now = registry.tick()
    image = hashlib.sha256(f"frame {number}".encode()).hexdigest()
    body = Fixation(
        fixation_id=UUID(fixation_id),
        sequence=number,
        captured_at=registry.clock,
        clock_source=ClockSource.GPS,
        violation=ViolationCode.SPEEDING,
        plate=PlateRead(text=f"{100 + number}ABC01", confidence=0.97, format="kz_person"),
        measurement=Measurement(speed_kmh=95.0, limit_kmh=60),
        zone="Astana, Mangilik El 10",
        evidence=[EvidenceRef(role=EvidenceRole.FULL_FRAME, sha256=image, size_bytes=7)],
    )
    envelope = encode_envelope(
        seal(MessageKind.FIXATION, "cam-001", body, registry.camera, sent_at=registry.clock)
    )
    db.conn.execute(
        "INSERT INTO messages (message_id, device_id, kind, channel, received_at,"
        " envelope_sha256, envelope) VALUES (?, 'cam-001', 'fixation', 'mqtt', ?, ?, ?)",
        (fixation_id, now, hashlib.sha256(envelope).hexdigest(), envelope.decode()),
    )
    db.conn.execute(
        "INSERT INTO fixations (fixation_id, message_id, device_id, sequence, captured_at,"
        " received_at, violation, plate_text, plate_confidence, plate_format, speed_kmh,"
        " limit_kmh, zone) VALUES (?, ?, 'cam-001', ?, ?, ?, 'speeding', ?, 0.97,"
        " 'kz_person', 95.0, 60, 'Astana, Mangilik El 10')",
        (fixation_id, fixation_id, number, now, now, body.plate.text),
    )
    db.conn.execute(
        "INSERT INTO evidence (sha256, size_bytes, content_type, uploaded_by, stored_at)"
        " VALUES (?, 7, 'image/jpeg', 'cam-001', ?)",
        (image, now),
    )
    db.conn.execute(
        "INSERT INTO fixation_evidence (fixation_id, sha256, role) VALUES (?, ?, 'full_frame')",
        (fixation_id, image),
    )
    append_entry(
        db,
        recorded_at=now,
        entity_type="fixation",
        entity_id=fixation_id,
        action="received",
        actor="device:cam-001",
        payload={
            "status": "awaiting_review",
            "envelope_sha256": hashlib.sha256(envelope).hexdigest(),
            "violation": "speeding",
            "plate": body.plate.text,
            "captured_at": now,
        },
    )
    return fixation_id


def _decide(db: Database, registry: Registry, fixation_id: str, status: str) -> None:
    now = registry.tick()
    reason = "plate_unreadable" if status == "rejected" else None
    db.conn.execute(
        "UPDATE fixations SET status = ?, decided_at = ?, decided_by = 'olga', seconds_spent = 14,"
        " reject_reason = ? WHERE fixation_id = ?",
        (status, now, reason, fixation_id),
    )
    decision: dict[str, object] = (
        {"reason": reason} if status == "rejected" else {"corrected_plate": None}
    )
    append_entry(
        db,
        recorded_at=now,
        entity_type="fixation",
        entity_id=fixation_id,
        action=status,
        actor="officer:olga",
        payload={"status": status, "officer": "olga", "seconds_spent": 14, **decision},
    )


# The case's terms as the opening records them (a few fields, all compared by the verifier).
_TERMS = {
    "plate": "101ABC01",
    "owner_id": None,
    "article": "592",
    "part": "3",
    "fine_mrp": 20,
    "mrp_kzt": 3932,
    "fine_minor": 7864000,
    "discount_percent": 50,
    "resolved_by": "olga",
}


def _open_case(db: Database, registry: Registry, case_number: str, fixation_id: str) -> None:
    now = registry.tick()
    db.conn.execute(
        "INSERT INTO cases (case_number, fixation_id, plate, violation, article, part,"
        " offence_at, mrp_kzt, fine_mrp, fine_minor, discount_percent, resolution_at,"
        " resolved_by, discount_deadline, entry_into_force, voluntary_deadline, limitation_at,"
        " status, paid_minor, updated_at) VALUES (?, ?, '101ABC01', 'speeding', '592', '3',"
        " ?, 3932, 20, 7864000, 50, ?, 'olga', ?, ?, ?, ?, 'open', 0, ?)",
        (case_number, fixation_id, now, now, now, now, now, now, now),
    )
    dates = (
        "offence_at",
        "discount_deadline",
        "entry_into_force",
        "voluntary_deadline",
        "limitation_at",
    )
    _case_entry(
        db,
        now,
        case_number,
        "opened",
        "officer:olga",
        "open",
        0,
        fixation_id=fixation_id,
        **_TERMS,
        **dict.fromkeys(dates, now),
    )


def _case_entry(
    db: Database,
    now: str,
    case_number: str,
    action: str,
    actor: str,
    status: str,
    paid_minor: int,
    **details: object,
) -> None:
    append_entry(
        db,
        recorded_at=now,
        entity_type="case",
        entity_id=case_number,
        action=action,
        actor=actor,
        payload={"status": status, "paid_minor": paid_minor, **details},
    )


def build_registry(tmp_path: Path) -> Registry:
    """A registry with three fixations, a paid case, a rejected fixation and a cancelled case,
    and two signed tree heads, written the way the service writes it."""
    config = load_config(None, **database_overrides({"data_dir": tmp_path / "registry"}))
    store = open_registry_store(config)
    registry = Registry(config, store, load_or_create_registry_key(config.registry_key_path))
    with store.transaction() as db:
        now = registry.tick()
        for username, role in (("olga", "reviewer"), ("sam", "supervisor")):
            db.conn.execute(
                "INSERT INTO operators (username, display_name, role, password_hash, created_at)"
                " VALUES (?, ?, ?, 'x', ?)",
                (username, username.title(), role, now),
            )
            append_entry(
                db,
                recorded_at=now,
                entity_type="operator",
                entity_id=username,
                action="created",
                actor="system:setup",
                payload={"role": role},
            )
        db.conn.execute(
            "INSERT INTO devices (device_id, kind, public_key, registered_at)"
            " VALUES ('cam-001', 'camera', ?, ?)",
            (registry.camera.public_key_b64, now),
        )
        append_entry(
            db,
            recorded_at=now,
            entity_type="device",
            entity_id="cam-001",
            action="registered",
            actor="officer:sam",
            payload={"kind": "camera", "public_key": registry.camera.public_key_b64},
        )
    fixations = []
    for number in (1, 2, 3):
        with store.transaction() as db:
            fixations.append(_fixation(db, registry, number))
    registry.sign()
    with store.transaction() as db:
        _decide(db, registry, fixations[0], "confirmed")
        _open_case(db, registry, CASE_PAID, fixations[0])
    with store.transaction() as db:
        _decide(db, registry, fixations[1], "rejected")
    with store.transaction() as db:
        now = registry.tick()
        db.conn.execute(
            "INSERT INTO messages (message_id, device_id, kind, channel, received_at,"
            " envelope_sha256, envelope) VALUES ('pay-1', 'cam-001', 'payment', 'http', ?,"
            " 'ab', '{}')",
            (now,),
        )
        db.conn.execute(
            "INSERT INTO payments (payment_id, message_id, device_id, case_number, matched_case,"
            " amount_minor, currency, paid_at, received_at, channel, due_minor, match_status)"
            " VALUES ('pay-1', 'pay-1', 'cam-001', ?, ?, 3932000, 'KZT', ?, ?, 'terminal',"
            " 3932000, 'settled')",
            (CASE_PAID, CASE_PAID, now, now),
        )
        append_entry(
            db,
            recorded_at=now,
            entity_type="payment",
            entity_id="pay-1",
            action="received",
            actor="device:cam-001",
            payload={"amount_minor": 3932000, "case_number": CASE_PAID},
        )
        db.conn.execute(
            "UPDATE cases SET status = 'paid', paid_minor = 3932000 WHERE case_number = ?",
            (CASE_PAID,),
        )
        _case_entry(db, now, CASE_PAID, "paid", "device:cam-001", "paid", 3932000)
    with store.transaction() as db:
        _decide(db, registry, fixations[2], "confirmed")
        _open_case(db, registry, CASE_CANCELLED, fixations[2])
        now = registry.tick()
        db.conn.execute(
            "INSERT INTO cancellation_requests (case_number, requested_by, requested_at, reason,"
            " status, decided_by, decided_at) VALUES (?, 'olga', ?, 'wrong vehicle', 'approved',"
            " 'sam', ?)",
            (CASE_CANCELLED, now, now),
        )
        append_entry(
            db,
            recorded_at=now,
            entity_type="cancellation",
            entity_id="1",
            action="approved",
            actor="officer:sam",
            payload={"case_number": CASE_CANCELLED, "requested_by": "olga"},
        )
        db.conn.execute(
            "UPDATE cases SET status = 'cancelled' WHERE case_number = ?", (CASE_CANCELLED,)
        )
        _case_entry(db, now, CASE_CANCELLED, "cancelled", "officer:sam", "cancelled", 0)
    registry.tick()
    registry.sign()
    return registry
