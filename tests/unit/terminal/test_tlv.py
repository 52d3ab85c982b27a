"""TLV and data object lists (terminal/tlv.py): built in the card's order, templates kept
apart, malformed input refused clearly."""

from __future__ import annotations

import pytest

from terminal import tlv


def test_dol_is_built_in_the_cards_order_and_lengths() -> None:
    dol = bytes.fromhex("9F02069F1A029F3704")
    assert tlv.parse_dol(dol) == [("9F02", 6), ("9F1A", 2), ("9F37", 4)]
    built = tlv.build_dol(dol, {"9F02": bytes.fromhex("000000012345"), "9F1A": b"\x03\x98\x00"})
    # a missing value is zeros; a longer one keeps its rightmost bytes
    assert built == bytes.fromhex("000000012345980000000000")


def test_repeated_templates_are_kept_apart() -> None:
    first = tlv.encode({"61": {"4F": bytes.fromhex("A0000000031010")}})
    second = tlv.encode({"61": {"4F": bytes.fromhex("A0000000041010")}})
    directory = (
        tlv.encode({"6F": {"84": b"2PAY.SYS.DDF01"}})[:0]
        + b"\xbf\x0c"
        + bytes([len(first + second)])
        + first
        + second
    )
    values = [value for tag, value in tlv.split(tlv.find_raw(directory, "BF0C") or b"")]
    assert [tlv.find(tlv.decode(v), "4F") for v in values] == [
        bytes.fromhex("A0000000031010"),
        bytes.fromhex("A0000000041010"),
    ]


def test_malformed_tlv_is_a_clear_error() -> None:
    with pytest.raises(tlv.TlvError):
        list(tlv.split(bytes.fromhex("5A08476173")))
