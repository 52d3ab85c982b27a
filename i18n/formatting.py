"""Amounts, dates, times and durations as each language writes them, from Babel's CLDR data.

Kazakhstan has one time zone (UTC+5 since March 2024, ``Asia/Almaty`` in the tz database);
the registry stores UTC and shows local time. Amounts are integers in tiyn (1/100 KZT).

Kazakh and Russian use the Kazakhstan variants of CLDR (``kk_KZ``, ``ru_KZ``): plain ``ru``
writes the tenge as "KZT", ``ru_KZ`` as "₸", as a Kazakh reader expects.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_currency, format_decimal, format_percent

from i18n.languages import Language

TIME_ZONE = ZoneInfo("Asia/Almaty")
CURRENCY = "KZT"

_CLDR_LOCALE: dict[Language, str] = {"kk": "kk_KZ", "ru": "ru_KZ", "en": "en"}
# CLDR's English writes "KZT21,625.00"; "21,625.00 KZT" reads more easily.
_CURRENCY_PATTERN: dict[Language, str | None] = {"kk": None, "ru": None, "en": "#,##0.00\u00a0¤"}


def cldr_locale(language: Language) -> str:
    return _CLDR_LOCALE[language]


def money(amount_minor: int, language: Language) -> str:
    """``2162500`` -> ``21 625,00 ₸`` (ru, kk; the spaces are no-break), ``21,625.00 KZT``
    (en: CLDR's English has no sign for the tenge)."""
    return format_currency(
        Decimal(amount_minor).scaleb(-2),
        CURRENCY,
        format=_CURRENCY_PATTERN[language],
        locale=_CLDR_LOCALE[language],
        currency_digits=True,
    )


def number(value: int | float | Decimal, language: Language) -> str:
    return format_decimal(value, locale=_CLDR_LOCALE[language])


def percent(rate: float, language: Language, decimals: int = 1) -> str:
    """``0.123`` -> ``12,3%`` (ru)."""
    pattern = "#,##0." + "0" * decimals + "%" if decimals else "#,##0%"
    return format_percent(rate, pattern, locale=_CLDR_LOCALE[language])


def local_time(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are refused: times are stored in UTC")
    return moment.astimezone(TIME_ZONE)


def date_time(moment: datetime, language: Language, seconds: bool = False) -> str:
    """Local date and time: ``05.03.2026 14:07`` in kk and ru, ``3/5/26, 2:07 PM`` in en."""
    pattern = "dd.MM.yyyy HH:mm:ss" if seconds else "dd.MM.yyyy HH:mm"
    if language == "en":
        return format_datetime(
            moment, "medium" if seconds else "short", tzinfo=TIME_ZONE, locale="en"
        )
    return format_datetime(moment, pattern, tzinfo=TIME_ZONE, locale=_CLDR_LOCALE[language])


def day(moment: datetime | date, language: Language, long: bool = False) -> str:
    """Local date: ``05.03.2026`` (kk, ru short), ``5 марта 2026 г.`` (ru long)."""
    value = local_time(moment).date() if isinstance(moment, datetime) else moment
    if long:
        return format_date(value, "long", locale=_CLDR_LOCALE[language])
    if language == "en":
        return format_date(value, "medium", locale="en")
    return format_date(value, "dd.MM.yyyy", locale=_CLDR_LOCALE[language])


Granularity = Literal["year", "month", "week", "day", "hour", "minute", "second"]


def duration(span: timedelta, language: Language, granularity: Granularity = "second") -> str:
    """``timedelta(days=7)`` -> ``1 неделя`` (ru), ``1 апта`` (kk); ``timedelta(days=2)`` ->
    ``2 дня``: CLDR's plural rules, not a hand-written table."""
    return format_timedelta(
        span, threshold=1.0, granularity=granularity, locale=_CLDR_LOCALE[language]
    )
