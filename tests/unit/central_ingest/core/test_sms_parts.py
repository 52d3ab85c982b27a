"""The SMS parts as SMPP carries them: cut where ``sms_segments`` counts, encoded GSM 7-bit
(one septet an octet, an escape beside its character) or UTF-16BE (a surrogate pair whole)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from central_ingest.core.sms import (
    DATA_CODING,
    GSM7_BASIC,
    GSM7_EXTENSION,
    decode_sms,
    sms_parts,
    sms_segments,
)

RUSSIAN_134 = "Штраф по ч. 1 ст. 599 КоАП РК, 123ABC01: 21 625,00 ₸ до 12.03.2026 15:00. " * 2


def _joined(text: str) -> str:
    parts = sms_parts(text)
    return "".join(decode_sms(part, DATA_CODING[parts.encoding]) for part in parts.parts)


def test_the_gsm_table_matches_the_alphabet_the_counter_uses() -> None:
    text = "".join(sorted(GSM7_BASIC | GSM7_EXTENSION))
    parts = sms_parts(text)
    assert parts.encoding == "gsm7"
    assert _joined(text) == text
    # The escape takes a septet of its own for each extension character.
    assert sum(map(len, parts.parts)) == len(GSM7_BASIC) + 2 * len(GSM7_EXTENSION)
    assert sms_parts("@")[1] == [b"\x00"] and sms_parts("€")[1] == [b"\x1b\x65"]


def test_cyrillic_goes_in_parts_of_67_characters() -> None:
    text = RUSSIAN_134[:140]
    parts = sms_parts(text)
    assert parts.encoding == "ucs2" and sms_segments(text).segments == 3
    assert [len(part) // 2 for part in parts.parts] == [67, 67, 6]
    assert _joined(text) == text


def test_seventy_cyrillic_characters_are_one_sms_unsplit() -> None:
    assert [len(part) for part in sms_parts("ж" * 70).parts] == [140]


def test_an_escape_or_a_surrogate_pair_is_never_split() -> None:
    gsm = "a" * 152 + "€" + "b" * 10
    assert [len(part) for part in sms_parts(gsm).parts] == [152, 12]
    ucs2 = "ж" * 66 + "\U0001f697" + "ж" * 5
    assert [len(part) for part in sms_parts(ucs2).parts] == [132, 14]
    assert _joined(gsm) == gsm and _joined(ucs2) == ucs2


@given(
    st.text(
        alphabet=st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION) + list("жӘ\U0001f697")),
        max_size=500,
    )
)
def test_parts_are_what_the_counter_counts_and_join_back(text: str) -> None:
    parts = sms_parts(text)
    size = sms_segments(text)
    assert (parts.encoding, len(parts.parts)) == (size.encoding, size.segments)
    assert _joined(text) == text
    limit = {"gsm7": 160, "ucs2": 140} if size.segments == 1 else {"gsm7": 153, "ucs2": 134}
    assert all(len(part) <= limit[parts.encoding] for part in parts.parts)
