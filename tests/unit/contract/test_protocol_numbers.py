"""Protocol numbers and the blocks the registry sets aside for a terminal, and the protocol's
optional photos: a protocol without photos keeps the canonical form it had before the field."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contract.roadside import (
    MAX_PROTOCOL_SEQUENCE,
    PROTOCOL_NUMBER_PATTERN,
    ProtocolNumberBlock,
    RoadsideProtocol,
    format_protocol_number,
    parse_protocol_number,
    protocol_signed_bytes,
)

NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
PHOTO = "0123456789abcdef" * 4
PROTOCOL_ID = str(uuid4())


def _fields(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "protocol_id": PROTOCOL_ID,
        "protocol_number": format_protocol_number("KZ-GP", 417),
        "officer_iin": "791028302728",
        "plate": "123ABC01",
        "article": "592",
        "part": 1,
        "outcome": "fine",
        "amount_minor": 1_966_000,
        "place": {"lat": 51.1, "lon": 71.4, "manual": False},
        "drawn_up_at": "2026-12-07T10:30:00Z",
        "description": "speeding",
        "driver_signature": "refused",
    }
    fields.update(changes)
    return fields


def test_numbers_are_the_agency_code_r_and_eight_digits_and_read_back() -> None:
    assert format_protocol_number("KZ-GP", 417) == "KZ-GP-R00000417"
    longest = format_protocol_number("ABCDEFGHIJKLMNOP", MAX_PROTOCOL_SEQUENCE)
    for number in ("KZ-GP-R00000417", longest, format_protocol_number("KZ", 1)):
        assert re.fullmatch(PROTOCOL_NUMBER_PATTERN, number)
    assert parse_protocol_number("KZ-GP-R00000417") == ("KZ-GP", 417)
    assert parse_protocol_number(longest) == ("ABCDEFGHIJKLMNOP", MAX_PROTOCOL_SEQUENCE)
    # A camera case's number is not a protocol number, so the two series never meet.
    assert parse_protocol_number("KZ-GP-2026-0000417") is None
    assert parse_protocol_number("KZ-GP-R417") is None
    for prefix, n in (("kz-gp", 1), ("KZ-GP", 0), ("KZ-GP", MAX_PROTOCOL_SEQUENCE + 1), ("", 5)):
        with pytest.raises(ValueError):
            format_protocol_number(prefix, n)


def test_a_block_holds_its_numbers_and_only_its_own() -> None:
    issued = datetime(2026, 12, 7, 15, 30, tzinfo=timezone(timedelta(hours=5)))
    block = ProtocolNumberBlock(
        prefix="KZ-GP", first=101, last=150, device_id="term-017", issued_at=issued
    )
    assert block.issued_at == NOW and block.issued_at.tzinfo is UTC
    assert block.size == 50
    assert block.number(101) == "KZ-GP-R00000101"
    assert block.contains("KZ-GP-R00000150") and block.contains(block.number(120))
    assert not block.contains("KZ-GP-R00000151")
    assert not block.contains("KZ-GP-R00000100")
    assert not block.contains("KZ-AST-R00000120")
    assert not block.contains("KZ-GP-2026-0000120")
    with pytest.raises(ValueError):
        block.number(151)
    assert ProtocolNumberBlock.model_validate_json(block.model_dump_json()) == block
    for bad in (
        {"first": 151},
        {"first": 0},
        {"last": MAX_PROTOCOL_SEQUENCE + 1},
        {"device_id": "Term 17"},
        {"prefix": "kz"},
        {"issued_at": datetime(2026, 12, 7, 10, 30)},
    ):
        with pytest.raises(ValidationError):
            ProtocolNumberBlock.model_validate({**block.model_dump(), **bad})


def test_photos_are_optional_and_leave_a_photoless_protocols_canonical_form_alone() -> None:
    plain = RoadsideProtocol.model_validate(_fields())
    assert plain.photo_sha256 == []
    dumped = plain.model_dump(mode="json")
    # Signed before the field existed: the same dict, the same bytes, the same signature.
    assert "photo_sha256" not in dumped
    assert protocol_signed_bytes(plain) == protocol_signed_bytes(_fields(**dumped))
    assert RoadsideProtocol.model_validate(dumped) == plain
    with_photos = RoadsideProtocol.model_validate(_fields(photo_sha256=[PHOTO, "f" * 64]))
    sent = with_photos.model_dump(mode="json")
    assert sent["photo_sha256"] == [PHOTO, "f" * 64]
    assert protocol_signed_bytes(with_photos) == protocol_signed_bytes(sent)
    # The photos are under the officer's signature: adding one changes what he signed.
    assert protocol_signed_bytes(with_photos) != protocol_signed_bytes(plain)
    for photos in ([PHOTO.upper()], [PHOTO, PHOTO], [f"{i:064x}" for i in range(7)]):
        with pytest.raises(ValidationError):
            RoadsideProtocol.model_validate(_fields(photo_sha256=photos))
