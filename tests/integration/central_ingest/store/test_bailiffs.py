"""A paid case is never handed to bailiffs: refused by the state machine, and refused by SQLite
when a script bypasses Python entirely. Also the other lifecycle rules the schema guards."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from central_ingest.appeals import AppealService
from central_ingest.core.cases import CaseStatus, hand_over
from central_ingest.core.clock import iso
from central_ingest.core.errors import Conflict
from central_ingest.store.case_reads import case_state, require_case
from central_ingest.store.postgres.db import translate
from tests.support.registry_fixtures import (
    OWNER_PERSON,
    OWNER_SECOND,
    OWNER_UNREACHABLE,
    REVIEWERS,
    SUPERVISORS,
    RegistryWorld,
)
from tests.support.stores import owner_database

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")

DISCOUNTED_2025 = 10 * 3932 * 100 // 2
# Several triggers guard the same rule; whichever fires first, the statement is refused.
REFUSED_TO_BAILIFFS = "never handed to bailiffs|closed for good|only an unpaid case"


@pytest.fixture
def world(tmp_path: Path) -> RegistryWorld:
    # Drivers told of each resolution at once: these tests are about what comes after.
    return RegistryWorld.create(tmp_path, tell_drivers=True)


# What either database raises when one of its rules refuses a statement.
REFUSED = (sqlite3.IntegrityError, psycopg.IntegrityError)


def raw_sql(world: RegistryWorld, sql: str, *params: object) -> None:
    """A statement typed into the sqlite3 shell or psql: a fresh connection, no registry code
    (on PostgreSQL as the owner role, so that only the triggers stand in the way)."""
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


def paid_overdue_case(world: RegistryWorld) -> str:
    case_number = world.open_case()
    world.pay(case_number, DISCOUNTED_2025)
    world.clock.advance(days=41)
    return case_number


# --- the state machine -----------------------------------------------------------------------


def test_state_machine_refuses_to_hand_over_a_paid_case(world: RegistryWorld) -> None:
    case_number = paid_overdue_case(world)
    state = case_state(require_case(world.store.db, case_number))
    with pytest.raises(Conflict) as refused:
        hand_over(state, world.clock.now)
    assert refused.value.code == "paid_never_to_bailiffs"
    assert world.registry.hand_over_overdue() == []
    assert world.registry.bailiff_feed() == []


def test_state_machine_refuses_an_underpaid_case_even_with_its_status_forged(
    world: RegistryWorld,
) -> None:
    case_number = world.open_case()
    world.clock.advance(days=8)
    world.pay(case_number, DISCOUNTED_2025)  # half the full fine: underpaid
    world.clock.advance(days=40)
    state = case_state(require_case(world.store.db, case_number))
    assert state.status is CaseStatus.UNDERPAID
    forged = type(state)(**{**state.__dict__, "status": CaseStatus.OPEN})
    with pytest.raises(Conflict) as refused:
        hand_over(forged, world.clock.now)
    assert refused.value.code == "paid_never_to_bailiffs"
    assert world.registry.hand_over_overdue() == []


# --- the database, bypassing Python ----------------------------------------------------------


def test_the_database_refuses_moving_a_paid_case_to_bailiffs(world: RegistryWorld) -> None:
    case_number = paid_overdue_case(world)
    with pytest.raises(REFUSED, match=REFUSED_TO_BAILIFFS):
        raw_sql(
            world,
            "UPDATE cases SET status = 'sent_to_bailiffs', paid_minor = 0 WHERE case_number = ?",
            case_number,
        )
    with pytest.raises(REFUSED, match=REFUSED_TO_BAILIFFS):
        raw_sql(
            world,
            "INSERT INTO bailiff_handovers (case_number, kind, amount_minor, recorded_at,"
            " document) VALUES (?, 'handover', 100, ?, '{}')",
            case_number,
            iso(world.clock.now),
        )
    assert world.registry.case(case_number).status is CaseStatus.PAID
    assert world.registry.bailiff_feed() == []


def test_the_database_refuses_a_case_with_any_payment_row_even_if_the_case_looks_unpaid(
    world: RegistryWorld,
) -> None:
    """A payment row written behind the service's back, the case left open and at zero."""
    case_number = world.open_case()
    world.clock.advance(days=41)
    raw_sql(
        world,
        "INSERT INTO payments (payment_id, message_id, device_id, case_number, matched_case,"
        " amount_minor, currency, paid_at, received_at, channel, match_status)"
        " SELECT 'bank-transfer-1', message_id, device_id, ?, ?, 100, 'KZT', received_at,"
        " received_at, 'bank', 'underpaid' FROM messages WHERE kind = 'fixation' LIMIT 1",
        case_number,
        case_number,
    )
    with pytest.raises(REFUSED, match="has a payment"):
        raw_sql(
            world,
            "UPDATE cases SET status = 'sent_to_bailiffs' WHERE case_number = ?",
            case_number,
        )
    assert world.registry.case(case_number).status is CaseStatus.OPEN
    assert world.registry.hand_over_overdue() == []


def test_the_database_refuses_a_handover_even_after_the_payment_row_is_gone(
    world: RegistryWorld,
) -> None:
    """The way round is closed too: a payment cannot be deleted, unmatched or altered."""
    case_number = paid_overdue_case(world)
    with pytest.raises(REFUSED, match="never deleted"):
        raw_sql(world, "DELETE FROM payments WHERE matched_case = ?", case_number)
    with pytest.raises(REFUSED, match="matched to a case stays"):
        raw_sql(
            world, "UPDATE payments SET matched_case = NULL WHERE matched_case = ?", case_number
        )
    with pytest.raises(REFUSED, match="never altered"):
        raw_sql(world, "UPDATE payments SET amount_minor = 1 WHERE matched_case = ?", case_number)


def test_the_database_refuses_recording_money_on_a_case_left_with_bailiffs(
    world: RegistryWorld,
) -> None:
    case_number = world.open_case()
    world.clock.advance(days=41)
    world.registry.hand_over_overdue()
    with pytest.raises(REFUSED, match="never handed to bailiffs"):
        raw_sql(world, "UPDATE cases SET paid_minor = 100 WHERE case_number = ?", case_number)


def test_the_database_refuses_a_handover_row_without_moving_the_case(world: RegistryWorld) -> None:
    case_number = world.open_case()
    world.clock.advance(days=41)
    with pytest.raises(REFUSED, match="only an unpaid case"):
        raw_sql(
            world,
            "INSERT INTO bailiff_handovers (case_number, kind, amount_minor, recorded_at,"
            " document) VALUES (?, 'handover', 100, ?, '{}')",
            case_number,
            iso(world.clock.now),
        )


def test_the_database_refuses_a_case_inserted_straight_into_the_bailiffs_hands(
    world: RegistryWorld,
) -> None:
    case_number = world.open_case()
    cursor = world.store.db.conn.execute("SELECT * FROM cases WHERE 1 = 0")
    columns = [
        column[0]
        for column in cursor.description
        if column[0] not in {"case_number", "fixation_id", "status"}
    ]
    fixation_id = world.add_fixation()
    raw_sql(
        world,
        "UPDATE fixations SET status = 'confirmed', decided_by = ?, decided_at = ?"
        " WHERE fixation_id = ?",
        REVIEWERS[0],
        iso(world.clock.now),
        fixation_id,
    )
    with pytest.raises(REFUSED, match="only from open"):
        raw_sql(
            world,
            f"INSERT INTO cases (case_number, fixation_id, status, {', '.join(columns)})"
            f" SELECT 'FORGED-1', ?, 'sent_to_bailiffs', {', '.join(columns)}"
            " FROM cases WHERE case_number = ?",
            fixation_id,
            case_number,
        )


def test_handover_and_recall_documents_cannot_be_rewritten(world: RegistryWorld) -> None:
    case_number = world.open_case()
    world.clock.advance(days=41)
    world.registry.hand_over_overdue()
    with pytest.raises(REFUSED, match="append-only"):
        raw_sql(world, "UPDATE bailiff_handovers SET amount_minor = 1")
    with pytest.raises(REFUSED, match="append-only"):
        raw_sql(world, "DELETE FROM bailiff_handovers")
    with pytest.raises(REFUSED, match="only a case handed to bailiffs"):
        raw_sql(
            world,
            "INSERT INTO bailiff_handovers (case_number, kind, amount_minor, recorded_at,"
            " document) VALUES (?, 'recall', 0, ?, '{}')",
            world.open_case(),
            iso(world.clock.now),
        )
    assert [item["case_number"] for item in world.registry.bailiff_feed()] == [case_number]


# --- the other lifecycle rules in the schema -------------------------------------------------


def test_the_database_refuses_a_case_without_a_confirmed_fixation(world: RegistryWorld) -> None:
    case_number = world.open_case()
    pending = world.add_fixation()
    with pytest.raises(REFUSED, match="officer confirmed"):
        raw_sql(
            world,
            "INSERT INTO cases (case_number, fixation_id, plate, owner_id, owner_name,"
            " owner_phone, owner_email, violation, article, part, offence_at, mrp_kzt, fine_mrp,"
            " fine_minor, discount_percent, resolution_at, resolved_by, discount_deadline,"
            " entry_into_force, voluntary_deadline, limitation_at, status, paid_minor, updated_at)"
            " SELECT 'FORGED-2', ?, plate, owner_id, owner_name, owner_phone,"
            " owner_email, violation, article, part, offence_at, mrp_kzt, fine_mrp, fine_minor,"
            " discount_percent, resolution_at, resolved_by, discount_deadline, entry_into_force,"
            " voluntary_deadline, limitation_at, status, paid_minor, updated_at"
            " FROM cases WHERE case_number = ?",
            pending,
            case_number,
        )


def test_the_database_refuses_changing_a_decided_fixation(world: RegistryWorld) -> None:
    fixation_id = world.add_fixation()
    world.registry.confirm_fixation(fixation_id, REVIEWERS[0], seconds_spent=3)
    with pytest.raises(REFUSED, match="decided once"):
        raw_sql(
            world,
            "UPDATE fixations SET status = 'rejected', reject_reason = 'other'"
            " WHERE fixation_id = ?",
            fixation_id,
        )


def test_the_database_refuses_cancelling_without_an_approved_request(world: RegistryWorld) -> None:
    case_number = world.open_case()
    with pytest.raises(REFUSED, match="approved cancellation request"):
        raw_sql(world, "UPDATE cases SET status = 'cancelled' WHERE case_number = ?", case_number)
    request = world.registry.request_cancellation(case_number, REVIEWERS[0], "wrong vehicle")
    with pytest.raises(REFUSED, match=r"(?i)check constraint"):
        raw_sql(
            world,
            "UPDATE cancellation_requests SET status = 'approved', decided_by = requested_by,"
            " decided_at = requested_at WHERE request_id = ?",
            request.request_id,
        )
    assert world.registry.case(case_number).status is CaseStatus.OPEN
    world.registry.decide_cancellation(request.request_id, SUPERVISORS[0], approve=False)
    with pytest.raises(REFUSED, match="decided once"):
        raw_sql(
            world,
            "UPDATE cancellation_requests SET status = 'approved' WHERE request_id = ?",
            request.request_id,
        )


def test_the_database_keeps_a_closed_case_closed(world: RegistryWorld) -> None:
    case_number = paid_overdue_case(world)
    with pytest.raises(REFUSED, match="closed for good"):
        raw_sql(world, "UPDATE cases SET status = 'open' WHERE case_number = ?", case_number)


def test_the_52000_citizens_scenario_end_to_end(world: RegistryWorld) -> None:
    """Paid before the deadline: never sent. Paid after the hand-over: recalled at once.
    Appealed within the period and not yet decided: never sent, whatever the dates say."""
    paid_in_time = world.open_case()
    paid_late = world.open_case()
    under_appeal = world.open_case()
    AppealService(world.store, world.config, clock=world.clock).file_for_driver(
        under_appeal, OWNER_PERSON.plate, "I was abroad that day.", []
    )
    world.clock.advance(days=39)
    world.pay(paid_in_time, 10 * 3932 * 100)
    world.clock.advance(days=2)
    assert world.registry.hand_over_overdue() == [paid_late]
    world.clock.advance(days=1, hours=3)
    assert world.pay(paid_late, 10 * 3932 * 100) == "after_handover"
    feed = world.registry.bailiff_feed()
    assert [(item["kind"], item["case_number"]) for item in feed] == [
        ("handover", paid_late),
        ("recall", paid_late),
    ]
    assert feed[1]["recorded_at"] == iso(world.clock.now)
    assert world.registry.case(paid_late).status is CaseStatus.PAID
    assert world.registry.case(paid_in_time).status is CaseStatus.PAID
    assert under_appeal not in {item["case_number"] for item in feed}
    assert world.registry.case(under_appeal).status is CaseStatus.OPEN


def test_the_52000_citizens_scenario_no_driver_left_untold_reaches_the_bailiffs(
    world: RegistryWorld,
) -> None:
    """The seeds' other failure: cases sent "straight to bailiffs" because the driver's address
    was not established. Overdue, unpaid, enforceable cases: only the one whose driver got the
    resolution goes; the unreachable one and the one whose notice never arrived are held for a
    supervisor; the feed holds nothing else, and every document says how the driver was told."""
    world.vehicles.upsert([OWNER_UNREACHABLE])
    told = world.open_case()
    unreachable = world.open_case(plate=OWNER_UNREACHABLE.plate)
    paid = world.open_case()
    world.pay(paid, DISCOUNTED_2025)
    # A driver told, who appealed within the period: held by the appeal, not by the notices.
    under_appeal = world.open_case()
    AppealService(world.store, world.config, clock=world.clock).file_for_driver(
        under_appeal, OWNER_PERSON.plate, "I was abroad that day.", []
    )
    # Opened last: its notices stay queued, never delivered (open_case delivers all queued).
    untold = world.open_case(plate=OWNER_SECOND.plate, told=False)
    world.clock.advance(days=41)

    assert world.registry.hand_over_overdue() == [told]
    feed = world.registry.bailiff_feed()
    assert [(item["kind"], item["case_number"]) for item in feed] == [("handover", told)]
    for item in feed:
        assert item["document"]["driver_told"]["by"] in {"delivered", "failed_attempts"}
    # No case in the bailiffs' hands lacks a delivered resolution (or the rule's failed rounds).
    untold_in_feed = world.scalar(
        "SELECT count(*) FROM bailiff_handovers h WHERE h.kind = 'handover' AND NOT EXISTS"
        " (SELECT 1 FROM notifications n WHERE n.case_number = h.case_number"
        " AND n.kind = 'case_opened' AND n.delivered_at IS NOT NULL)"
    )
    assert untold_in_feed == 0
    held = {case.case_number: case.reason.value for case in world.registry.undelivered_cases()}
    assert held == {unreachable: "no_contact", untold: "awaiting_delivery"}
    assert world.registry.case(under_appeal).status is CaseStatus.OPEN
    for case_number in held:
        with pytest.raises(REFUSED, match="driver was not told"):
            raw_sql(
                world,
                "UPDATE cases SET status = 'sent_to_bailiffs' WHERE case_number = ?",
                case_number,
            )
    assert world.registry.hand_over_overdue() == []
