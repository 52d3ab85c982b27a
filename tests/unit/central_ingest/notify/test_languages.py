"""Which languages a notice goes out in: the owner's, or both official ones Kazakh first."""

from __future__ import annotations

import pytest

from central_ingest.notify.outbox import notice_languages, recorded_language


@pytest.mark.parametrize(
    ("owner", "expected"),
    [("kk", ("kk",)), ("ru", ("ru",)), ("en", ("en",)), ("RU-kz", ("ru",)), ("kk_KZ", ("kk",))],
)
def test_a_known_language_is_the_only_one(owner: str, expected: tuple[str, ...]) -> None:
    assert notice_languages(owner) == expected
    # The registry's policy for unknown languages does not touch a known one.
    assert notice_languages(owner, unknown="default", default="kk") == expected


@pytest.mark.parametrize("owner", [None, "", "de", "uz"])
def test_an_unknown_language_means_both_official_kazakh_first(owner: str | None) -> None:
    assert notice_languages(owner) == ("kk", "ru")
    assert notice_languages(owner, unknown="default", default="kk") == ("kk",)
    assert notice_languages(owner, unknown="default", default="ru") == ("ru",)


def test_the_recorded_language_of_a_bilingual_email() -> None:
    assert recorded_language(("kk", "ru")) == "kk,ru"
    assert recorded_language(("ru",)) == "ru"
