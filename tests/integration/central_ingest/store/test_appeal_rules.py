"""The database's own appeal rules, on both stores, against statements typed by hand (a fresh
connection, no registry code; on PostgreSQL the owner role, so only the triggers stand in the
way): an open appeal keeps the case from the bailiffs and its resolution from entering into
force; a decision is final; appeals and their files are never deleted; a sixth file has no
place. And a database brought forward from version 1 has every rule a new one has."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from central_ingest.appeals import AppealService
from central_ingest.core.appeals import AppealDecision, DecidedAs
from central_ingest.core.clock import iso
from central_ingest.store.db import open_store
from central_ingest.store.postgres.db import translate
from tests.support.paths import SUPPORT
from tests.support.registry_fixtures import OWNER_PERSON, SUPERVISORS, RegistryWorld
from tests.support.stores import owner_database

# Each test but the last runs on SQLite and on PostgreSQL (tests/support/stores.py).
on_both_stores = pytest.mark.usefixtures("registry_store")

REFUSED = (sqlite3.IntegrityError, psycopg.IntegrityError)
SHA = "ab" * 32


def raw_sql(world: RegistryWorld, sql: str, *params: object) -> None:
    owner = owner_database()
    if owner is not None:
        with psycopg.connect(owner, autocommit=True) as pg:
            pg.execute(translate(sql), params)
        return
    connection = sqlite3.connect(world.config.db_path, isolation_level=None)
    try:
        connection.execute(sql, params)
    finally:
        connection.close()


@pytest.fixture
def world(tmp_path: Path) -> RegistryWorld:
    # Drivers told of each resolution at once: only the appeal keeps the case from bailiffs.
    return RegistryWorld.create(tmp_path, tell_drivers=True)


def _appealed_overdue_case(world: RegistryWorld) -> tuple[str, int]:
    case_number = world.open_case()
    appeal = AppealService(world.store, world.config, clock=world.clock).file_for_driver(
        case_number, OWNER_PERSON.plate, "Not me.", []
    )
    world.clock.advance(days=60)
    return case_number, appeal.appeal_id


@on_both_stores
def test_the_database_keeps_a_case_under_appeal_from_the_bailiffs(world: RegistryWorld) -> None:
    case_number, _ = _appealed_overdue_case(world)
    with pytest.raises(REFUSED, match="an appeal is open"):
        raw_sql(
            world,
            "UPDATE cases SET status = 'sent_to_bailiffs' WHERE case_number = ?",
            case_number,
        )
    with pytest.raises(REFUSED, match=r"an appeal is open|only an unpaid case"):
        raw_sql(
            world,
            "INSERT INTO bailiff_handovers (case_number, kind, amount_minor, recorded_at,"
            " document) VALUES (?, 'handover', 1, ?, '{}')",
            case_number,
            iso(world.clock.now),
        )
    with pytest.raises(REFUSED, match="does not enter into force"):
        raw_sql(
            world,
            "UPDATE cases SET entry_into_force = ?, voluntary_deadline = ? WHERE case_number = ?",
            iso(world.clock.now),
            iso(world.clock.now),
            case_number,
        )
    assert world.scalar("SELECT status FROM cases WHERE case_number = ?", case_number) == "open"
    assert world.scalar("SELECT count(*) FROM bailiff_handovers") == 0


@on_both_stores
def test_a_decided_appeal_is_final_and_nothing_of_an_appeal_is_deleted(
    world: RegistryWorld,
) -> None:
    case_number, appeal_id = _appealed_overdue_case(world)
    raw_sql(
        world,
        "INSERT INTO appeal_attachments (appeal_id, position, sha256, file_name, content_type,"
        " size_bytes, stored_at) VALUES (?, 5, ?, 'x.pdf', 'application/pdf', 10, ?)",
        appeal_id,
        SHA,
        iso(world.clock.now),
    )
    with pytest.raises(REFUSED):  # a sixth file has no position to take
        raw_sql(
            world,
            "INSERT INTO appeal_attachments (appeal_id, position, sha256, file_name,"
            " content_type, size_bytes, stored_at) VALUES (?, 6, ?, 'y.pdf', 'application/pdf',"
            " 10, ?)",
            appeal_id,
            SHA,
            iso(world.clock.now),
        )
    with pytest.raises(REFUSED, match="kept as filed"):
        raw_sql(world, "DELETE FROM appeal_attachments WHERE appeal_id = ?", appeal_id)
    with pytest.raises(REFUSED, match="never deleted"):
        raw_sql(world, "DELETE FROM appeals WHERE appeal_id = ?", appeal_id)

    AppealService(world.store, world.config, clock=world.clock).decide(
        appeal_id, SUPERVISORS[0], decision=AppealDecision.UPHELD, decided_as=DecidedAs.SUPERVISOR
    )
    with pytest.raises(REFUSED, match="decided once"):
        raw_sql(
            world,
            "UPDATE appeals SET decision = 'cancelled' WHERE appeal_id = ?",
            appeal_id,
        )
    # Decided: the case may go its way again (here, moved by hand as a script would).
    raw_sql(
        world, "UPDATE cases SET status = 'sent_to_bailiffs' WHERE case_number = ?", case_number
    )


@on_both_stores
def test_a_case_is_cancelled_by_hand_only_on_an_appeal_decided_so(world: RegistryWorld) -> None:
    case_number, appeal_id = _appealed_overdue_case(world)
    with pytest.raises(REFUSED, match="approved cancellation request or an appeal decided so"):
        raw_sql(world, "UPDATE cases SET status = 'cancelled' WHERE case_number = ?", case_number)
    raw_sql(
        world,
        "UPDATE appeals SET status = 'decided', decision = 'cancelled', decided_by = ?,"
        " decided_at = ?, decided_as = 'supervisor' WHERE appeal_id = ?",
        SUPERVISORS[0],
        iso(world.clock.now),
        appeal_id,
    )
    raw_sql(world, "UPDATE cases SET status = 'cancelled' WHERE case_number = ?", case_number)
    assert world.scalar("SELECT status FROM cases WHERE case_number = ?", case_number) == (
        "cancelled"
    )


def test_a_database_brought_forward_has_every_trigger_of_a_new_one(tmp_path: Path) -> None:
    """Rebuilding a table in a later step drops its triggers in SQLite: a forward step must
    create them again, or the appeals' rules would hold only in new databases."""
    old = tmp_path / "v1.sqlite3"
    with sqlite3.connect(old) as conn:
        conn.executescript((SUPPORT / "registry-schema-v1.sql").read_text(encoding="utf-8"))
    open_store(old).close()
    new = tmp_path / "new.sqlite3"
    open_store(new).close()

    def triggers(path: Path) -> set[str]:
        with sqlite3.connect(path) as conn:
            return {
                name
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            }

    assert triggers(old) == triggers(new)
    assert {"case_bailiffs_never_under_appeal", "case_force_suspended_by_appeal"} <= triggers(old)
