"""A registry database with cases written straight into it, for the notification tests: many
cases quickly, each with its notices queued in the case's transaction as the lifecycle does."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from central_ingest.config import RegistryConfig
from central_ingest.core.clock import iso
from central_ingest.notify.outbox import enqueue_case_opened
from central_ingest.notify.senders import DeliveryError, Notification
from central_ingest.store.db import Store, open_store
from tests.support.stores import registry_target

RESOLUTION_AT = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # 15:00 in Astana
CONFIG = RegistryConfig(case_link_base_url="https://erap.example.kz/cases")


def outbox_store(tmp_path: Path) -> Store:
    """A registry file with the camera and the officer the cases refer to."""
    store = open_store(registry_target(tmp_path / "registry.sqlite3"))
    with store.transaction() as db:
        db.conn.execute(
            "INSERT INTO devices (device_id, kind, public_key, registered_at)"
            " VALUES ('cam-astana-001', 'camera', 'test-key', ?)",
            (iso(RESOLUTION_AT),),
        )
        db.conn.execute(
            "INSERT INTO operators (username, display_name, role, password_hash, created_at)"
            " VALUES ('reviewer1', 'Reviewer One', 'reviewer', 'x', ?)",
            (iso(RESOLUTION_AT),),
        )
    return store


def open_case(
    store: Store,
    number: int,
    *,
    phone: str | None = "+77011234567",
    email: str | None = "owner@example.kz",
    language: str | None = "ru",
    config: RegistryConfig = CONFIG,
    discount_percent: int = 50,
) -> dict[str, Any]:
    """A red-light case of 10 MRP in 2026 (43 250 KZT) written straight into the cases table,
    with its notices queued in the same transaction, as the case lifecycle does: many cases
    quickly, for the delivery tests."""
    fixation_id, message_id = str(uuid.uuid4()), str(uuid.uuid4())
    offence_at = RESOLUTION_AT - timedelta(days=1, hours=2)
    case = {
        "case_number": f"KZ-GP-2026-{number:07d}",
        "fixation_id": fixation_id,
        "plate": "123ABC01",
        "owner_id": "791028302728",
        "owner_name": "Нурлан Ахметов",
        "owner_phone": phone,
        "owner_email": email,
        "owner_language": language,
        "violation": "red_light",
        "article": "599",
        "part": "1",
        "offence_at": iso(offence_at),
        "mrp_kzt": 4325,
        "fine_mrp": 10,
        "fine_minor": 4_325_000,
        "discount_percent": discount_percent,
        "resolution_at": iso(RESOLUTION_AT),
        "resolved_by": "reviewer1",
        "discount_deadline": iso(RESOLUTION_AT + timedelta(days=7)),
        "entry_into_force": iso(RESOLUTION_AT + timedelta(days=10)),
        "voluntary_deadline": iso(RESOLUTION_AT + timedelta(days=40)),
        "limitation_at": iso(RESOLUTION_AT + timedelta(days=375)),
        "updated_at": iso(RESOLUTION_AT),
    }
    with store.transaction() as db:
        db.conn.execute(
            "INSERT INTO messages VALUES (?, 'cam-astana-001', 'fixation', 'http', ?, 'h', '{}')",
            (message_id, iso(offence_at)),
        )
        db.conn.execute(
            "INSERT INTO fixations (fixation_id, message_id, device_id, sequence, captured_at,"
            " received_at, violation, plate_text, plate_confidence, plate_format, zone,"
            " status, decided_at, decided_by) VALUES (?, ?, 'cam-astana-001', ?, ?, ?,"
            " 'red_light', '123ABC01', 0.97, 'kz_person', 'Kabanbay Batyr / Turan',"
            " 'confirmed', ?, 'reviewer1')",
            (fixation_id, message_id, number, iso(offence_at), iso(offence_at), iso(RESOLUTION_AT)),
        )
        db.conn.execute(
            f"INSERT INTO cases ({', '.join(case)}) VALUES ({', '.join('?' * len(case))})",
            tuple(case.values()),
        )
        case["queued"] = enqueue_case_opened(db, case, config, RESOLUTION_AT)
    return case


# A notice's link names a random token of the driver's case page (central_ingest/driver),
# as long as a case number; the texts' tests read it as the case number it opens, which
# tests/integration/central_ingest/driver checks it does.
PAGE_LINK = re.compile(r"(https://\S+/)[A-Za-z0-9_-]{18}(?![A-Za-z0-9_-])")


def with_case_links(line: dict[str, Any]) -> dict[str, Any]:
    """The notice with its link written as ``.../cases/<case number>``."""
    number = line["case_number"]
    for field in ("body", "subject"):
        if isinstance(line.get(field), str):
            line[field] = PAGE_LINK.sub(lambda match: match.group(1) + number, line[field])
    return line


def rows(store: Store) -> list[dict[str, Any]]:
    return [
        with_case_links(row)
        for row in store.db.query("SELECT * FROM notifications ORDER BY notification_id")
    ]


def delivered(path: Path) -> list[dict[str, Any]]:
    return [
        with_case_links(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()
    ]


class GatewayStandIn:
    """Stands for the SMS gateway, which cannot exist here: fails as told, records the rest."""

    def __init__(self, failures: list[DeliveryError | Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.accepted: list[Notification] = []

    def send(self, notification: Notification) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.accepted.append(notification)
