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
