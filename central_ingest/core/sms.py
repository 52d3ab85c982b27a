"""How many SMS a text costs: GSM 03.38 7-bit or UCS-2, single or concatenated (3GPP TS 23.038,
TS 23.040). Pure: no I/O.

A text made only of the GSM 7-bit default alphabet goes out 7-bit: 160 septets in a single SMS,
153 per part once concatenated (the user data header takes the other 7); a character of the
extension table (``€``, ``[``, ``|`` ...) costs two septets, the escape and itself. Any other
character, every Cyrillic letter among them, sends the whole text as UCS-2: 70 UTF-16 code units
single, 67 per part; a character outside the Basic Multilingual Plane is a surrogate pair and
costs two units.

Parts are counted by packing characters in order, not by dividing the total: a gateway never
splits an escape sequence or a surrogate pair between two parts, so one that would straddle a
part's end moves whole to the next part, and a text of exactly 2 x 153 septets may need three.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Encoding = Literal["gsm7", "ucs2"]

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67

# GSM 03.38 default alphabet (0x1B, the escape, is not a character of its own). 0x09 is the
# capital Ç in the standard; handsets show it for both cases, so the small ç is sent as UCS-2.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each is sent as ESC + one septet.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


class SmsSize(NamedTuple):
    encoding: Encoding
    units: int
    """Septets for ``gsm7``, UTF-16 code units for ``ucs2``."""
    segments: int
    """SMS the operator bills: 1 for an empty text."""


def gsm7_septets(text: str) -> int | None:
    """Septets the text takes in the GSM 7-bit alphabet, or None if it needs UCS-2."""
    costs = _gsm7_costs(text)
    return None if costs is None else sum(costs)


def sms_segments(text: str) -> SmsSize:
    """``(encoding, units, segments)`` of ``text`` sent as one (possibly concatenated) SMS."""
    costs = _gsm7_costs(text)
    if costs is not None:
        return SmsSize("gsm7", sum(costs), _parts(costs, GSM7_SINGLE, GSM7_PART))
    costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SmsSize("ucs2", sum(costs), _parts(costs, UCS2_SINGLE, UCS2_PART))


def _gsm7_costs(text: str) -> list[int] | None:
    costs: list[int] = []
    for char in text:
        if char in GSM7_BASIC:
            costs.append(1)
        elif char in GSM7_EXTENSION:
            costs.append(2)
        else:
            return None
    return costs


def _parts(costs: list[int], single: int, part: int) -> int:
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts


# The default alphabet by septet value (0x1B, the escape, stands in as itself: never sent
# alone), and the extension table's septets after the escape.
_GSM7_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_CODES = {char: bytes([code]) for code, char in enumerate(_GSM7_TABLE) if code != 0x1B}
_GSM7_CODES.update(
    (char, bytes([0x1B, code]))
    for char, code in {
        "\f": 0x0A,
        "^": 0x14,
        "{": 0x28,
        "}": 0x29,
        "\\": 0x2F,
        "[": 0x3C,
        "~": 0x3D,
        "]": 0x3E,
        "|": 0x40,
        "€": 0x65,
    }.items()
)
_GSM7_DECODE = {code: char for char, code in _GSM7_CODES.items()}

DATA_CODING = {"gsm7": 0x00, "ucs2": 0x08}
"""SMPP ``data_coding``: 0x00 the SMSC's default alphabet (GSM 03.38, one septet an octet),
0x08 UCS-2 (ISO/IEC 10646, UTF-16BE on the wire)."""


class SmsParts(NamedTuple):
    encoding: Encoding
    parts: list[bytes]
    """Each part's user data, without the concatenation header."""


def sms_parts(text: str) -> SmsParts:
    """The text cut into the parts ``sms_segments`` counts, each encoded as SMPP carries it:
    unpacked GSM septets (an escape and its character in the same part) or UTF-16BE (a
    surrogate pair in the same part)."""
    size = sms_segments(text)
    if size.encoding == "gsm7":
        units, part, octets_per_unit = [_GSM7_CODES[char] for char in text], GSM7_PART, 1
    else:
        units, part, octets_per_unit = [c.encode("utf-16-be") for c in text], UCS2_PART, 2
    if size.segments == 1:
        return SmsParts(size.encoding, [b"".join(units)])
    parts: list[bytes] = []
    current: list[bytes] = []
    used = 0
    for unit in units:
        cost = len(unit) // octets_per_unit
        if used + cost > part:
            parts.append(b"".join(current))
            current, used = [], 0
        current.append(unit)
        used += cost
    parts.append(b"".join(current))
    return SmsParts(size.encoding, parts)


def decode_sms(data: bytes, data_coding: int) -> str:
    """The text of one part's user data (no header), as a handset shows it."""
    if data_coding == DATA_CODING["ucs2"]:
        return data.decode("utf-16-be")
    if data_coding != DATA_CODING["gsm7"]:
        raise ValueError(f"data_coding {data_coding:#04x} is neither GSM 7-bit nor UCS-2")
    chars: list[str] = []
    escaped = False
    for octet in data:
        if escaped:
            chars.append(_GSM7_DECODE[bytes([0x1B, octet])])
            escaped = False
        elif octet == 0x1B:
            escaped = True
        else:
            chars.append(_GSM7_DECODE[bytes([octet])])
    return "".join(chars)
