"""The roadside code table's rules: amounts in the MRP of the offence's day in Kazakhstan, the
on-the-spot half, warnings only where the part allows them, and a repeat within a year moving
the protocol to the Code's higher part."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from terminal.messages import SpokenError
from terminal.roadside.codes import (
    CodeTableError,
    EarlierOffence,
    assess,
    offence_day,
    parse_code_table,
    repeat_case,
)

TITLE = {"ru": "x", "kk": "x"}


def table(**changes: Any) -> Any:
    data: dict[str, Any] = {
        "mrp_by_year": {2025: 3932, 2026: 4325},
        "discount_percent": 50,
        "entries": [
            {"article": "592", "part": 1, "fine_mrp": 5, "warning_allowed": True, "title": TITLE},
            {"article": "592", "part": 2, "fine_mrp": 10, "repeat_part": 5, "title": TITLE},
            {"article": "592", "part": 5, "fine_mrp": 20, "title": TITLE},
            {"article": "599", "part": 1, "fine_mrp": 10, "repeat_part": 2, "title": TITLE},
            {"article": "599", "part": 2, "fine_mrp": 20, "title": TITLE},
        ],
    }
    data.update(changes)
    return parse_code_table(data)


AT = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def earlier(days_before: int, part: str = "2", status: str = "paid", article: str = "592") -> Any:
    return EarlierOffence(
        case_number=f"KZ-GP-R{days_before:08d}",
        article=article,
        part=part,
        offence_at=AT - timedelta(days=days_before),
        status=status,
    )


def test_a_first_offence_is_fined_in_the_mrp_of_the_year_with_half_on_the_spot() -> None:
    result = assess(table(), "592", 2, [], AT)
    assert (result.entry.part, result.is_repeat) == (2, False)
    assert result.fine_minor == 10 * 4325 * 100
    assert result.on_the_spot_minor == 10 * 4325 * 100 // 2


def test_the_mrp_is_the_one_of_the_day_in_kazakhstan_not_in_utc() -> None:
    new_year_local = datetime(2025, 12, 31, 19, 30, tzinfo=UTC)  # 00:30 on 1 January, UTC+5
    assert offence_day(new_year_local).isoformat() == "2026-01-01"
    assert assess(table(), "599", 1, [], new_year_local).mrp_kzt == 4325
    before = datetime(2025, 12, 31, 18, 30, tzinfo=UTC)
    assert assess(table(), "599", 1, [], before).mrp_kzt == 3932


def test_a_repeat_within_a_year_takes_the_higher_part() -> None:
    result = assess(table(), "592", 2, [earlier(200), earlier(30, status="open")], AT)
    assert result.entry.part == 5 and result.chosen.part == 2
    assert result.repeat_of == "KZ-GP-R00000030"  # the latest one
    assert result.fine_minor == 20 * 4325 * 100


def test_an_earlier_repeat_part_counts_too() -> None:
    assert assess(table(), "592", 2, [earlier(10, part="5")], AT).entry.part == 5


@pytest.mark.parametrize(
    "history",
    [
        [earlier(366)],  # more than a year ago
        [earlier(30, status="cancelled")],  # no penalty
        [earlier(30, part="1")],  # another part
        [earlier(30, article="599")],  # another article
        [earlier(-1)],  # after this one
    ],
)
def test_what_is_no_repeat(history: list[EarlierOffence]) -> None:
    assert assess(table(), "592", 2, history, AT).entry.part == 2


def test_a_part_without_a_repeat_part_never_changes() -> None:
    entry = table().entry("592", 1)
    assert repeat_case(entry, [earlier(5, part="1")], AT) is None


def test_warnings_are_flagged_per_part() -> None:
    assert assess(table(), "592", 1, [], AT).warning_allowed
    assert not assess(table(), "599", 1, [], AT).warning_allowed


def test_an_unknown_part_or_year_is_a_sentence() -> None:
    with pytest.raises(SpokenError, match="not in the terminal's code table"):
        assess(table(), "592", 9, [], AT)
    with pytest.raises(SpokenError, match="no MRP for 2027"):
        assess(table(), "592", 1, [], datetime(2027, 2, 1, tzinfo=UTC))


def test_the_table_refuses_a_repeat_part_it_lacks_or_that_is_not_higher() -> None:
    with pytest.raises(CodeTableError, match="repeat part 7"):
        table(entries=[{"article": "1", "part": 1, "fine_mrp": 2, "repeat_part": 7, "title": {}}])
    lower = [
        {"article": "1", "part": 1, "fine_mrp": 5, "repeat_part": 2, "title": TITLE},
        {"article": "1", "part": 2, "fine_mrp": 5, "title": TITLE},
    ]
    with pytest.raises(CodeTableError, match="fined higher"):
        table(entries=lower)
    with pytest.raises(CodeTableError, match="listed twice"):
        table(entries=[lower[1], lower[1]])
