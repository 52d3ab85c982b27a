"""Which language a request gets: the best supported language of its Accept-Language header
(RFC 9110 12.5.4), else the registry's default; and what counts as a language code."""

from __future__ import annotations

import pytest

from i18n import LANGUAGES, language_or_none, negotiate, parse_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("kk", "kk"),
        ("ru-RU,ru;q=0.9", "ru"),
        ("en-US,en;q=0.9,ru;q=0.8", "en"),
        ("kk-KZ,kk;q=0.9,ru;q=0.8,en;q=0.7", "kk"),
        # the highest quality wins, wherever it stands
        ("ru;q=0.5, kk;q=0.8", "kk"),
        ("en;q=0.1, de, ru;q=0.7", "ru"),
        # ties go to the one named first
        ("ru, kk", "ru"),
        ("kk, ru", "kk"),
        # q=0 means "not this one"
        ("kk;q=0, ru", "ru"),
        # tags as browsers and other systems write them
        ("KK-kz", "kk"),
        ("ru_KZ", "ru"),
        ("  en-GB ;q=1.0 ", "en"),
        # a quality that is not a number counts as zero, not as a crash
        ("kk;q=high, ru;q=0.2", "ru"),
    ],
)
def test_the_best_supported_language_of_the_header_wins(header: str, expected: str) -> None:
    assert negotiate(header, "en") == expected


@pytest.mark.parametrize(
    "header",
    [None, "", "de-DE,fr;q=0.8", "*", "kk;q=0", "kz", "x" * 600 + ",kk"],
)
@pytest.mark.parametrize("default", LANGUAGES)
def test_without_a_supported_language_the_default_is_used(header: str | None, default: str) -> None:
    # "kz" is the country, not the language (ISO 639-1 is kk); an over-long header is not read.
    assert negotiate(header, default) == default


def test_the_default_default_is_russian() -> None:
    assert negotiate(None) == "ru"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("kk", "kk"),
        ("RU", "ru"),
        ("ru-KZ", "ru"),
        ("kk_KZ", "kk"),
        ("en", "en"),
        ("de", None),
        ("", None),
        (None, None),
        ("kaz", None),
    ],
)
def test_language_codes(code: str | None, expected: str | None) -> None:
    assert language_or_none(code) == expected


def test_an_unknown_code_is_refused_naming_the_languages_there_are() -> None:
    assert parse_language("Kk") == "kk"
    with pytest.raises(ValueError, match="kk, ru, en"):
        parse_language("kz")
