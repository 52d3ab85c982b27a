"""`audit verify` sees every field that matters in law: a registry written by the real service
(signed fixations through the ingest, an officer's confirmation with a corrected plate, a
rejection, a payment), then one stored value changed with a plain sqlite3 (or psql) connection, the
way an intruder with the database would, and the verifier must name that table, row and field."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from central_ingest.audit import AuditReport, load_or_create_registry_key, verify_registry
from central_ingest.core.cases import RejectReason
from central_ingest.store.db import open_store
from central_ingest.store.postgres.db import translate
from contract import DeviceKey
from tests.support.paths import SUPPORT
from tests.support.registry_fixtures import OWNER_PERSON, OWNER_SECOND, REVIEWERS, RegistryWorld
from tests.support.stores import superuser_database

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")

V1_DUMP = SUPPORT / "registry-schema-v1.sql"


@dataclass
class Built:
    world: RegistryWorld
    public_key: str
    pending: str
    confirmed: str
    rejected: str
    case: str

    def verify(self) -> AuditReport:
        return verify_registry(self.world.store, self.public_key)

    def edit(self, sql: str, *params: object) -> None:
        """An edit behind the service's back; the schema's guards are dropped first, as an
        intruder would, so that only the verifier stands in the way. On PostgreSQL the
        intruder is the server's superuser, whose session fires no trigger at all."""
        superuser = superuser_database()
        if superuser is not None:
            if sql.startswith("DROP TRIGGER"):
                return  # the replica role below already silences every trigger
            with psycopg.connect(superuser, autocommit=True) as pg:
                pg.execute("SET session_replication_role = replica")
                pg.execute(translate(sql), params)
            return
        conn = sqlite3.connect(self.world.config.db_path)
        try:
            conn.executescript(
                "DROP TRIGGER IF EXISTS fixation_decided_once;"
                " DROP TRIGGER IF EXISTS case_closed_stays_closed;"
                " DROP TRIGGER IF EXISTS case_cancelled_needs_approval;"
            )
            conn.execute(sql, params)
            conn.commit()
        finally:
            conn.close()


@pytest.fixture
def built(tmp_path: Path) -> Iterator[Built]:
    world = RegistryWorld.create(tmp_path)
    key = load_or_create_registry_key(world.config.registry_key_path)
    pending = world.add_fixation()
    confirmed = world.add_fixation(plate="456DEF00")
    case = world.registry.confirm_fixation(
        confirmed,
        REVIEWERS[0],
        seconds_spent=20.0,
        corrected_plate=OWNER_SECOND.plate,
        correction_reason="the reader took a 2 for a 0",
    ).case_number
    rejected = world.add_fixation(plate=OWNER_PERSON.plate)
    world.registry.reject_fixation(
        rejected, REVIEWERS[1], reason=RejectReason.PLATE_UNREADABLE, seconds_spent=8.0
    )
    world.clock.advance(minutes=5)
    world.pay(case, 1_000_000)
    yield Built(world, key.public_key_b64, pending, confirmed, rejected, case)
    world.store.close()


def test_the_registry_as_the_service_wrote_it_verifies_without_a_warning(built: Built) -> None:
    report = built.verify()
    assert report.ok, [str(problem) for problem in report.problems]
    assert report.records_checked == 4  # three fixations, one case
    # RegistryWorld registers its devices in the table only, so their keys come from there.
    assert [str(warning) for warning in report.warnings if "predate" in str(warning)] == []


# (row, column, new value): one edit per field that matters in law. "pending", "confirmed" and
# "rejected" are fixations; "case" is the case opened from the confirmed one.
FIELD_EDITS = [
    ("pending", "plate_text", "777AAA01"),
    ("pending", "violation", "red_light"),
    ("pending", "speed_kmh", 61.0),
    ("pending", "limit_kmh", 90),
    ("pending", "captured_at", "2025-03-10T05:00:00.000000+00:00"),
    ("pending", "device_id", "term-patrol-0001"),
    ("confirmed", "status", "awaiting_review"),
    ("pending", "decided_by", "daniyar"),
    ("confirmed", "corrected_plate", "456DEF03"),
    ("confirmed", "decided_by", "daniyar"),
    ("confirmed", "plate_text", "456DEF02"),
    ("rejected", "reject_reason", "emergency_vehicle"),
    ("rejected", "decided_by", "aigerim"),
    ("rejected", "status", "confirmed"),
    ("case", "plate", "123ABC01"),
    ("case", "owner_id", "791028302728"),
    ("case", "article", "611"),
    ("case", "part", "1"),
    ("case", "fine_mrp", 1),
    ("case", "mrp_kzt", 1),
    ("case", "fine_minor", 100),
    ("case", "discount_percent", 90),
    ("case", "discount_deadline", "2030-01-01T00:00:00.000000+00:00"),
    ("case", "entry_into_force", "2030-01-01T00:00:00.000000+00:00"),
    ("case", "voluntary_deadline", "2030-01-01T00:00:00.000000+00:00"),
    ("case", "limitation_at", "2030-01-01T00:00:00.000000+00:00"),
    ("case", "status", "expired"),
    ("case", "paid_minor", 0),
    ("case", "resolved_by", "daniyar"),
]


@pytest.mark.parametrize(("row", "column", "value"), FIELD_EDITS)
def test_a_field_edited_behind_the_service_is_named(
    built: Built, row: str, column: str, value: object
) -> None:
    table, key_column = ("cases", "case_number") if row == "case" else ("fixations", "fixation_id")
    key = getattr(built, row)
    before = built.world.scalar(f"SELECT {column} FROM {table} WHERE {key_column} = ?", key)
    assert before != value  # the edit changes something
    built.edit(f"UPDATE {table} SET {column} = ? WHERE {key_column} = ?", value, key)
    problems = [str(problem) for problem in built.verify().problems]
    named = [p for p in problems if f"Table {table}, row {key}: {column} is {value!r}" in p]
    assert len(named) == 1, problems
    assert repr(before) in named[0]


def test_evidence_swapped_behind_the_service_is_named(built: Built) -> None:
    built.edit(
        "UPDATE fixation_evidence SET role = 'context' WHERE fixation_id = ?"
        " AND role = 'plate_crop'",
        built.pending,
    )
    problems = [str(problem) for problem in built.verify().problems]
    assert len([p for p in problems if f"row {built.pending}: evidence is" in p]) == 1, problems


def test_a_replaced_envelope_is_found_by_its_hash(built: Built) -> None:
    built.edit("DROP TRIGGER messages_no_update")
    built.edit(
        "UPDATE messages SET envelope = replace(envelope, '\"speed_kmh\":85.0',"
        " '\"speed_kmh\":61.0') WHERE message_id = ?",
        built.pending,
    )
    problems = [str(problem) for problem in built.verify().problems]
    assert len(problems) == 1 and "the message was replaced" in problems[0], problems


def test_a_forged_device_key_does_not_vouch_for_an_envelope(built: Built) -> None:
    """The devices table's key is checked when the ledger holds none: the envelope's signature
    no longer verifies once the key is swapped."""
    other = built.world.terminal_key.public_key_b64
    built.edit(
        "UPDATE devices SET public_key = ? WHERE device_id = ?", other, built.world.camera_id
    )
    problems = [str(problem) for problem in built.verify().problems]
    assert len([p for p in problems if "does not verify with the key" in p]) == 3, problems


@pytest.mark.sqlite_only
def test_a_registry_from_before_full_payloads_verifies_comparing_what_its_entries_hold(
    tmp_path: Path,
) -> None:
    """A version 1 database (its case's opening entry has no discount_percent): it still
    verifies, says how many entries predate full payloads, and still sees an edit of a field
    its entries do hold."""
    path = tmp_path / "registry.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_DUMP.read_text(encoding="utf-8"))
    store = open_store(path)  # brings the schema forward
    key = DeviceKey.generate().public_key_b64
    try:
        report = verify_registry(store, key)
        assert report.ok, [str(problem) for problem in report.problems]
        assert [str(w) for w in report.warnings if "predate" in str(w)] == [
            "1 ledger entry about fixations and cases predates full payloads: the fields it"
            " lacks were not compared with the rows."
        ]
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE cases SET discount_percent = 90, fine_minor = 100")
        problems = [str(problem) for problem in verify_registry(store, key).problems]
        assert len(problems) == 1 and "fine_minor is 100" in problems[0], problems
    finally:
        store.close()
