"""BER-TLV for EMV: values are decoded and encoded by pyemv; this module adds what pyemv leaves
out: splitting a run of repeated templates (a directory with several applications) and data
object lists (PDOL, CDOL), which are tag-length pairs without values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pyemv import tlv as _pyemv_tlv


class TlvError(ValueError):
    """The card sent data that is not well-formed BER-TLV."""


def decode(data: bytes) -> dict[str, Any]:
    """Nested mapping tag -> bytes or mapping, tags as upper-case hex."""
    try:
        return _pyemv_tlv.decode(bytes(data))
    except _pyemv_tlv.DecodeError as exc:
        raise TlvError(str(exc)) from exc


def encode(values: Mapping[str, Any]) -> bytes:
    return bytes(_pyemv_tlv.encode(dict(values)))


def find(tree: Mapping[str, Any], tag: str) -> bytes | None:
    """The first primitive value of ``tag`` anywhere in a decoded tree."""
    for key, value in tree.items():
        if key == tag and isinstance(value, bytes | bytearray):
            return bytes(value)
        if isinstance(value, Mapping):
            found = find(value, tag)
            if found is not None:
                return found
    return None


def _read_tag(data: bytes, offset: int) -> tuple[str, int]:
    start = offset
    if data[offset] & 0x1F == 0x1F:  # multi-byte tag: continue while b8 is set
        offset += 1
        while data[offset] & 0x80:
            offset += 1
    offset += 1
    return data[start:offset].hex().upper(), offset


def _read_length(data: bytes, offset: int) -> tuple[int, int]:
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    count = first & 0x7F
    return int.from_bytes(data[offset + 1 : offset + 1 + count], "big"), offset + 1 + count


def split(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Top-level (tag, value) pairs in order, repeated tags kept."""
    offset = 0
    while offset < len(data):
        if data[offset] in (0x00, 0xFF):  # padding between objects
            offset += 1
            continue
        tag, offset = _read_tag(data, offset)
        length, offset = _read_length(data, offset)
        if offset + length > len(data):
            raise TlvError(f"TLV item {tag} runs past the end of the data")
        yield tag, data[offset : offset + length]
        offset += length


def find_raw(data: bytes, tag: str) -> bytes | None:
    """The value of the first ``tag`` at any depth, undecoded: for a template whose children
    repeat (several applications in one directory), which a mapping cannot hold."""
    for item_tag, value in split(data):
        if item_tag == tag:
            return value
        if int(item_tag[:2], 16) & 0x20:  # constructed: look inside
            found = find_raw(value, tag)
            if found is not None:
                return found
    return None


def parse_dol(dol: bytes) -> list[tuple[str, int]]:
    """A data object list: the (tag, length) pairs the card asks the terminal to send."""
    items: list[tuple[str, int]] = []
    offset = 0
    while offset < len(dol):
        tag, offset = _read_tag(dol, offset)
        length, offset = _read_length(dol, offset)
        items.append((tag, length))
    return items


def build_dol(dol: bytes, values: Mapping[str, bytes]) -> bytes:
    """Concatenate the terminal's values in the order and lengths the card asked for. A value
    the terminal does not have is zeros (EMV Book 3, 5.4); a longer value keeps its rightmost
    bytes (numeric) and a shorter one is left-padded with zeros."""
    out = bytearray()
    for tag, length in parse_dol(dol):
        value = values.get(tag, b"")
        out += value[-length:].rjust(length, b"\x00") if length else b""
    return bytes(out)
