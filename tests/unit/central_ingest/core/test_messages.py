"""The registry's refusals as lazy sentences: the core raises a ``Text`` with named parameters,
keeps the English sentence for logs, and whoever shows the refusal renders it in the reader's
language. The catalog here is a dictionary: unit tests read no file (the real catalogs are
exercised in tests/integration/central_ingest/api/test_languages.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from central_ingest.core.cases import (
    CancellationStatus,
    CaseState,
    CaseStatus,
    FixationStatus,
    check_cancellation_decision,
    check_cancellation_request,
    check_transition,
    handover_refusal,
    normalise_plate,
    require_awaiting_review,
)
from central_ingest.core.errors import Conflict, DomainError, Forbidden, InvalidInput
from central_ingest.core.labels import CASE_STATUSES, label
from i18n import PluralText, Text
from tests.support.catalogs import RussianCatalog

RU = RussianCatalog(
    {
        "Case %(case)s is “%(status)s” and cannot become “%(target)s”.": "Дело %(case)s имеет статус «%(status)s» и не может получить статус «%(target)s».",  # noqa: E501 - a message id, one literal
        "paid": "оплачено",
        "open": "на исполнении",
        "Fixation %(fixation)s has already been decided (%(status)s); a decision is final.": "По фиксации %(fixation)s решение уже принято (%(status)s); решение окончательное.",  # noqa: E501 - a message id, one literal
        "rejected": "отклонено",
    },
    {
        "A password needs at least %(least)s character.": (
            "Не менее %(least)s символа.",
            "Не менее %(least)s символов.",
            "Не менее %(least)s символов.",
        ),
    },
)

CASE = "KZ-GP-2025-0000042"
NOW = datetime(2025, 6, 1, 6, 0, tzinfo=UTC)


def _refusal(action: object, *args: object, **kwargs: object) -> DomainError:
    assert callable(action)
    with pytest.raises(DomainError) as raised:
        action(*args, **kwargs)
    return raised.value


def test_a_refusal_keeps_its_code_the_english_sentence_and_the_lazy_text() -> None:
    refusal = _refusal(check_transition, CASE, CaseStatus.PAID, CaseStatus.OPEN)
    assert isinstance(refusal, Conflict) and refusal.code == "case_transition_refused"
    assert isinstance(refusal.text, Text)
    assert refusal.text.params["case"] == CASE
    # English for logs and the command line: the labels, not the codes, inside the sentence.
    assert refusal.message == f"Case {CASE} is “paid” and cannot become “open”."
    assert str(refusal) == refusal.message


def test_the_sentence_and_the_labels_inside_it_render_in_the_readers_language() -> None:
    refusal = _refusal(check_transition, CASE, CaseStatus.PAID, CaseStatus.OPEN)
    assert refusal.text.render(RU) == (
        f"Дело {CASE} имеет статус «оплачено» и не может получить статус «на исполнении»."
    )
    decided = _refusal(require_awaiting_review, "fx-1", FixationStatus.REJECTED)
    assert decided.text.render(RU) == (
        "По фиксации fx-1 решение уже принято (отклонено); решение окончательное."
    )


def test_a_message_the_catalog_lacks_falls_back_to_english_with_its_parameters() -> None:
    refusal = _refusal(normalise_plate, "no plate!")
    assert refusal.code == "invalid_plate"
    assert refusal.text.render(RU) == refusal.message
    assert "“no plate!”" in refusal.message


def test_plain_strings_from_older_code_are_still_accepted() -> None:
    refusal = InvalidInput("legacy", "a sentence written before Text existed")
    assert refusal.message == "a sentence written before Text existed"
    assert refusal.text == Text("a sentence written before Text existed")
    assert refusal.text.render(RU) == refusal.message


def test_plural_refusals_choose_the_form_by_the_count() -> None:
    def needs(least: int) -> str:
        return PluralText(
            "A password needs at least %(least)s character.",
            "A password needs at least %(least)s characters.",
            least,
            least=least,
        ).render(RU)

    assert [needs(n) for n in (1, 3, 12, 21)] == [
        "Не менее 1 символа.",
        "Не менее 3 символов.",
        "Не менее 12 символов.",
        "Не менее 21 символа.",
    ]


@pytest.mark.parametrize(
    ("refuse", "code", "parameter"),
    [
        (
            lambda: check_cancellation_request(CASE, CaseStatus.PAID, "wrong owner"),
            "case_closed",
            CASE,
        ),
        (
            lambda: check_cancellation_request(CASE, CaseStatus.CANCELLED, "again"),
            "case_closed",
            CASE,
        ),
        (
            lambda: check_cancellation_decision(
                7, request_status=CancellationStatus.APPROVED, requested_by="a", supervisor="b"
            ),
            "cancellation_already_decided",
            7,
        ),
        (
            lambda: check_cancellation_decision(
                7,
                request_status=CancellationStatus.PENDING,
                requested_by="saule",
                supervisor="saule",
            ),
            "two_person_rule",
            "saule",
        ),
    ],
)
def test_each_refusal_names_its_subject_as_a_parameter(
    refuse: object, code: str, parameter: object
) -> None:
    refusal = _refusal(refuse)
    assert refusal.code == code
    assert parameter in refusal.text.params.values()
    assert str(parameter) in refusal.message


def test_statuses_inside_sentences_are_their_labels_not_their_codes() -> None:
    state = CaseState(
        case_number=CASE,
        status=CaseStatus.SENT_TO_BAILIFFS,
        paid_minor=0,
        has_debtor=True,
        voluntary_deadline=NOW - timedelta(days=1),
        limitation_at=NOW + timedelta(days=100),
    )
    refusal = handover_refusal(state, NOW)
    assert refusal is not None
    assert label(CaseStatus.SENT_TO_BAILIFFS, CASE_STATUSES) in refusal.message
    assert "sent_to_bailiffs" not in refusal.message
    forbidden = _refusal(
        check_cancellation_decision,
        1,
        request_status=CancellationStatus.PENDING,
        requested_by="bolat",
        supervisor="bolat",
    )
    assert isinstance(forbidden, Forbidden)
