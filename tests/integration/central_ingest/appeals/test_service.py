"""Appeals through the service on both stores: filing within the period suspends the case,
a late one is refused with its due date, disguised, oversized and surplus files are refused
and change nothing, and each decision (upheld, cancelled, amended) does what the Code says,
with every step in the ledger."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from central_ingest.appeals import AppealService, Upload
from central_ingest.core.appeals import AppealDecision, AppealStatus, DecidedAs
from central_ingest.core.cases import CaseStatus
from central_ingest.core.clock import local, parse_iso
from central_ingest.core.errors import Conflict, InvalidInput, NotFound
from central_ingest.notify.reminders import queue_daily_notices
from central_ingest.store.appeal_files import AppealFiles
from tests.support.appeal_files import (
    document_pdf,
    fake_jpeg,
    linux_program,
    photo_jpeg,
    photo_png,
    windows_program,
)
from tests.support.registry_fixtures import OWNER_PERSON, START, SUPERVISORS, RegistryWorld

SUPERVISOR = SUPERVISORS[0]
# The fine schedule's figures (config.py): 592 part 3 is 20 MRP; the 2025 MRP is 3,932 KZT.
PART_3_FINE_2025 = 20 * 3932 * 100

pytestmark = pytest.mark.usefixtures("registry_store")


@pytest.fixture
def world(tmp_path: Path) -> RegistryWorld:
    # Drivers told of each resolution at once: a hand-over needs it, and these tests are
    # about the appeal.
    return RegistryWorld.create(tmp_path, tell_drivers=True, appeals={"max_file_bytes": 64 * 1024})


@pytest.fixture
def appeals(world: RegistryWorld) -> AppealService:
    return AppealService(world.store, world.config, clock=world.clock)


def _appeal_count(world: RegistryWorld) -> int:
    return int(world.scalar("SELECT count(*) FROM appeals"))


def _stored_files(world: RegistryWorld) -> list[Path]:
    root = world.config.evidence_dir / "appeals"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def test_an_appeal_within_the_period_suspends_the_hand_over_until_it_is_upheld(
    world: RegistryWorld, appeals: AppealService
) -> None:
    case_number = world.open_case()
    world.clock.advance(days=3)
    files = [Upload("IMG_0001.jpg", photo_jpeg()), Upload("scan.pdf", document_pdf())]
    appeal = appeals.file_for_driver(case_number, "123 abc 01", "I was not driving.", files)
    assert appeal.status is AppealStatus.OPEN
    assert [item.content_type.value for item in appeal.attachments] == [
        "image/jpeg",
        "application/pdf",
    ]
    for item, upload in zip(appeal.attachments, files, strict=True):
        path = AppealFiles(world.config.evidence_dir).path_for(item.sha256, item.content_type)
        assert path.read_bytes() == upload.data
        assert item.sha256 == hashlib.sha256(upload.data).hexdigest()

    # Far past the voluntary deadline (entry into force at 10 days, then 30): still held back.
    world.clock.advance(days=60)
    assert world.registry.hand_over_overdue() == []
    assert world.registry.case(case_number).status is CaseStatus.OPEN

    decided_at = world.clock.now
    decided = appeals.decide(
        appeal.appeal_id,
        SUPERVISOR,
        decision=AppealDecision.UPHELD,
        decided_as=DecidedAs.SUPERVISOR,
    )
    assert decided.status is AppealStatus.DECIDED and decided.decided_by == SUPERVISOR
    case = world.registry.case(case_number)
    # In force from the decision; the voluntary period runs again from it.
    assert case.entry_into_force == decided_at
    assert case.voluntary_deadline == decided_at + timedelta(days=30)
    assert world.registry.hand_over_overdue() == []
    world.clock.advance(days=30, seconds=1)
    assert world.registry.hand_over_overdue() == [case_number]


def test_a_late_appeal_is_refused_with_the_date_it_was_due_and_nothing_is_kept(
    world: RegistryWorld, appeals: AppealService
) -> None:
    case_number = world.open_case()
    due = world.registry.case(case_number).entry_into_force
    world.clock.set(due + timedelta(seconds=1))
    with pytest.raises(Conflict) as refused:
        appeals.file_for_driver(
            case_number, OWNER_PERSON.plate, "Too late?", [Upload("a.png", photo_png())]
        )
    assert refused.value.code == "appeal_late"
    assert local(due).strftime("%Y-%m-%d %H:%M") in str(refused.value.message)
    assert _appeal_count(world) == 0 and _stored_files(world) == []

    # The last moment of the period is still within it.
    other = world.open_case()
    world.clock.set(world.registry.case(other).entry_into_force)
    assert appeals.file_for_driver(other, OWNER_PERSON.plate, "Just in time.", []).due_at == (
        world.clock.now
    )


@pytest.mark.parametrize(
    ("upload", "code", "words"),
    [
        (Upload("photo.jpg", windows_program()), "attachment_not_allowed", "Windows program"),
        (Upload("photo.jpg", linux_program()), "attachment_not_allowed", "Linux program"),
        (Upload("scan.pdf", fake_jpeg()), "attachment_corrupt", "cannot be opened"),
        (Upload("big.png", photo_png(size=(200, 200))), "attachment_too_large", "at most"),
        (Upload("empty.jpg", b""), "attachment_empty", "empty"),
    ],
    ids=["renamed-exe", "renamed-elf", "only-starts-like-jpeg", "oversized", "empty"],
)
def test_a_disguised_or_oversized_file_refuses_the_whole_appeal(
    world: RegistryWorld, appeals: AppealService, upload: Upload, code: str, words: str
) -> None:
    case_number = world.open_case()
    with pytest.raises(InvalidInput) as refused:
        appeals.file_for_driver(
            case_number,
            OWNER_PERSON.plate,
            "See the photo.",
            [Upload("ok.jpg", photo_jpeg()), upload],
        )
    assert refused.value.code == code
    assert words in str(refused.value.message) and upload.name in str(refused.value.message)
    assert _appeal_count(world) == 0 and _stored_files(world) == []
    assert world.ledger("case", case_number)[-1]["action"] == "opened"


def test_a_sixth_file_is_refused_and_five_are_kept_in_order(
    world: RegistryWorld, appeals: AppealService
) -> None:
    case_number = world.open_case()
    six = [Upload(f"p{seed}.png", photo_png(seed)) for seed in range(6)]
    with pytest.raises(InvalidInput) as refused:
        appeals.file_for_driver(case_number, OWNER_PERSON.plate, "Six photos.", six)
    assert refused.value.code == "too_many_attachments"
    assert _appeal_count(world) == 0

    appeal = appeals.file_for_driver(case_number, OWNER_PERSON.plate, "Five photos.", six[:5])
    assert [item.file_name for item in appeal.attachments] == [f"p{seed}.png" for seed in range(5)]
    assert len(_stored_files(world)) == 5


def test_a_wrong_plate_and_an_unknown_case_get_the_same_answer(
    world: RegistryWorld, appeals: AppealService
) -> None:
    case_number = world.open_case()
    answers = []
    for number, plate in [(case_number, "456DEF02"), ("KZ-GP-2099-999999", OWNER_PERSON.plate)]:
        with pytest.raises(NotFound) as refused:
            appeals.file_for_driver(number, plate, "Mine?", [])
        answers.append((refused.value.code, str(refused.value.message)))
    assert answers[0] == answers[1]
    assert _appeal_count(world) == 0


def test_one_appeal_per_case_and_a_decision_is_final(
    world: RegistryWorld, appeals: AppealService
) -> None:
    case_number = world.open_case()
    appeal = appeals.file_for_driver(case_number, OWNER_PERSON.plate, "First.", [])
    with pytest.raises(Conflict, match="already been appealed"):
        appeals.file_for_driver(case_number, OWNER_PERSON.plate, "Second.", [])
    with pytest.raises(InvalidInput) as no_reference:
        appeals.decide(
            appeal.appeal_id, SUPERVISOR, decision=AppealDecision.UPHELD, decided_as=DecidedAs.COURT
        )
    assert no_reference.value.code == "court_reference_required"
    appeals.decide(
        appeal.appeal_id,
        SUPERVISOR,
        decision=AppealDecision.UPHELD,
        decided_as=DecidedAs.COURT,
        court_reference="2-1234/2025",
    )
    with pytest.raises(Conflict) as again:
        appeals.decide(
            appeal.appeal_id,
            SUPERVISOR,
            decision=AppealDecision.CANCELLED,
            decided_as=DecidedAs.SUPERVISOR,
            note="changed my mind",
        )
    assert again.value.code == "appeal_already_decided"
    assert appeals.appeal(appeal.appeal_id).court_reference == "2-1234/2025"


def test_cancelled_on_appeal_closes_the_case_with_every_step_in_the_ledger(
    world: RegistryWorld, appeals: AppealService
) -> None:
    case_number = world.open_case()
    appeal = appeals.file_for_driver(
        case_number, OWNER_PERSON.plate, "The sign was hidden.", [Upload("s.png", photo_png())]
    )
    assert appeals.open_appeals()[0].appeal_id == appeal.appeal_id
    appeals.decide(
        appeal.appeal_id,
        SUPERVISOR,
        decision=AppealDecision.CANCELLED,
        decided_as=DecidedAs.SUPERVISOR,
        note="The speed limit sign was covered by a tree.",
    )
    assert world.registry.case(case_number).status is CaseStatus.CANCELLED
    assert appeals.open_appeals() == []
    filed, decided = world.ledger("case", case_number)[-2:]
    assert filed["action"] == "appeal_filed" and filed["actor"] == "driver:driver_page"
    assert filed["payload"]["appeal_id"] == appeal.appeal_id
    assert filed["payload"]["attachments"][0]["sha256"] == appeal.attachments[0].sha256
    assert filed["payload"]["text_sha256"] == hashlib.sha256(b"The sign was hidden.").hexdigest()
    assert decided["action"] == "appeal_decided" and decided["actor"] == SUPERVISOR
    assert decided["payload"]["decision"] == "cancelled"
    assert decided["payload"]["status"] == "cancelled"
    # The driver was told of each step, by SMS and e-mail (notify/outbox.py).
    kinds = world.store.db.conn.execute(
        "SELECT kind, count(*) FROM notifications WHERE case_number = ?"
        " AND kind IN ('appeal_received', 'appeal_decided') GROUP BY kind ORDER BY kind",
        (case_number,),
    ).fetchall()
    assert [tuple(row) for row in kinds] == [("appeal_decided", 3), ("appeal_received", 3)]
    # Nothing left to hand over, whenever the jobs run.
    world.clock.advance(days=90)
    assert world.registry.hand_over_overdue() == []


def test_amended_to_another_part_recomputes_the_fine_at_the_offences_mrp(
    world: RegistryWorld, appeals: AppealService
) -> None:
    case_number = world.open_case()
    before = world.registry.case(case_number)
    appeal = appeals.file_for_driver(case_number, OWNER_PERSON.plate, "Wrong part.", [])
    world.clock.set(START.replace(year=2026))  # decided a year later: the 2025 MRP still holds
    with pytest.raises(InvalidInput, match="No fine is configured for article 592 part 9"):
        appeals.decide(
            appeal.appeal_id,
            SUPERVISOR,
            decision=AppealDecision.AMENDED,
            decided_as=DecidedAs.SUPERVISOR,
            amended_article="592",
            amended_part="9",
        )
    decided = appeals.decide(
        appeal.appeal_id,
        SUPERVISOR,
        decision=AppealDecision.AMENDED,
        decided_as=DecidedAs.SUPERVISOR,
        amended_article="592",
        amended_part="3",
    )
    assert decided.amended_fine_minor == PART_3_FINE_2025
    case = world.registry.case(case_number)
    assert (case.article, case.part, case.full_minor) == ("592", "3", PART_3_FINE_2025)
    assert case.full_minor != before.full_minor
    entry = world.ledger("case", case_number)[-1]
    assert entry["payload"]["amended_from"]["fine_minor"] == before.full_minor
    assert entry["payload"]["amended_to"] == {
        "article": "592",
        "part": "3",
        "fine_mrp": 20,
        "fine_minor": PART_3_FINE_2025,
    }
    assert parse_iso(entry["payload"]["entry_into_force"]) == world.clock.now


def _told_in_force(world: RegistryWorld, case_number: str) -> int:
    return int(
        world.scalar(
            "SELECT count(*) FROM notifications WHERE case_number = ?"
            " AND kind = 'entered_into_force'",
            case_number,
        )
    )


def test_no_entered_into_force_notice_while_the_appeal_is_open(
    world: RegistryWorld, appeals: AppealService
) -> None:
    case_number = world.open_case()
    appeal = appeals.file_for_driver(case_number, OWNER_PERSON.plate, "Not me.", [])
    # Past the date the resolution would have entered into force: the daily job says nothing.
    world.clock.advance(days=12)
    queue_daily_notices(world.store, world.config, world.clock.now)
    assert _told_in_force(world, case_number) == 0
    appeals.decide(
        appeal.appeal_id,
        SUPERVISOR,
        decision=AppealDecision.UPHELD,
        decided_as=DecidedAs.SUPERVISOR,
    )
    # Upheld: in force from the decision, and the next daily run tells the driver.
    world.clock.advance(hours=1)
    queue_daily_notices(world.store, world.config, world.clock.now)
    assert _told_in_force(world, case_number) > 0
