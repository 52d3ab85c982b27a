"""The case lifecycle, money: amounts due on the registry's clock, payments in and out of the
discount window, over- and unknown payments, and the hand-over to bailiffs and back."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from central_ingest.core.cases import CaseStatus
from central_ingest.core.clock import iso
from central_ingest.core.errors import InvalidInput
from central_ingest.reports import unmatched_payments_report
from tests.support.registry_fixtures import (
    OWNER_PERSON,
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
    # Drivers told of each resolution at once: these tests are about what comes after.
    return RegistryWorld.create(tmp_path, tell_drivers=True)


# --- amounts and payments --------------------------------------------------------------------


def test_amount_due_follows_the_registry_clock(world: RegistryWorld) -> None:
    case_number = world.open_case()
    world.clock.advance(days=7)
    assert world.registry.case(case_number).amount_due_now_minor == DISCOUNTED_2025
    world.clock.advance(microseconds=1)
    assert world.registry.case(case_number).amount_due_now_minor == FULL_2025
    world.clock.advance(days=1)
    assert world.registry.case(case_number).amount_due_now_minor == FULL_2025


def test_discounted_payment_within_seven_days_settles_the_case(world: RegistryWorld) -> None:
    case_number = world.open_case()
    deadline = world.registry.case(case_number).discount_deadline
    assert world.pay(case_number, DISCOUNTED_2025, paid_at=deadline) == "settled"

    case = world.registry.case(case_number)
    assert case.status is CaseStatus.PAID and case.paid_minor == DISCOUNTED_2025
    assert case.amount_due_now_minor == 0
    payment = world.store.db.conn.execute(
        "SELECT matched_case, due_minor, match_status, masked_pan FROM payments"
    ).fetchone()
    assert payment == (case_number, DISCOUNTED_2025, "settled", "440043******1234")
    last = world.ledger("case", case_number)[-1]
    assert last["actor"] == f"device:{world.terminal_id}"
    assert last["payload"]["status"] == "paid"
    assert last["payload"]["paid_minor"] == DISCOUNTED_2025


def test_half_paid_after_the_discount_window_is_underpaid_until_topped_up(
    world: RegistryWorld,
) -> None:
    case_number = world.open_case()
    world.clock.advance(days=8)
    # A bank reports the payment a day late: what counts is when it was paid.
    paid_at = world.clock.now
    assert world.pay(case_number, DISCOUNTED_2025, paid_at=paid_at) == "underpaid"
    case = world.registry.case(case_number)
    assert case.status is CaseStatus.UNDERPAID
    assert case.amount_due_now_minor == FULL_2025 - DISCOUNTED_2025
    assert world.scalar("SELECT due_minor FROM payments") == FULL_2025
    assert [row["match_status"] for row in unmatched_payments_report(world.store)] == ["underpaid"]

    world.clock.advance(days=60)  # long overdue, but it has a payment: never to bailiffs
    assert world.registry.hand_over_overdue() == []
    assert world.pay(case_number, FULL_2025 - DISCOUNTED_2025) == "settled"
    case = world.registry.case(case_number)
    assert case.status is CaseStatus.PAID and case.paid_minor == FULL_2025


def test_a_payment_made_in_the_window_but_reported_later_keeps_the_discount(
    world: RegistryWorld,
) -> None:
    case_number = world.open_case()
    paid_at = world.clock.advance(days=6)
    world.clock.advance(days=3)
    assert world.pay(case_number, DISCOUNTED_2025, paid_at=paid_at) == "settled"


def test_overpayment_settles_and_is_listed_for_a_refund(world: RegistryWorld) -> None:
    case_number = world.open_case()
    assert world.pay(case_number, FULL_2025) == "overpaid"
    assert world.registry.case(case_number).status is CaseStatus.PAID
    (follow_up,) = unmatched_payments_report(world.store)
    assert follow_up["match_status"] == "overpaid"
    assert follow_up["amount_minor"] - follow_up["due_minor"] == DISCOUNTED_2025


def test_a_payment_for_an_unknown_case_is_kept_for_manual_matching(
    world: RegistryWorld,
) -> None:
    assert world.pay("KZ-GP-2025-9999999", 500_000) == "unknown_case"
    (follow_up,) = unmatched_payments_report(world.store)
    assert follow_up["case_number"] == "KZ-GP-2025-9999999"
    assert follow_up["matched_case"] is None and follow_up["amount_minor"] == 500_000
    (entry,) = world.ledger("payment", follow_up["payment_id"])
    assert entry["payload"]["match_status"] == "unknown_case"


def test_a_second_payment_on_a_paid_case_is_kept_for_a_refund(world: RegistryWorld) -> None:
    case_number = world.open_case()
    world.pay(case_number, DISCOUNTED_2025)
    assert world.pay(case_number, DISCOUNTED_2025) == "case_closed"
    case = world.registry.case(case_number)
    assert case.status is CaseStatus.PAID and case.paid_minor == DISCOUNTED_2025
    (refund,) = unmatched_payments_report(world.store)
    assert refund["match_status"] == "case_closed"
    assert refund["difference_minor"] == DISCOUNTED_2025, "all of it is to be refunded"


# --- bailiffs --------------------------------------------------------------------------------


def test_unpaid_cases_go_to_bailiffs_only_after_the_voluntary_deadline(
    world: RegistryWorld,
) -> None:
    unpaid = world.open_case()
    paid = world.open_case()
    world.pay(paid, DISCOUNTED_2025)
    ownerless = world.open_case(plate=UNREGISTERED_PLATE)

    world.clock.advance(days=40)  # exactly at the voluntary deadline: still voluntary
    assert world.registry.hand_over_overdue() == []
    world.clock.advance(days=1)
    assert world.registry.hand_over_overdue() == [unpaid]
    assert world.registry.hand_over_overdue() == [], "handed over once"

    assert world.registry.case(unpaid).status is CaseStatus.SENT_TO_BAILIFFS
    assert world.registry.case(paid).status is CaseStatus.PAID
    assert world.registry.case(ownerless).status is CaseStatus.OPEN
    (document,) = world.registry.bailiff_feed()
    assert document["kind"] == "handover" and document["amount_minor"] == FULL_2025
    sent = document["document"]
    assert sent["debtor"] == {"id": OWNER_PERSON.owner_id, "name": OWNER_PERSON.owner_name}
    assert sent["legal_basis"]["article"] == "592" and sent["legal_basis"]["part"] == "2"
    assert sent["voluntary_deadline"] == iso(START + timedelta(days=40))
    assert sent["limitation_at"] == iso(START + timedelta(days=375))
    assert [entry["payload"]["status"] for entry in world.ledger("case", unpaid)] == [
        "open",
        "sent_to_bailiffs",
    ]
    (bailiff_entry,) = world.ledger("bailiff", unpaid)
    assert bailiff_entry["actor"] == "system:bailiff_handover"
    assert bailiff_entry["payload"]["seq"] == document["seq"]


def test_hand_over_works_through_every_batch(world: RegistryWorld) -> None:
    cases = [world.open_case() for _ in range(5)]
    world.clock.advance(days=41)
    assert sorted(world.registry.hand_over_overdue(batch_size=2)) == sorted(cases)
    assert world.scalar("SELECT count(*) FROM cases WHERE status = 'sent_to_bailiffs'") == 5
    with pytest.raises(InvalidInput):
        world.registry.hand_over_overdue(batch_size=0)


def test_payment_after_hand_over_recalls_the_case_from_the_bailiffs(
    world: RegistryWorld,
) -> None:
    case_number = world.open_case()
    world.clock.advance(days=41)
    world.registry.hand_over_overdue()
    (handover,) = world.registry.bailiff_feed()

    world.clock.advance(hours=2)
    assert world.pay(case_number, FULL_2025) == "after_handover"
    case = world.registry.case(case_number)
    assert case.status is CaseStatus.PAID and case.paid_minor == FULL_2025

    (recall,) = world.registry.bailiff_feed(after_seq=handover["seq"])
    assert recall["kind"] == "recall" and recall["case_number"] == case_number
    assert recall["document"]["reason"] == "paid" and recall["amount_minor"] == 0
    assert [entry["action"] for entry in world.ledger("bailiff", case_number)] == [
        "handover",
        "recall",
    ]


def test_bailiff_feed_pages_by_cursor_and_exports_json_lines(
    world: RegistryWorld, tmp_path: Path
) -> None:
    cases = [world.open_case() for _ in range(3)]
    world.clock.advance(days=41)
    world.registry.hand_over_overdue()
    world.pay(cases[1], FULL_2025)

    first_page = world.registry.bailiff_feed(limit=2)
    rest = world.registry.bailiff_feed(after_seq=first_page[-1]["seq"])
    feed = first_page + rest
    assert [item["kind"] for item in feed] == ["handover", "handover", "handover", "recall"]
    assert [item["seq"] for item in feed] == sorted(item["seq"] for item in feed)

    export = world.registry.export_bailiff_feed(tmp_path / "out" / "bailiffs.jsonl")
    lines = export.path.read_text(encoding="utf-8").splitlines()
    assert export.documents == 4 and export.last_seq == feed[-1]["seq"]
    assert [json.loads(line) for line in lines] == feed
    later = world.registry.export_bailiff_feed(tmp_path / "next.jsonl", after_seq=export.last_seq)
    assert later.documents == 0 and later.last_seq == export.last_seq
    with pytest.raises(InvalidInput):
        world.registry.bailiff_feed(limit=0)
