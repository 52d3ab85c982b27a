"""`audit verify` after appeals decided (issue 16): an upheld resolution runs its periods again
from the decision, and an amended one also takes another part and fine. The verifier takes them
from the decision's ledger entry, so a registry the service wrote verifies, and an amended fine
changed behind the service's back is named. On both stores."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from central_ingest.appeals import AppealService, Upload
from central_ingest.audit import load_or_create_registry_key, verify_registry
from central_ingest.core.appeals import AppealDecision, DecidedAs
from central_ingest.core.views import CaseView
from central_ingest.store.postgres.db import translate
from tests.support.appeal_files import photo_jpeg
from tests.support.registry_fixtures import OWNER_PERSON, OWNER_SECOND, SUPERVISORS, RegistryWorld
from tests.support.stores import superuser_database

pytestmark = pytest.mark.usefixtures("registry_store")


def _appeal_decided(
    world: RegistryWorld,
    appeals: AppealService,
    plate: str,
    decision: AppealDecision,
    **amended: str,
) -> tuple[CaseView, CaseView]:
    """The case as opened, and as the supervisor's decision on its appeal left it."""
    opened = world.registry.case(world.open_case(plate=plate))
    world.clock.advance(days=3)
    appeal = appeals.file_for_driver(
        opened.case_number, plate, "The radar was wrong.", [Upload("IMG_0001.jpg", photo_jpeg())]
    )
    world.clock.advance(days=2)
    appeals.decide(
        appeal.appeal_id,
        SUPERVISORS[0],
        decision=decision,
        decided_as=DecidedAs.SUPERVISOR,
        note="the dashcam's video checked",
        **amended,
    )
    return opened, world.registry.case(opened.case_number)


def _edit_behind_the_service(world: RegistryWorld, sql: str, *params: object) -> None:
    """As an intruder with the database would: PostgreSQL's superuser fires no trigger."""
    superuser = superuser_database()
    if superuser is not None:
        with psycopg.connect(superuser, autocommit=True) as pg:
            pg.execute("SET session_replication_role = replica")
            pg.execute(translate(sql), params)
        return
    conn = sqlite3.connect(world.config.db_path)
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def test_decided_appeals_verify_and_an_amended_fine_edited_afterwards_is_named(
    tmp_path: Path,
) -> None:
    world = RegistryWorld.create(tmp_path, tell_drivers=True)
    key = load_or_create_registry_key(world.config.registry_key_path)
    appeals = AppealService(world.store, world.config, clock=world.clock)
    opened, upheld = _appeal_decided(world, appeals, OWNER_PERSON.plate, AppealDecision.UPHELD)
    # In force from the decision (day 5 of the appeal period), the limitation counted from it.
    assert upheld.entry_into_force == world.clock.now != opened.entry_into_force
    assert upheld.limitation_at != opened.limitation_at
    opened, amended = _appeal_decided(
        world,
        appeals,
        OWNER_SECOND.plate,
        AppealDecision.AMENDED,
        amended_article="592",
        amended_part="1",
    )
    # The decision changed what the opening recorded: the part, the fine and the dates.
    assert (opened.part, amended.part) == ("2", "1")
    assert amended.full_minor < opened.full_minor
    assert amended.voluntary_deadline != opened.voluntary_deadline

    report = verify_registry(world.store, key.public_key_b64)
    assert report.ok, [str(problem) for problem in report.problems]

    _edit_behind_the_service(
        world,
        "UPDATE cases SET fine_minor = ? WHERE case_number = ?",
        opened.full_minor,
        amended.case_number,
    )
    named = [str(problem) for problem in verify_registry(world.store, key.public_key_b64).problems]
    assert any(amended.case_number in problem and "fine_minor" in problem for problem in named), (
        named
    )
