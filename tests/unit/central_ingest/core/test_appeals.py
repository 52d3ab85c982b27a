"""The appeals' pure rules: the period's last moment, what a file's first bytes say it is,
what a decision must name, the amended fine from the schedule, and the dates a decision sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from central_ingest.config import Deadlines, FineSchedule
from central_ingest.core.appeals import (
    AppealDecision,
    AttachmentType,
    DecidedAs,
    amended_fine,
    check_attachment_count,
    check_attachment_size,
    check_decidable,
    check_filing,
    dates_after_decision,
    in_force,
    ruling,
    sniff_attachment,
    stored_file_name,
)
from central_ingest.core.cases import CaseState, CaseStatus, handover_refusal
from central_ingest.core.errors import Conflict, InvalidInput

DUE = datetime(2025, 3, 20, 6, 0, tzinfo=UTC)


def test_the_period_ends_at_its_last_moment_and_a_late_appeal_names_it_in_astana_time() -> None:
    kept = check_filing(
        "C-1", status=CaseStatus.OPEN, due=DUE, already_appealed=False, text="  why  ", now=DUE
    )
    assert kept == "why"
    with pytest.raises(Conflict) as late:
        check_filing(
            "C-1",
            status=CaseStatus.OPEN,
            due=DUE,
            already_appealed=False,
            text="why",
            now=DUE + timedelta(microseconds=1),
        )
    assert late.value.code == "appeal_late" and "2025-03-20 11:00" in late.value.message


@pytest.mark.parametrize(
    ("status", "appealed", "text", "code"),
    [
        (CaseStatus.PAID, False, "why", "case_not_appealable"),
        (CaseStatus.OPEN, True, "why", "appeal_exists"),
        (CaseStatus.OPEN, False, "   ", "appeal_text_required"),
        (CaseStatus.UNDERPAID, False, "x" * 5001, "appeal_text_too_long"),
    ],
)
def test_a_filing_is_refused_with_its_reason(
    status: CaseStatus, appealed: bool, text: str, code: str
) -> None:
    with pytest.raises((Conflict, InvalidInput)) as refused:
        check_filing("C-1", status=status, due=DUE, already_appealed=appealed, text=text, now=DUE)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", AttachmentType.JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00", AttachmentType.PNG),
        (b"%PDF-1.7\n", AttachmentType.PDF),
    ],
)
def test_the_first_bytes_name_the_type_whatever_the_name(head: bytes, kind: AttachmentType) -> None:
    assert sniff_attachment("whatever.exe", head) is kind


@pytest.mark.parametrize(
    ("head", "words"),
    [
        (b"MZ\x90\x00", "a Windows program"),
        (b"\x7fELF\x02\x01", "a Linux program"),
        (b"#!/bin/sh\n", "a script"),
        (b"PK\x03\x04", "an archive"),
        (b"GIF89a", "is not a JPEG or PNG photo nor a PDF"),
    ],
)
def test_a_renamed_program_or_other_file_is_refused_as_what_it_is(head: bytes, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        sniff_attachment("photo.jpg", head)
    assert words in refused.value.message and "photo.jpg" in refused.value.message


def test_counts_sizes_and_names() -> None:
    check_attachment_count(5, 5)
    with pytest.raises(InvalidInput, match="6 files were attached"):
        check_attachment_count(6, 5)
    check_attachment_size("a.pdf", 10 * 1_048_576, 10 * 1_048_576)
    with pytest.raises(InvalidInput, match=r"is 10\.0 MB; each file may be at most 10 MB"):
        check_attachment_size("a.pdf", 10 * 1_048_576 + 1, 10 * 1_048_576)
    assert stored_file_name("C:\\Users\\me\\IMG_1.jpg") == "IMG_1.jpg"
    assert stored_file_name("../../etc/passwd") == "passwd"


def test_a_decision_names_what_it_needs() -> None:
    with pytest.raises(InvalidInput, match="court's reference"):
        ruling(decision=AppealDecision.UPHELD, decided_as=DecidedAs.COURT)
    with pytest.raises(InvalidInput, match="new article and its part"):
        ruling(
            decision=AppealDecision.AMENDED, decided_as=DecidedAs.SUPERVISOR, amended_article="592"
        )
    with pytest.raises(InvalidInput, match="only when the resolution is amended"):
        ruling(
            decision=AppealDecision.UPHELD,
            decided_as=DecidedAs.SUPERVISOR,
            amended_article="592",
            amended_part="1",
        )
    with pytest.raises(InvalidInput, match="needs a note"):
        ruling(decision=AppealDecision.CANCELLED, decided_as=DecidedAs.SUPERVISOR)
    court = ruling(
        decision=AppealDecision.CANCELLED, decided_as=DecidedAs.COURT, court_reference=" 2-1/25 "
    )
    assert court.court_reference == "2-1/25"
    with pytest.raises(Conflict, match="only “upheld”"):
        check_decidable("C-1", CaseStatus.PAID, AppealDecision.CANCELLED)
    check_decidable("C-1", CaseStatus.PAID, AppealDecision.UPHELD)


def test_the_amended_fine_comes_from_the_schedule() -> None:
    schedule = FineSchedule()
    band = schedule.speeding_bands[2]
    assert amended_fine(schedule, "592", band.part).fine_mrp == band.fine_mrp
    red_light = next(iter(schedule.fixed.values()))
    assert amended_fine(schedule, red_light.article, red_light.part).fine_mrp == red_light.fine_mrp
    with pytest.raises(InvalidInput, match="article 592 part 99"):
        amended_fine(schedule, "592", "99")


def test_a_decision_puts_the_resolution_in_force_and_restarts_the_periods() -> None:
    deadlines = Deadlines()
    decided = DUE + timedelta(days=40)
    dates = dates_after_decision(decided, deadlines)
    assert dates.entry_into_force == decided
    assert dates.voluntary_deadline - decided == timedelta(days=deadlines.voluntary_days)
    assert dates.limitation_at - decided == timedelta(days=deadlines.limitation_days)
    assert not in_force(DUE, appeal_open=True, now=DUE + timedelta(days=400))
    assert in_force(DUE, appeal_open=False, now=DUE) and not in_force(
        DUE, False, DUE - timedelta(1)
    )


def test_an_open_appeal_refuses_the_hand_over() -> None:
    case = CaseState(
        case_number="C-1",
        status=CaseStatus.OPEN,
        paid_minor=0,
        has_debtor=True,
        voluntary_deadline=DUE,
        limitation_at=DUE + timedelta(days=365),
        appeal_open=True,
    )
    refusal = handover_refusal(case, DUE + timedelta(days=1))
    assert refusal is not None and refusal.code == "appeal_open"
    assert (
        handover_refusal(
            CaseState(**{**case.__dict__, "appeal_open": False}), DUE + timedelta(days=1)
        )
        is None
    )
