"""Amounts, dates and durations as Kazakh and Russian readers write them, from Babel's CLDR
data (no hand-written formats): the tenge after the amount with no-break spaces, Astana local
time (the tz database's Asia/Almaty, UTC+5 since 1 March 2024)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from i18n import formatting

NBSP = "\u00a0"


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_an_amount_in_tiyn_is_written_with_the_tenge_sign(language: str) -> None:
    assert formatting.money(2_162_500, language) == f"21{NBSP}625,00{NBSP}₸"
    assert formatting.money(5, language) == f"0,05{NBSP}₸"
    assert formatting.money(100_000_000, language) == f"1{NBSP}000{NBSP}000,00{NBSP}₸"


def test_english_amounts_keep_the_english_separators() -> None:
    assert formatting.money(2_162_500, "en").startswith("21,625.00")


def test_times_are_shown_in_astana_local_time() -> None:
    moment = datetime(2026, 3, 5, 9, 7, 30, tzinfo=UTC)
    assert formatting.date_time(moment, "ru") == "05.03.2026 14:07"
    assert formatting.date_time(moment, "kk") == "05.03.2026 14:07"
    assert formatting.date_time(moment, "ru", seconds=True) == "05.03.2026 14:07:30"
    # The same instant given in another offset is the same local time.
    other_offset = moment.astimezone(timezone(timedelta(hours=-3)))
    assert formatting.date_time(other_offset, "kk") == "05.03.2026 14:07"


def test_local_time_follows_the_tz_database_not_a_fixed_offset() -> None:
    # Before 1 March 2024 Almaty was UTC+6.
    assert formatting.date_time(datetime(2023, 6, 1, 6, 0, tzinfo=UTC), "ru") == "01.06.2023 12:00"
    assert formatting.date_time(datetime(2025, 6, 1, 6, 0, tzinfo=UTC), "ru") == "01.06.2025 11:00"


def test_the_local_day_can_differ_from_the_utc_day() -> None:
    late_utc = datetime(2025, 12, 31, 20, 0, tzinfo=UTC)  # 01:00 on 1 January in Astana
    assert formatting.day(late_utc, "kk") == "01.01.2026"
    assert formatting.day(date(2026, 3, 5), "ru") == "05.03.2026"
    # CLDR puts a narrow no-break space before the abbreviation of "year".
    assert formatting.day(date(2026, 3, 5), "ru", long=True) == "5 марта 2026\u202fг."


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        formatting.day(datetime(2026, 3, 5, 9, 7), "ru")


def test_durations_use_each_languages_plural_rules() -> None:
    assert [formatting.duration(timedelta(days=n), "ru") for n in (1, 2, 5)] == [
        "1 день",
        "2 дня",
        "5 дней",
    ]
    # Kazakh nouns do not change after a numeral.
    assert [formatting.duration(timedelta(days=n), "kk") for n in (1, 2, 5)] == [
        "1 күн",
        "2 күн",
        "5 күн",
    ]
    assert formatting.duration(timedelta(days=7), "ru") == "1 неделя"


def test_numbers_use_the_languages_separators() -> None:
    assert formatting.number(1234.5, "ru") == f"1{NBSP}234,5"
    assert formatting.number(1234.5, "en") == "1,234.5"
    assert formatting.percent(0.123, "ru").startswith("12,3")
