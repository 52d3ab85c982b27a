"""Schema versions: a registry database written by an earlier release is brought forward when
the registry opens it, loses nothing, and still passes the audit verifier."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from central_ingest.audit import load_or_create_registry_key, verify_registry
from central_ingest.cases import CaseService
from central_ingest.config import load_config
from central_ingest.operators import Operators
from central_ingest.store.db import open_store
from central_ingest.store.schema import SCHEMA_VERSION
from central_ingest.vehicles import SqliteVehicleRegister, VehicleRecord
from tests.support.paths import SUPPORT

V1_DUMP = SUPPORT / "registry-schema-v1.sql"
V1_CASE = "KZ-GP-2025-0000001"


def _v1_database(tmp_path: Path) -> Path:
    path = tmp_path / "registry" / "registry.sqlite3"
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_DUMP.read_text(encoding="utf-8"))
    return path


def _columns(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("operators", "vehicles", "fixations", "cases", "payments", "ledger")
        }


def test_a_version_1_database_is_brought_forward_and_keeps_every_row(tmp_path: Path) -> None:
    path = _v1_database(tmp_path)
    before = _counts(path)
    assert "language" not in _columns(path, "operators")

    store = open_store(path)
    try:
        version = store.db.conn.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'"
        ).fetchone()[0]
        assert int(version) == SCHEMA_VERSION == 10
        indexes = {
            row[0]
            for row in store.db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        assert {
            "fixations_plate_time",
            "cases_plate_time",
            "case_links_case",
            "notifications_case",
        } <= indexes
        assert not {"fixations_plate", "cases_plate"} & indexes
        assert "language" in _columns(path, "operators")
        assert {"source", "payload_sha256", "payload_size", "signed"} <= _columns(
            path, "dead_letters"
        )
        assert "language" in _columns(path, "vehicles")
        assert "owner_language" in _columns(path, "cases")
        # Version 8 rebuilt cases (roadside protocols): every case is a camera case, and the
        # rules on cases that went with the old table are back.
        assert {"iin", "unit"} <= _columns(path, "operators")
        assert store.db.conn.execute("SELECT DISTINCT source FROM cases").fetchall() == [
            ("camera",)
        ]
        case_triggers = {
            row[0]
            for row in store.db.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases'"
            )
        }
        assert {"case_closed_stays_closed", "case_needs_confirmed_fixation"} <= case_triggers
        assert store.db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert _counts(path) == before

        config = load_config(data_dir=tmp_path / "registry")
        vehicles = SqliteVehicleRegister(store)
        registry = CaseService(store, config, vehicles)
        case = registry.case(V1_CASE)
        assert case.owner_language is None  # unknown: notices in Kazakh and Russian
        assert case.paid_minor > 0

        # The new columns work on the old rows.
        operators = Operators(store, session_hours=config.session_hours)
        assert operators.get("aigerim").language is None  # type: ignore[union-attr]
        assert operators.set_language("aigerim", "kk", actor="test").language == "kk"
        vehicles.upsert(
            [VehicleRecord("777KZK01", "791028302728", "person", "Серік", language="kk")]
        )
        assert vehicles.lookup("777KZK01").language == "kk"  # type: ignore[union-attr]

        key = load_or_create_registry_key(config.registry_key_path)
        report = verify_registry(store, key.public_key_b64)
        assert report.ok, report.problems
        assert report.entries_checked == before["ledger"]
    finally:
        store.close()


def test_a_migrated_database_has_the_same_columns_in_the_same_order_as_a_new_one(
    tmp_path: Path,
) -> None:
    """Code that inserts without naming columns, or reads rows by position, behaves the same
    on a database made new and on one brought forward."""
    migrated = _v1_database(tmp_path)
    open_store(migrated).close()
    new = tmp_path / "new.sqlite3"
    open_store(new).close()

    def layout(path: Path) -> dict[str, list[tuple[str, str, int]]]:
        with sqlite3.connect(path) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            return {
                table: [
                    (row[1], row[2], row[3]) for row in conn.execute(f"PRAGMA table_info({table})")
                ]
                for table in tables
            }

    assert layout(migrated) == layout(new)


def test_opening_a_migrated_database_again_changes_nothing(tmp_path: Path) -> None:
    path = _v1_database(tmp_path)
    open_store(path).close()
    schema = sqlite3.connect(path).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    open_store(path).close()
    again = sqlite3.connect(path).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    assert again == schema


def test_a_database_newer_than_the_program_is_refused_with_a_sentence(tmp_path: Path) -> None:
    path = _v1_database(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(RuntimeError, match="newer than this program"):
        open_store(path)


def test_a_new_database_starts_at_the_current_version(tmp_path: Path) -> None:
    store = open_store(tmp_path / "new.sqlite3")
    try:
        assert store.db.conn.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'"
        ).fetchone()[0] == str(SCHEMA_VERSION)
        assert "language" in _columns(tmp_path / "new.sqlite3", "operators")
    finally:
        store.close()
