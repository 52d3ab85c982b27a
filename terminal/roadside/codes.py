"""The code table the officer chooses from at the roadside, and the rules over it (pure).

One row per article and part of the Code of Administrative Offences (CoAO RK) that a patrol
officer writes protocols under: the fine in MRP, whether the part allows a warning instead of a
fine, and, where the Code makes a repeat within a year a separate, heavier part, which part that
is. The table is data (``terminal/roadside/code_table.toml``, shipped with the terminal), so a
change of the Code is a change of that file, not of this module.

The MRP of a year is the same figure the registry converts fines with (the registry's
``mrp_by_year``); the terminal carries its own copy because it writes fines with no network,
and a test checks that both agree (tests/integration/terminal/roadside/test_code_table.py).

Repeat offences: the Code's "repeated within a year after the penalty was imposed". The terminal
sees the person's and the vehicle's earlier cases (the registry's lookups); a case the registry
cancelled is no penalty and does not count. An earlier offence under the same article and the
same part, or already under its repeat part, within 365 days before this one, moves the
protocol to the repeat part, whose fine is always the higher (checked when the table loads).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from i18n import Language, Text
from terminal.messages import SpokenError

TIYN_PER_KZT = 100
REPEAT_WINDOW = timedelta(days=365)
# Statuses of the registry's cases that are no penalty: they never make a repeat.
NOT_A_PENALTY = frozenset({"cancelled"})
# Kazakhstan's time (UTC+5, one zone since 2024): the day of the offence fixes the MRP.
KAZAKHSTAN_UTC_OFFSET = timedelta(hours=5)


class CodeTableError(ValueError):
    """The table file is inconsistent; raised when it loads, naming the row."""


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeEntry(_Row):
    article: str = Field(min_length=1, max_length=16)
    part: int = Field(ge=1, le=20)
    fine_mrp: int = Field(gt=0)
    warning_allowed: bool = False
    repeat_part: int | None = Field(
        default=None, ge=1, le=20, description="the part a repeat within a year falls under"
    )
    title: dict[Language, str] = Field(description="what the officer reads, per language")

    @property
    def key(self) -> tuple[str, int]:
        return self.article, self.part

    def title_in(self, language: Language) -> str:
        return self.title.get(language) or self.title.get("ru") or next(iter(self.title.values()))


class CodeTable(_Row):
    mrp_by_year: dict[int, int] = Field(description="MRP in KZT per calendar year")
    discount_percent: int = Field(
        default=50, ge=0, le=100, description="the on-the-spot reduction of the fine"
    )
    entries: list[CodeEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        seen: set[tuple[str, int]] = set()
        for entry in self.entries:
            if entry.key in seen:
                raise CodeTableError(f"article {entry.article} part {entry.part} is listed twice")
            seen.add(entry.key)
        for entry in self.entries:
            if entry.repeat_part is None:
                continue
            repeat = self._find(entry.article, entry.repeat_part)
            if repeat is None:
                raise CodeTableError(
                    f"article {entry.article} part {entry.part} names repeat part"
                    f" {entry.repeat_part}, which the table does not list"
                )
            if repeat.fine_mrp <= entry.fine_mrp:
                raise CodeTableError(
                    f"article {entry.article}: the repeat part {repeat.part} must be fined"
                    f" higher than part {entry.part}"
                )
        return self

    def _find(self, article: str, part: int) -> CodeEntry | None:
        return next((e for e in self.entries if e.key == (article, part)), None)

    def entry(self, article: str, part: int) -> CodeEntry:
        found = self._find(article.strip(), part)
        if found is None:
            raise SpokenError(
                Text(
                    "Article %(article)s part %(part)s is not in the terminal's code table:"
                    " choose one from the list.",
                    article=article,
                    part=part,
                )
            )
        return found

    def mrp_on(self, day: date) -> int:
        try:
            return self.mrp_by_year[day.year]
        except KeyError:
            raise SpokenError(
                Text(
                    "The terminal's code table has no MRP for %(year)s: the terminal needs an"
                    " update before it can write fines of that year.",
                    year=day.year,
                )
            ) from None


@dataclass(frozen=True)
class EarlierOffence:
    """An earlier case of the person or the vehicle, as the registry's lookup gives it."""

    case_number: str
    article: str
    part: str
    offence_at: datetime
    status: str


@dataclass(frozen=True)
class Assessment:
    """The part the protocol is written under and what it costs."""

    entry: CodeEntry  # the part applied (the repeat part for a repeat)
    chosen: CodeEntry  # the part the officer chose
    repeat_of: str | None  # the earlier case that makes this a repeat
    mrp_kzt: int
    fine_minor: int  # the full fine, in tiyn
    on_the_spot_minor: int  # what the driver pays on the spot (discount applied)

    @property
    def is_repeat(self) -> bool:
        return self.repeat_of is not None

    @property
    def warning_allowed(self) -> bool:
        return self.entry.warning_allowed


def offence_day(at: datetime) -> date:
    """The calendar day in Kazakhstan: an offence at 01:00 local on 1 January is fined at the
    new year's MRP though it is still 31 December in UTC."""
    return (at.astimezone(UTC) + KAZAKHSTAN_UTC_OFFSET).date()


def repeat_case(
    chosen: CodeEntry, earlier: Iterable[EarlierOffence], at: datetime
) -> EarlierOffence | None:
    """The latest earlier penalty that makes this offence a repeat, or None."""
    if chosen.repeat_part is None:
        return None
    parts = {str(chosen.part), str(chosen.repeat_part)}
    counted = [
        offence
        for offence in earlier
        if offence.article == chosen.article
        and offence.part in parts
        and offence.status not in NOT_A_PENALTY
        and at - REPEAT_WINDOW <= offence.offence_at < at
    ]
    return max(counted, key=lambda offence: offence.offence_at, default=None)


def on_the_spot_minor(fine_minor: int, discount_percent: int) -> int:
    # Floor division: a fraction of a tiyn is rounded down, in the payer's favour (as the
    # registry's core.fines does).
    return fine_minor * (100 - discount_percent) // 100


def assess(
    table: CodeTable,
    article: str,
    part: int,
    earlier: Iterable[EarlierOffence],
    at: datetime,
) -> Assessment:
    chosen = table.entry(article, part)
    repeat = repeat_case(chosen, earlier, at)
    applied = chosen
    if repeat is not None and chosen.repeat_part is not None:
        applied = table.entry(chosen.article, chosen.repeat_part)
    mrp = table.mrp_on(offence_day(at))
    fine = applied.fine_mrp * mrp * TIYN_PER_KZT
    return Assessment(
        entry=applied,
        chosen=chosen,
        repeat_of=None if repeat is None else repeat.case_number,
        mrp_kzt=mrp,
        fine_minor=fine,
        on_the_spot_minor=on_the_spot_minor(fine, table.discount_percent),
    )


def parse_code_table(data: Mapping[str, object]) -> CodeTable:
    """The table from the TOML file's data (the caller reads the file); ``CodeTableError``
    naming each problem."""
    try:
        return CodeTable.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'table'}: {error['msg']}"
            for error in exc.errors()
        )
        raise CodeTableError(f"the code table is not usable: {problems}") from None
