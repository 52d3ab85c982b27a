"""The registry's case lifecycle on a real database (SQLite and PostgreSQL), with the clock
moved by the test: review, the case a confirmation opens, and the views the API serves. Money and
bailiffs are in test_case_money.py, limitation and cancellation in test_case_endings.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from central_ingest.core.cases import CaseStatus, FixationStatus, RejectReason
from central_ingest.core.clock import parse_iso
from central_ingest.core.errors import Conflict, InvalidInput, NotFound
from central_ingest.core.fines import MrpNotConfigured, NotAnOffence
from tests.support.registry_fixtures import (
    OWNER_PERSON,
    OWNER_SECOND,
    REVIEWERS,
    START,
    SUPERVISORS,
    UNREGISTERED_PLATE,
    RegistryWorld,
)

REVIEWER, OTHER_REVIEWER = REVIEWERS
SUPERVISOR = SUPERVISORS[0]
# 85 km/h where 60 is allowed: 25 over, article 592 part 2, 10 MRP at the 2025 MRP of 3,932.
FULL_2025 = 10 * 3932 * 100
DISCOUNTED_2025 = FULL_2025 // 2

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")


@pytest.fixture
def world(tmp_path: Path) -> RegistryWorld:
    return RegistryWorld.create(tmp_path)


# --- review ----------------------------------------------------------------------------------


def test_confirmation_opens_a_case_with_fine_deadlines_owner_and_notices(
    world: RegistryWorld,
) -> None:
    fixation_id = world.add_fixation()
    case = world.registry.confirm_fixation(
        fixation_id, REVIEWER, seconds_spent=14.2, note="clear photo"
    )

    assert case.case_number == "KZ-GP-2025-0000001"
    assert (case.article, case.part, case.fine_mrp, case.mrp_kzt) == ("592", "2", 10, 3932)
    assert case.full_minor == FULL_2025
    assert case.discounted_minor == DISCOUNTED_2025
    assert case.amount_due_now_minor == DISCOUNTED_2025
    assert case.status is CaseStatus.OPEN and case.paid_minor == 0
    assert (case.owner_id, case.owner_name) == (OWNER_PERSON.owner_id, OWNER_PERSON.owner_name)
    assert case.resolution_at == START and case.resolved_by == REVIEWER
    assert case.discount_deadline == START + timedelta(days=7)
    assert case.entry_into_force == START + timedelta(days=10)
    assert case.voluntary_deadline == START + timedelta(days=40)
    assert case.limitation_at == START + timedelta(days=375)

    fixation = world.registry.fixation(fixation_id)
    assert fixation.status is FixationStatus.CONFIRMED
    assert (fixation.decided_by, fixation.seconds_spent) == (REVIEWER, 14.2)
    assert fixation.decision_note == "clear photo" and fixation.case_number == case.case_number

    assert [entry["payload"]["status"] for entry in world.ledger("fixation", fixation_id)] == [
        "awaiting_review",
        "confirmed",
    ]
    (opened,) = world.ledger("case", case.case_number)
    assert opened["actor"] == f"officer:{REVIEWER}"
    assert opened["payload"]["status"] == "open" and opened["payload"]["paid_minor"] == 0
    assert opened["payload"]["fine_minor"] == FULL_2025
    channels = world.store.db.conn.execute(
        "SELECT channel, language FROM notifications WHERE case_number = ?"
        " ORDER BY notification_id",
        (case.case_number,),
    ).fetchall()
    # The register does not know this owner's language: an SMS in Kazakh, one in Russian,
    # and one e-mail holding both.
    assert channels == [("sms", "kk"), ("sms", "ru"), ("email", "kk,ru")]


def test_case_numbers_follow_one_sequence_per_year(world: RegistryWorld) -> None:
    first = world.open_case()
    second = world.open_case(plate=OWNER_SECOND.plate)
    # 19:30 UTC on 31 December is already 1 January in Astana: the next year's sequence.
    world.clock.set(datetime(2025, 12, 31, 19, 30, tzinfo=UTC))
    third = world.open_case(captured_at=datetime(2025, 12, 31, 19, 29, tzinfo=UTC))
    assert [first, second, third] == [
        "KZ-GP-2025-0000001",
        "KZ-GP-2025-0000002",
        "KZ-GP-2026-0000001",
    ]


def test_fine_uses_the_mrp_of_the_local_offence_date_not_of_the_confirmation(
    world: RegistryWorld,
) -> None:
    world.clock.set(datetime(2025, 1, 5, 6, 0, tzinfo=UTC))
    # 23:00 on 31 December 2024 in Astana: the 2024 MRP, though confirmed in 2025.
    late_2024 = world.open_case(captured_at=datetime(2024, 12, 31, 18, 0, tzinfo=UTC))
    # 01:00 on 1 January 2025 in Astana, still 2024 in UTC: the 2025 MRP.
    early_2025 = world.open_case(captured_at=datetime(2024, 12, 31, 20, 0, tzinfo=UTC))
    assert world.registry.case(late_2024).mrp_kzt == 3692
    assert world.registry.case(late_2024).full_minor == 10 * 3692 * 100
    assert world.registry.case(early_2025).mrp_kzt == 3932


def test_a_year_without_an_mrp_value_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    world = RegistryWorld.create(tmp_path, mrp_by_year={2024: 3692})
    fixation_id = world.add_fixation()
    with pytest.raises(MrpNotConfigured, match="No MRP value is configured for 2025"):
        world.registry.confirm_fixation(fixation_id, REVIEWER, seconds_spent=5)
    assert world.registry.fixation(fixation_id).status is FixationStatus.AWAITING_REVIEW


def test_owner_unknown_to_the_register_still_opens_a_case_without_notices(
    world: RegistryWorld,
) -> None:
    case = world.registry.case(world.open_case(plate=UNREGISTERED_PLATE))
    assert case.owner_id is None and case.owner_name is None and case.status is CaseStatus.OPEN
    assert world.scalar("SELECT count(*) FROM notifications") == 0


def test_corrected_plate_opens_the_case_against_the_corrected_vehicle(
    world: RegistryWorld,
) -> None:
    fixation_id = world.add_fixation(plate="123A8C01")
    with pytest.raises(InvalidInput) as missing_reason:
        world.registry.confirm_fixation(
            fixation_id, REVIEWER, seconds_spent=20, corrected_plate="123 ABC 01"
        )
    assert missing_reason.value.code == "correction_reason_required"
    assert world.scalar("SELECT count(*) FROM cases") == 0

    case = world.registry.confirm_fixation(
        fixation_id,
        REVIEWER,
        seconds_spent=20,
        corrected_plate="123 abc 01",
        correction_reason="B read as 8; the crop shows B",
    )
    assert case.plate == "123ABC01" and case.owner_id == OWNER_PERSON.owner_id
    fixation = world.registry.fixation(fixation_id)
    assert fixation.plate_text == "123A8C01" and fixation.corrected_plate == "123ABC01"
    assert fixation.correction_reason == "B read as 8; the crop shows B"


@pytest.mark.parametrize("reason", list(RejectReason))
def test_every_reject_reason_is_recorded_with_officer_note_and_time(
    world: RegistryWorld, reason: RejectReason
) -> None:
    fixation_id = world.add_fixation()
    view = world.registry.reject_fixation(
        fixation_id, REVIEWER, reason=reason, note="see photo", seconds_spent=9.0
    )
    assert view.status is FixationStatus.REJECTED and view.reject_reason is reason
    assert (view.decided_by, view.decision_note, view.seconds_spent) == (REVIEWER, "see photo", 9.0)
    assert view.case_number is None
    assert world.scalar("SELECT count(*) FROM cases") == 0
    last = world.ledger("fixation", fixation_id)[-1]
    assert last["actor"] == f"officer:{REVIEWER}"
    assert last["payload"] == {
        "status": "rejected",
        "officer": REVIEWER,
        "reason": reason.value,
        "note": "see photo",
        "seconds_spent": 9.0,
    }


def test_reason_other_needs_a_note(world: RegistryWorld) -> None:
    fixation_id = world.add_fixation()
    with pytest.raises(InvalidInput) as refused:
        world.registry.reject_fixation(
            fixation_id, REVIEWER, reason=RejectReason.OTHER, seconds_spent=3
        )
    assert refused.value.code == "reject_note_required"
    assert world.registry.fixation(fixation_id).status is FixationStatus.AWAITING_REVIEW


def test_a_fixation_is_decided_once(world: RegistryWorld) -> None:
    confirmed = world.add_fixation()
    world.registry.confirm_fixation(confirmed, REVIEWER, seconds_spent=5)
    rejected = world.add_fixation()
    world.registry.reject_fixation(
        rejected, REVIEWER, reason=RejectReason.PLATE_UNREADABLE, seconds_spent=5
    )
    with pytest.raises(Conflict) as confirm_again:
        world.registry.confirm_fixation(confirmed, OTHER_REVIEWER, seconds_spent=5)
    with pytest.raises(Conflict) as reject_confirmed:
        world.registry.reject_fixation(
            confirmed, OTHER_REVIEWER, reason=RejectReason.DUPLICATE_EVENT, seconds_spent=5
        )
    with pytest.raises(Conflict) as confirm_rejected:
        world.registry.confirm_fixation(rejected, OTHER_REVIEWER, seconds_spent=5)
    for refused in (confirm_again, reject_confirmed, confirm_rejected):
        assert refused.value.code == "fixation_already_decided"
    assert world.scalar("SELECT count(*) FROM cases") == 1
    assert len(world.ledger("fixation", confirmed)) == 2


def test_below_the_lowest_speeding_band_the_officer_must_reject(world: RegistryWorld) -> None:
    fixation_id = world.add_fixation(speed_kmh=69.5, limit_kmh=60)
    ledger_before = world.scalar("SELECT count(*) FROM ledger")
    with pytest.raises(NotAnOffence, match="reject the fixation"):
        world.registry.confirm_fixation(fixation_id, REVIEWER, seconds_spent=4)
    assert world.registry.fixation(fixation_id).status is FixationStatus.AWAITING_REVIEW
    assert world.scalar("SELECT count(*) FROM ledger") == ledger_before
    assert world.scalar("SELECT count(*) FROM case_numbers") == 0


def test_unknown_fixation_and_unknown_officer_are_refused(world: RegistryWorld) -> None:
    with pytest.raises(NotFound):
        world.registry.fixation("00000000-0000-0000-0000-000000000000")
    fixation_id = world.add_fixation()
    with pytest.raises(NotFound) as unknown:
        world.registry.confirm_fixation(fixation_id, "nobody", seconds_spent=1)
    assert unknown.value.code == "operator_not_found"
    assert world.registry.fixation(fixation_id).status is FixationStatus.AWAITING_REVIEW


def test_review_queue_serves_the_oldest_first_and_keeps_reviewers_apart(
    world: RegistryWorld,
) -> None:
    oldest = world.add_fixation(received_at=START - timedelta(minutes=3))
    middle = world.add_fixation(received_at=START - timedelta(minutes=2), plate="456DEF02")
    newest = world.add_fixation(received_at=START - timedelta(minutes=1))
    assert world.registry.review_queue_size() == 3

    shown = world.registry.next_fixation(REVIEWER)
    assert shown is not None and shown.fixation_id == oldest
    assert [item.role.value for item in shown.evidence] == ["full_frame", "plate_crop"]
    assert shown.registered_vehicle is not None and shown.registered_vehicle.make == "Toyota"
    assert shown.excess_kmh == 25.0 and shown.zone.startswith("Astana")

    other = world.registry.next_fixation(OTHER_REVIEWER)
    assert other is not None and other.fixation_id == middle
    again = world.registry.next_fixation(REVIEWER)
    assert again is not None and again.fixation_id == oldest, "a reviewer keeps their fixation"
    skipped = world.registry.next_fixation(REVIEWER, skip=[oldest])
    assert skipped is not None and skipped.fixation_id == newest

    world.registry.confirm_fixation(newest, REVIEWER, seconds_spent=10)
    world.clock.advance(minutes=6)  # the other reviewer's hold on the middle one has lapsed
    after = world.registry.next_fixation(REVIEWER)
    assert after is not None and after.fixation_id == oldest
    assert world.registry.review_queue_size() == 2


def test_cases_are_found_by_plate_in_any_spelling_and_by_owner(world: RegistryWorld) -> None:
    first = world.open_case()
    world.clock.advance(hours=1)
    second = world.open_case()
    world.open_case(plate=OWNER_SECOND.plate)
    by_plate = world.registry.find_cases(plate="123 abc 01")
    assert [case.case_number for case in by_plate] == [second, first]
    by_owner = world.registry.find_cases(owner_id=OWNER_SECOND.owner_id)
    assert [case.plate for case in by_owner] == [OWNER_SECOND.plate]
    with pytest.raises(InvalidInput):
        world.registry.find_cases()


def test_views_serialise_to_json_for_the_api(world: RegistryWorld) -> None:
    case = world.registry.case(world.open_case())
    document = json.loads(case.model_dump_json())
    assert parse_iso(document["discount_deadline"]) == START + timedelta(days=7)
    assert document["status"] == "open" and document["amount_due_now_minor"] == DISCOUNTED_2025
