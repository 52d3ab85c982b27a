"""The languages the system speaks and how a request's language is chosen.

Kazakh is the state language, Russian is used officially alongside it, English is kept for
engineers. Codes are ISO 639-1, as gettext catalogs and HTML's ``lang`` use them.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

Language: TypeAlias = Literal["kk", "ru", "en"]

LANGUAGES: tuple[Language, ...] = ("kk", "ru", "en")
# Where nobody said otherwise: Russian is the language of most case files (the registry's
# config can say otherwise; this is the fallback of last resort).
FALLBACK_LANGUAGE: Language = "ru"
# Official notices to a person whose language is unknown go out in both, the state language
# first.
BOTH_OFFICIAL: tuple[Language, Language] = ("kk", "ru")

# Names each language has for itself, for the switcher: a person who cannot read the current
# language still finds his own.
LANGUAGE_NAMES: dict[Language, str] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}

# Accept-Language headers are short; anything longer is refused unread (bounded cost).
_MAX_HEADER = 512


def language_or_none(code: str | None) -> Language | None:
    """``"ru-KZ"``, ``"RU"``, ``"kk_KZ"`` -> the supported language, or None."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    for language in LANGUAGES:
        if primary == language:
            return language
    return None


def parse_language(code: str) -> Language:
    """A supported language code, or ValueError naming the ones there are."""
    language = language_or_none(code)
    if language is None:
        raise ValueError(f"unknown language {code!r}: use one of {', '.join(LANGUAGES)}")
    return language


def negotiate(accept_language: str | None, default: Language = FALLBACK_LANGUAGE) -> Language:
    """The best supported language of an HTTP ``Accept-Language`` header (RFC 9110 12.5.4):
    highest q first, ties in the header's order; ``default`` when none is supported."""
    if not accept_language or len(accept_language) > _MAX_HEADER:
        return default
    ranked: list[tuple[float, int, Language]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = language_or_none(tag)
        if language is not None and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else default
