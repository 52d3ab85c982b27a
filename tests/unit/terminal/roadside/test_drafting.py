"""Drafting rules: the place (the fix, else a typed address flagged manual, else a sentence),
a warning only where the applied part allows it, the driver's drawn signature as its hash or
"refused", the history seen once and this year's offences, and when to ask for numbers."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contract.roadside import DriverSignature, ProtocolOutcome, RoadsideProtocol
from terminal.roadside.codes import EarlierOffence, assess
from terminal.roadside.drafting import (
    Draft,
    DraftRefused,
    GpsFix,
    NumberPolicy,
    build_protocol,
    merge_cases,
    open_cases,
    protocol_place,
    this_year,
)
from tests.unit.terminal.roadside.test_codes import table

AT = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def draft(**changes: object) -> Draft:
    fields: dict[str, object] = {
        "plate": "123 abc-01",
        "article": "592",
        "part": 1,
        "outcome": ProtocolOutcome.WARNING,
        "place": protocol_place(GpsFix(51.1283, 71.4305), None),
        "description": "Превышение скорости на 15 км/ч",
    }
    fields.update(changes)
    return Draft(**fields)  # type: ignore[arg-type]


def build(d: Draft, history: list[EarlierOffence] | None = None) -> RoadsideProtocol:
    return build_protocol(
        d,
        assess(table(), d.article, d.part, history or [], AT),
        protocol_id=uuid4(),
        protocol_number="KZ-GP-R00000001",
        officer_iin="850315300128",
        drawn_up_at=AT,
    )


def test_the_place_is_the_fix_or_a_typed_address_flagged_manual() -> None:
    fixed = protocol_place(GpsFix(51.1, 71.4), "  у ТЦ Хан Шатыр ")
    assert (fixed.lat, fixed.manual, fixed.address) == (51.1, False, "у ТЦ Хан Шатыр")
    typed = protocol_place(None, "пр. Абая, 10")
    assert typed.manual and typed.lat is None
    for nothing in (None, "", "  ", "ab"):
        with pytest.raises(DraftRefused, match="GPS has no fix"):
            protocol_place(None, nothing)


def test_a_warning_where_allowed_and_a_fine_carries_its_amount() -> None:
    warning = build(draft())
    assert warning.amount_minor is None and warning.plate == "123ABC01"
    assert warning.driver_signature is DriverSignature.REFUSED
    fine = build(draft(outcome=ProtocolOutcome.FINE, driver_signature_png=b"drawn"))
    assert fine.amount_minor == 5 * 4325 * 100
    assert fine.driver_signature_sha256 == hashlib.sha256(b"drawn").hexdigest()


def test_no_warning_where_the_part_or_its_repeat_forbids_it() -> None:
    with pytest.raises(DraftRefused, match="599 part 1 does not allow a warning"):
        build(draft(article="599"))
    earlier = EarlierOffence("KZ-GP-R00000009", "592", "2", AT - timedelta(days=3), "paid")
    with pytest.raises(DraftRefused, match=r"part 5 \(a repeat of case KZ-GP-R00000009\)"):
        build(draft(part=2), [earlier])


def test_an_incomplete_protocol_names_what_is_missing() -> None:
    with pytest.raises(DraftRefused, match="description"):
        build(draft(description=""))


def test_history_each_case_once_open_ones_and_this_years() -> None:
    old = EarlierOffence("A", "592", "1", datetime(2025, 12, 31, 20, 0, tzinfo=UTC), "paid")
    new = EarlierOffence("B", "599", "1", AT - timedelta(days=5), "open")
    gone = EarlierOffence("C", "599", "1", AT - timedelta(days=9), "cancelled")
    merged = merge_cases([new, old], [new, gone])
    assert [c.case_number for c in merged] == ["B", "A", "C"]
    assert [c.case_number for c in open_cases(merged)] == ["B"]
    # 31 December 20:00 UTC is already 1 January in Kazakhstan; cancelled is no offence
    assert [c.case_number for c in this_year(merged, AT)] == ["B", "A"]


def test_numbers_are_asked_for_below_the_low_water() -> None:
    policy = NumberPolicy(low_water=20, block_size=100)
    assert policy.should_fetch(19) and policy.should_fetch(0) and not policy.should_fetch(20)
