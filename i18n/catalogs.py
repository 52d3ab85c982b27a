"""Loading the compiled catalogs, and the ``Translator``: one language's catalog and formats.

The catalogs are gettext ``.mo`` files under ``i18n/locale`` (compiled from the ``.po`` files by
``python -m i18n update``; a test keeps the two in step). A domain's fallbacks are consulted
for messages it does not hold (the console shows the registry's labels), and English, the
message id itself, is the last resort, so a missing catalog never breaks a page.
"""

from __future__ import annotations

import gettext
from datetime import date, datetime, timedelta
from functools import cache

from i18n import formatting
from i18n.domains import DOMAINS, LOCALE_DIR
from i18n.languages import Language, parse_language
from i18n.text import Message


def _load(domain: str, language: Language) -> gettext.NullTranslations:
    """A fresh chain for ``domain``: gettext hands out a copy of its cached catalog on every
    call, so adding fallbacks here never changes another domain's chain."""
    translations: gettext.NullTranslations
    try:
        translations = gettext.translation(domain, LOCALE_DIR, languages=[language])
    except FileNotFoundError:
        if language != "en":
            raise FileNotFoundError(
                f"the {language} catalog of {domain!r} is missing under {LOCALE_DIR}:"
                " run `python -m i18n update`"
            ) from None
        translations = gettext.NullTranslations()
    for name in DOMAINS[domain].fallbacks:
        translations.add_fallback(_load(name, language))
    return translations


@cache
def _catalog(domain: str, language: Language) -> gettext.NullTranslations:
    return _load(domain, language)


class Translator:
    """Everything a page, notice or receipt needs to speak one language."""

    def __init__(self, domain: str, language: Language) -> None:
        if domain not in DOMAINS:
            raise KeyError(f"no gettext domain {domain!r}: there are {', '.join(DOMAINS)}")
        self.domain = domain
        self.language: Language = parse_language(language)
        self._catalog = _catalog(domain, self.language)

    # gettext
    def gettext(self, message: str, /) -> str:
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        return self._catalog.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str, /) -> str:
        return self._catalog.pgettext(context, message)

    def text(self, message: Message | str) -> str:
        """A ``Text``/``PluralText`` rendered here; a plain string looked up as it is."""
        return self.gettext(message) if isinstance(message, str) else message.render(self)

    # formats (Babel / CLDR)
    def money(self, amount_minor: int) -> str:
        return formatting.money(amount_minor, self.language)

    def number(self, value: float) -> str:
        return formatting.number(value, self.language)

    def percent(self, rate: float, decimals: int = 1) -> str:
        return formatting.percent(rate, self.language, decimals)

    def date_time(self, moment: datetime, seconds: bool = False) -> str:
        return formatting.date_time(moment, self.language, seconds)

    def day(self, moment: datetime | date, long: bool = False) -> str:
        return formatting.day(moment, self.language, long)

    def duration(self, span: timedelta, granularity: formatting.Granularity = "second") -> str:
        return formatting.duration(span, self.language, granularity)


@cache
def translator(domain: str, language: Language) -> Translator:
    return Translator(domain, language)
