"""SMS segment counting (GSM 03.38 7-bit and UCS-2), at the boundaries where the bill changes."""

from __future__ import annotations

import pytest

from central_ingest.core.sms import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SmsSize,
    gsm7_septets,
    sms_segments,
)

KAZAKH_71 = "Әкімшілік құқық бұзушылық туралы іс бойынша қаулы шығарылды, төлеңіз!!!"
CAR = "\U0001f697"  # outside the Basic Multilingual Plane: a surrogate pair in UTF-16


def test_the_tables_hold_every_character_of_the_standard() -> None:
    # 128 code points of the default alphabet less the escape; 10 of the extension table.
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsSize("gsm7", 0, 1)),
        ("a" * 160, SmsSize("gsm7", 160, 1)),
        ("a" * 161, SmsSize("gsm7", 161, 2)),
        ("a" * 306, SmsSize("gsm7", 306, 2)),
        ("a" * 307, SmsSize("gsm7", 307, 3)),
        # An extension character costs two septets: it tips 159 + 1 characters over one SMS.
        ("a" * 158 + "€", SmsSize("gsm7", 160, 1)),
        ("a" * 159 + "€", SmsSize("gsm7", 161, 2)),
        ("a" * 159 + "[", SmsSize("gsm7", 161, 2)),
        # 306 septets, but the escape sequence would straddle the first part's end: it moves
        # whole to the second part, and the last character needs a third.
        ("a" * 152 + "€" + "a" * 152, SmsSize("gsm7", 306, 3)),
        ("a" * 151 + "€" + "a" * 153, SmsSize("gsm7", 306, 2)),
        ("line\r\nÄÖÑÜ§¿£¥@_", SmsSize("gsm7", 16, 1)),
    ],
)
def test_gsm_7bit(text: str, expected: SmsSize) -> None:
    assert sms_segments(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ж" * 70, SmsSize("ucs2", 70, 1)),
        ("ж" * 71, SmsSize("ucs2", 71, 2)),
        ("ж" * 134, SmsSize("ucs2", 134, 2)),
        ("ж" * 135, SmsSize("ucs2", 135, 3)),
        ("ж" * 201, SmsSize("ucs2", 201, 3)),
        ("ж" * 202, SmsSize("ucs2", 202, 4)),
        # One Cyrillic letter sends the whole text as UCS-2: 101 characters are two SMS.
        ("a" * 100 + "Ә", SmsSize("ucs2", 101, 2)),
        # The tenge sign and CLDR's no-break spaces are not in the GSM alphabet.
        ("21\u00a0625,00\u00a0₸", SmsSize("ucs2", 11, 1)),
        # A character outside the BMP is two UTF-16 units.
        ("ж" * 68 + CAR, SmsSize("ucs2", 70, 1)),
        ("ж" * 69 + CAR, SmsSize("ucs2", 71, 2)),
        # ... and a surrogate pair is never split between two parts.
        ("ж" * 66 + CAR + "ж" * 66, SmsSize("ucs2", 134, 3)),
        ("ж" * 65 + CAR + "ж" * 67, SmsSize("ucs2", 134, 2)),
    ],
)
def test_ucs2(text: str, expected: SmsSize) -> None:
    assert sms_segments(text) == expected


def test_a_kazakh_text_of_71_characters_is_two_sms() -> None:
    assert len(KAZAKH_71) == 71
    encoding, units, segments = sms_segments(KAZAKH_71)
    assert (encoding, units, segments) == ("ucs2", 71, 2)
    assert sms_segments(KAZAKH_71[:70]) == ("ucs2", 70, 1)


def test_gsm7_septets_is_none_for_text_that_needs_ucs2() -> None:
    assert gsm7_septets("Pay {now}") == 11
    assert gsm7_septets("Төлеңіз") is None
    # The small c cedilla is not in the default alphabet (0x09 is the capital).
    assert gsm7_septets("ç") is None and gsm7_septets("Ç") == 1
