"""What the registry makes of a roadside protocol's article and fine (``core.roadside``): the
violation it is kept under, its fine in MRP checked against the schedule and the MRP of the
day, and the refusals' codes and whether the terminal should send again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from central_ingest.config import FineSchedule
from central_ingest.core.fines import fine_minor
from central_ingest.core.roadside import (
    ProtocolRefused,
    ProtocolRejection,
    assess_protocol,
    number_not_issued,
    photo_missing,
)
from contract import ViolationCode
from contract.roadside import RoadsideProtocol

MRP_2025 = 3932
SCHEDULE = FineSchedule()


def _protocol(**changes: Any) -> RoadsideProtocol:
    fields: dict[str, Any] = {
        "protocol_id": uuid4(),
        "protocol_number": "KZ-GP-R00000001",
        "officer_iin": "791028302728",
        "plate": "123ABC01",
        "article": "592",
        "part": 1,
        "outcome": "fine",
        "amount_minor": fine_minor(5, MRP_2025),
        "place": {"lat": 51.1, "lon": 71.4, "manual": False},
        "drawn_up_at": datetime(2025, 3, 10, 6, 0, tzinfo=UTC),
        "description": "speeding",
        "driver_signature": "refused",
    }
    fields.update(changes)
    return RoadsideProtocol.model_validate(fields)


@pytest.mark.parametrize(
    ("article", "part", "fine_mrp", "violation"),
    [
        ("592", 1, 5, ViolationCode.SPEEDING),
        ("592", 4, 40, ViolationCode.SPEEDING),
        ("599", 1, 10, ViolationCode.RED_LIGHT),
        ("590", 1, 5, ViolationCode.SEAT_BELT),
        # A part the schedule does not list (a repeat offence): whole MRP, as written.
        ("592", 5, 20, ViolationCode.SPEEDING),
        ("591", 2, 15, ViolationCode.PHONE),
    ],
)
def test_a_fine_is_kept_under_its_articles_violation_in_whole_mrp(
    article: str, part: int, fine_mrp: int, violation: ViolationCode
) -> None:
    protocol = _protocol(article=article, part=part, amount_minor=fine_minor(fine_mrp, MRP_2025))
    assessment = assess_protocol(protocol, SCHEDULE, MRP_2025)
    assert (assessment.violation, assessment.fine_mrp) == (violation, fine_mrp)


def test_a_warning_has_no_fine() -> None:
    warning = _protocol(article="601", outcome="warning", amount_minor=None)
    assessment = assess_protocol(warning, SCHEDULE, MRP_2025)
    assert (assessment.violation, assessment.fine_mrp) == (ViolationCode.BUS_LANE, 0)


@pytest.mark.parametrize(
    ("changes", "reason", "words"),
    [
        ({"article": "608"}, ProtocolRejection.ARTICLE_UNKNOWN, "Article 608 is not"),
        # Part 1 is 5 MRP in the schedule: 6 MRP is not its fine, even in whole MRP.
        ({"amount_minor": fine_minor(6, MRP_2025)}, ProtocolRejection.AMOUNT_MISMATCH, "1966000"),
        # Last year's MRP.
        ({"amount_minor": fine_minor(5, 3692)}, ProtocolRejection.AMOUNT_MISMATCH, "part 1"),
        ({"part": 5, "amount_minor": 1_000_001}, ProtocolRejection.AMOUNT_MISMATCH, "whole MRP"),
    ],
)
def test_an_article_or_fine_the_registry_does_not_hold_is_refused(
    changes: dict[str, Any], reason: ProtocolRejection, words: str
) -> None:
    with pytest.raises(ProtocolRefused) as refused:
        assess_protocol(_protocol(**changes), SCHEDULE, MRP_2025)
    assert refused.value.reason is reason and refused.value.code == reason.value
    assert words in refused.value.message


def test_which_refusals_the_terminal_sends_again_and_which_are_answered() -> None:
    retried = {reason for reason in ProtocolRejection if reason.retryable}
    assert retried == {ProtocolRejection.REVOCATION_UNKNOWN, ProtocolRejection.PHOTO_MISSING}
    unanswered = {reason for reason in ProtocolRejection if not reason.after_signature}
    assert unanswered == {ProtocolRejection.BAD_DEVICE_SIGNATURE}
    assert number_not_issued("KZ-GP-R00000009", "term-1").reason.value == (
        "protocol_number_not_issued"
    )
    assert "term-1" in number_not_issued("KZ-GP-R00000009", "term-1").message
    assert photo_missing("ab" * 32).reason.retryable
