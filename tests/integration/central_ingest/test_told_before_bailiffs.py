"""A case goes to bailiffs only after its driver was told of the resolution, on both stores.

The seeds' failure: cases handed "straight to bailiffs" because the driver's address was not
established and he was never told. Here: an owner the register has no contact for is held and
listed for a supervisor, never handed over, and the database refuses the move too; an owner
whose SMS the operator cannot deliver (the SMSC simulator, a real process, says UNDELIV) is sent
the resolution again round after round, and goes to the bailiffs only once the failed rounds
the rule requires are documented, the document saying so; a delivered notice releases the case,
and the driver is then told of the hand-over."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from central_ingest.config import SmppSettings
from central_ingest.core.cases import CaseStatus
from central_ingest.core.driver_told import HeldReason
from central_ingest.notify.smpp import SmppSender
from central_ingest.notify.worker import DeliveryStats, collect_receipts, deliver_due
from tests.integration.central_ingest.store.test_bailiffs import REFUSED, raw_sql
from tests.support.registry_fixtures import (
    OWNER_PERSON,
    OWNER_SECOND,
    OWNER_UNREACHABLE,
    RegistryWorld,
)
from tests.support.wire_servers import running

pytestmark = pytest.mark.usefixtures("registry_store")

SMSC_PASSWORD = "smsc-pw1"
UNREACHABLE = OWNER_UNREACHABLE


@pytest.fixture
def world(tmp_path: Path) -> RegistryWorld:
    world = RegistryWorld.create(tmp_path)
    world.vehicles.upsert([UNREACHABLE])
    return world


def kinds(world: RegistryWorld, case_number: str) -> list[tuple[str, int, str]]:
    return [
        (notice.kind, notice.attempt_round, notice.state)
        for notice in world.registry.case_notices(case_number)
    ]


def test_a_driver_no_one_can_reach_is_held_for_a_supervisor_never_sent_to_bailiffs(
    world: RegistryWorld,
) -> None:
    case_number = world.open_case(plate=UNREACHABLE.plate)
    assert world.registry.case_notices(case_number) == []  # nothing could be sent
    world.clock.advance(days=41)  # past the voluntary deadline, unpaid

    assert world.registry.hand_over_overdue() == []
    assert world.registry.queue_daily_notices().resolution_rounds == 0
    (held,) = world.registry.undelivered_cases()
    assert (held.case_number, held.reason) == (case_number, HeldReason.NO_CONTACT)
    assert (held.has_phone, held.has_email, held.rounds) == (False, False, 0)
    # Whatever code path tries, the database refuses too.
    with pytest.raises(REFUSED, match="driver was not told"):
        raw_sql(
            world,
            "UPDATE cases SET status = 'sent_to_bailiffs' WHERE case_number = ?",
            case_number,
        )
    assert world.registry.case(case_number).status is CaseStatus.OPEN
    assert world.registry.bailiff_feed() == []


def _deliver_through(world: RegistryWorld, sender: SmppSender, expected: int) -> DeliveryStats:
    """One delivery round and the receipts it earns, as the worker does."""
    stats = deliver_due(world.store, sender, world.clock.now)
    deadline = time.monotonic() + 5
    while stats.delivered + stats.undelivered < expected and time.monotonic() < deadline:
        more = collect_receipts(world.store, sender, 0.3)
        stats.delivered += more.delivered
        stats.undelivered += more.undelivered
    return stats


def test_failed_rounds_are_documented_over_the_rules_days_before_a_hand_over(
    world: RegistryWorld, tmp_path: Path
) -> None:
    """OWNER_SECOND has a phone only; the operator cannot deliver to it (UNDELIV). Kazakh and
    Russian SMS per round, since the register does not know his language."""
    with running(
        "tests.support.smsc",
        tmp_path / "smsc.jsonl",
        "--password",
        SMSC_PASSWORD,
        "--receipt-delay",
        "0.05",
        "--undeliverable-prefix",
        "7701",
    ) as smsc:
        sms = SmppSender(
            SmppSettings(host="127.0.0.1", port=smsc.port, system_id="erap", source_addr="ERAP"),
            SMSC_PASSWORD,
        )
        try:
            case_number = world.open_case(plate=OWNER_SECOND.plate)
            assert _deliver_through(world, sms, 2).undelivered == 2
            world.clock.advance(days=6)
            day_six = world.registry.queue_daily_notices()
            assert (day_six.resolution_rounds, day_six.discount_ending) == (0, 1)  # too soon
            world.clock.advance(days=1)
            assert world.registry.queue_daily_notices().resolution_rounds == 1
            assert world.registry.queue_daily_notices().resolution_rounds == 0  # once
            # The second round, and the reminder that the discount ends: both undeliverable.
            assert _deliver_through(world, sms, 4).undelivered == 4

            world.clock.advance(days=34)  # day 41: overdue, two failed rounds of three
            assert world.registry.hand_over_overdue() == []
            (held,) = world.registry.undelivered_cases()
            assert held.reason is HeldReason.ATTEMPTS_INCOMPLETE
            assert (held.failed_rounds, held.attempts_required) == (2, 3)
            assert "UNDELIV" in (held.last_error or "")
            with pytest.raises(REFUSED, match="driver was not told"):
                raw_sql(
                    world,
                    "UPDATE cases SET status = 'sent_to_bailiffs' WHERE case_number = ?",
                    case_number,
                )

            assert world.registry.queue_daily_notices().resolution_rounds == 1
            assert _deliver_through(world, sms, 2).undelivered == 2
        finally:
            sms.close()

    assert world.registry.undelivered_cases() == []
    assert world.registry.hand_over_overdue() == [case_number]
    (handover,) = world.registry.bailiff_feed()
    told = handover["document"]["driver_told"]
    assert (told["by"], told["failed_rounds"], told["delivered_at"]) == ("failed_attempts", 3, None)
    assert told["last_failed_at"] > told["first_failed_at"]
    assert [(k, r, s) for k, r, s in kinds(world, case_number)] == [
        ("case_opened", 1, "failed"),
        ("case_opened", 1, "failed"),
        ("discount_ending", 1, "failed"),
        ("discount_ending", 1, "failed"),
        ("case_opened", 2, "failed"),
        ("case_opened", 2, "failed"),
        ("case_opened", 3, "failed"),
        ("case_opened", 3, "failed"),
        ("handed_to_bailiffs", 1, "queued"),
        ("handed_to_bailiffs", 1, "queued"),
    ]


def test_a_delivered_notice_releases_the_case_and_the_driver_is_told_of_the_hand_over(
    world: RegistryWorld,
) -> None:
    told = world.open_case(told=True)
    untold = world.open_case(plate=OWNER_SECOND.plate)  # queued, never sent
    world.clock.advance(days=41)
    assert world.registry.hand_over_overdue() == [told]
    (held,) = world.registry.undelivered_cases()
    assert (held.case_number, held.reason) == (untold, HeldReason.AWAITING_DELIVERY)

    (handover,) = world.registry.bailiff_feed()
    assert handover["document"]["driver_told"]["by"] == "delivered"
    assert handover["document"]["driver_told"]["delivered_at"] is not None
    after = [k for k in kinds(world, told) if k[0] == "handed_to_bailiffs"]
    # OWNER_PERSON: language unknown, phone and e-mail: Kazakh and Russian SMS, one e-mail.
    assert len(after) == 3
    world.deliver_notices()
    bodies = [
        row[0]
        for row in world.store.db.conn.execute(
            "SELECT body FROM notifications WHERE case_number = ? AND kind = 'handed_to_bailiffs'"
            " ORDER BY notification_id",
            (told,),
        ).fetchall()
    ]
    assert "жеке сот орындаушы" in bodies[0].lower()  # Kazakh: a private bailiff
    assert "судебному исполнителю" in bodies[1]
    assert OWNER_PERSON.owner_name in bodies[2] and told in bodies[2]
