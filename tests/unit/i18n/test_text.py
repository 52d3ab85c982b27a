"""Lazy sentences: a Text keeps its message id and parameters until a reader's catalog renders
it (the catalog here is a dictionary: unit tests read no file)."""

from __future__ import annotations

from i18n import PluralText, Text
from tests.support.catalogs import RussianCatalog

RU = RussianCatalog(
    {
        "There is no case %(case)s.": "Дела %(case)s нет.",
        "Case %(case)s: %(status)s.": "Дело %(case)s: %(status)s.",
        "paid": "оплачено",
    },
    {
        "%(n)s fixation waits.": (
            "Ждёт %(n)s фиксация.",
            "Ждут %(n)s фиксации.",
            "Ждут %(n)s фиксаций.",
        )
    },
)


def test_a_text_renders_in_english_without_a_catalog_and_translated_with_one() -> None:
    text = Text("There is no case %(case)s.", case="KZ-GP-2026-0000042")
    assert str(text) == "There is no case KZ-GP-2026-0000042."
    assert text.render(RU) == "Дела KZ-GP-2026-0000042 нет."


def test_a_text_parameter_that_is_itself_a_text_is_translated_too() -> None:
    text = Text("Case %(case)s: %(status)s.", case="KZ-1", status=Text("paid"))
    assert text.render(RU) == "Дело KZ-1: оплачено."
    assert str(text) == "Case KZ-1: paid."


def test_a_message_without_parameters_keeps_a_percent_sign_as_written() -> None:
    assert Text("50% if paid within 7 days").render(RU) == "50% if paid within 7 days"


def test_plural_forms_follow_the_count() -> None:
    forms = [
        PluralText("%(n)s fixation waits.", "%(n)s fixations wait.", n, n=n).render(RU)
        for n in (1, 3, 5, 11, 21, 22)
    ]
    assert forms == [
        "Ждёт 1 фиксация.",
        "Ждут 3 фиксации.",
        "Ждут 5 фиксаций.",
        "Ждут 11 фиксаций.",
        "Ждёт 21 фиксация.",
        "Ждут 22 фиксации.",
    ]
    assert str(PluralText("%(n)s fixation waits.", "%(n)s fixations wait.", 2, n=2)) == (
        "2 fixations wait."
    )


def test_texts_with_the_same_message_and_parameters_are_equal() -> None:
    assert Text("a %(x)s", x=1) == Text("a %(x)s", x=1)
    assert Text("a %(x)s", x=1) != Text("a %(x)s", x=2)
