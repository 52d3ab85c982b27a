"""The case lifecycle, endings: the limitation period and cancellation by a second officer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from central_ingest.core.cases import CancellationStatus, CaseStatus
from central_ingest.core.errors import Conflict, Forbidden, InvalidInput
from tests.support.registry_fixtures import (
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


# --- limitation ------------------------------------------------------------------------------


def test_limitation_report_lists_unexecuted_cases_soonest_first(world: RegistryWorld) -> None:
    first = world.open_case()
    world.clock.advance(days=20)
    second = world.open_case()
    paid = world.open_case()
    world.pay(paid, DISCOUNTED_2025)

    world.clock.set(START + timedelta(days=375 - 30))
    report = world.registry.limitation_report()
    assert [row["case_number"] for row in report] == [first, second]
    assert [row["days_left"] for row in report] == [30, 50]
    assert [row["case_number"] for row in world.registry.limitation_report(within_days=30)] == [
        first
    ]


def test_limitation_expires_unexecuted_cases_and_recalls_those_with_bailiffs(
    world: RegistryWorld,
) -> None:
    with_bailiffs = world.open_case()
    world.clock.advance(days=41)
    world.registry.hand_over_overdue()
    world.clock.set(START)
    ownerless = world.open_case(plate=UNREGISTERED_PLATE)
    paid = world.open_case()
    world.pay(paid, DISCOUNTED_2025)

    limitation = START + timedelta(days=375)
    world.clock.set(limitation - timedelta(microseconds=1))
    assert world.registry.expire_limited() == []
    world.clock.set(limitation)
    assert sorted(world.registry.expire_limited(batch_size=1)) == sorted([with_bailiffs, ownerless])
    assert world.registry.case(with_bailiffs).status is CaseStatus.EXPIRED
    assert world.registry.case(paid).status is CaseStatus.PAID
    assert world.registry.bailiff_feed()[-1]["document"]["reason"] == "limitation_expired"
    assert world.ledger("case", ownerless)[-1]["actor"] == "system:limitation"
    assert world.registry.limitation_report() == []
    assert world.pay(ownerless, FULL_2025) == "case_closed"


# --- cancellation ----------------------------------------------------------------------------


def test_cancellation_needs_a_reason_and_a_second_officer(world: RegistryWorld) -> None:
    case_number = world.open_case()
    with pytest.raises(InvalidInput):
        world.registry.request_cancellation(case_number, REVIEWER, "   ")
    request = world.registry.request_cancellation(
        case_number, REVIEWER, "vehicle was stolen at the time (police report 17-2025)"
    )
    assert request.status is CancellationStatus.PENDING
    assert world.registry.pending_cancellations() == [request]
    with pytest.raises(Conflict):
        world.registry.request_cancellation(case_number, OTHER_REVIEWER, "again")

    with pytest.raises(Forbidden) as same_person:
        world.registry.decide_cancellation(request.request_id, REVIEWER, approve=True)
    assert same_person.value.code == "two_person_rule"
    assert world.registry.case(case_number).status is CaseStatus.OPEN

    decided = world.registry.decide_cancellation(
        request.request_id, SUPERVISOR, approve=True, note="report checked"
    )
    assert decided.status is CancellationStatus.APPROVED
    assert decided.case_status is CaseStatus.CANCELLED and decided.decided_by == SUPERVISOR
    assert world.registry.pending_cancellations() == []
    with pytest.raises(Conflict):
        world.registry.decide_cancellation(request.request_id, SUPERVISORS[1], approve=False)

    assert [entry["action"] for entry in world.ledger("cancellation", str(request.request_id))] == [
        "requested",
        "approved",
    ]
    last = world.ledger("case", case_number)[-1]
    assert last["actor"] == f"officer:{SUPERVISOR}"
    assert last["payload"]["status"] == "cancelled" and last["payload"]["request_id"] == 1
    assert world.pay(case_number, DISCOUNTED_2025) == "case_closed"


def test_a_denied_cancellation_leaves_the_case_open(world: RegistryWorld) -> None:
    case_number = world.open_case()
    request = world.registry.request_cancellation(case_number, REVIEWER, "owner asked")
    decided = world.registry.decide_cancellation(
        request.request_id, SUPERVISOR, approve=False, note="no grounds"
    )
    assert decided.status is CancellationStatus.DENIED
    assert decided.case_status is CaseStatus.OPEN
    assert decided.decision_note == "no grounds"


def test_a_paid_case_cannot_be_cancelled(world: RegistryWorld) -> None:
    case_number = world.open_case()
    request = world.registry.request_cancellation(case_number, REVIEWER, "duplicate of another")
    world.pay(case_number, DISCOUNTED_2025)
    with pytest.raises(Conflict) as at_approval:
        world.registry.decide_cancellation(request.request_id, SUPERVISOR, approve=True)
    assert at_approval.value.code == "case_closed"
    with pytest.raises(Conflict, match="paid and therefore closed"):
        world.registry.request_cancellation(case_number, OTHER_REVIEWER, "still a duplicate")
    assert world.registry.case(case_number).status is CaseStatus.PAID


def test_cancelling_a_case_held_by_bailiffs_recalls_it(world: RegistryWorld) -> None:
    case_number = world.open_case()
    world.clock.advance(days=41)
    world.registry.hand_over_overdue()
    request = world.registry.request_cancellation(case_number, REVIEWER, "wrong vehicle")
    world.registry.decide_cancellation(request.request_id, SUPERVISOR, approve=True)
    recall = world.registry.bailiff_feed()[-1]
    assert recall["kind"] == "recall" and recall["document"]["reason"] == "cancelled"
