"""Plate-format decoder: positional prior for expected families, exact-only elsewhere."""

from __future__ import annotations

import pytest

from models.plate_format import (
    GENERIC,
    KZ_PERSON,
    FormatFamily,
    decode,
    fit,
    normalise,
    plate_likeness,
)

KZ = (FormatFamily.KZ,)
BR = (FormatFamily.BR,)


def test_normalise_keeps_only_upper_case_letters_and_digits() -> None:
    assert normalise(" 123 abc-01 ") == "123ABC01"
    assert normalise("ab·c 1d23") == "ABC1D23"


def test_clean_kazakh_person_plate_is_recognised_with_full_confidence() -> None:
    reading = decode("123 ABC 01", expected=KZ)
    assert (reading.text, reading.format, reading.substitutions) == ("123ABC01", "kz_person", 0)
    assert reading.confidence == 1.0


def test_kazakh_organisation_plate() -> None:
    reading = decode("777AB02", expected=KZ)
    assert (reading.text, reading.format) == ("777AB02", "kz_organisation")


@pytest.mark.parametrize(
    ("raw", "expected_text"),
    [
        ("I23ABC0I", "123ABC01"),  # I -> 1 where digits stand (number and region)
        ("1Z3A8C17", "123ABC17"),  # Z -> 2, 8 -> B by position
        ("5O5 S0S 05", "505SOS05"),  # the same glyphs read both ways by position
        ("G66 G6G 16", "666GGG16"),
    ],
)
def test_look_alikes_resolved_by_position_for_expected_family(raw: str, expected_text: str) -> None:
    reading = decode(raw, expected=KZ)
    assert reading.text == expected_text
    assert reading.format == "kz_person"


def test_a_block_made_only_of_substitutions_is_not_evidence_for_the_format() -> None:
    # All digits: the letter block "82" would have to be invented entirely.
    assert decode("1268205", expected=KZ) == decode("1268205", expected=())
    assert decode("1268205", expected=KZ).format == GENERIC
    # Region "0I" keeps its 0, letter block "A8C" keeps A and C: corrected.
    assert decode("123A8C0I", expected=KZ).text == "123ABC01"
    # Region entirely letters ("OI") is no region.
    assert decode("123ABCOI", expected=KZ).format == GENERIC


def test_each_substitution_lowers_confidence() -> None:
    clean = decode("123ABC01", expected=KZ)
    one = decode("I23ABC01", expected=KZ)
    two = decode("I23A8C01", expected=KZ)
    assert clean.confidence > one.confidence > two.confidence > 0
    assert (one.substitutions, two.substitutions) == (1, 2)


def test_invalid_region_code_is_not_a_kazakh_plate() -> None:
    assert fit("123ABC21", KZ_PERSON, allow_substitution=True) is None
    assert fit("123ABC00", KZ_PERSON, allow_substitution=True) is None
    reading = decode("123ABC99", expected=KZ)
    assert reading.format == GENERIC
    assert reading.text == "123ABC99"


def test_all_twenty_region_codes_are_valid() -> None:
    for region in range(1, 21):
        assert decode(f"123ABC{region:02d}", expected=KZ).format == "kz_person"


def test_letter_that_cannot_be_a_digit_breaks_the_format() -> None:
    reading = decode("12XABC01", expected=KZ)
    assert reading.format == GENERIC
    assert reading.text == "12XABC01"


def test_brazilian_formats_corrected_only_when_brazil_is_expected() -> None:
    # Legacy ABC1234 read with O for 0, Mercosur ABC1D23 read with 8 for B.
    legacy = decode("NT01053", expected=BR)
    assert (legacy.text, legacy.format, legacy.substitutions) == ("NTO1053", "br_legacy", 1)
    mercosur = decode("ABC1D2S", expected=BR)
    assert (mercosur.text, mercosur.format) == ("ABC1D25", "br_mercosur")


def test_prior_not_applied_for_unexpected_family() -> None:
    # A Kazakh camera sees a foreign 7-character plate: no Brazilian correction forced on it.
    reading = decode("NT01053", expected=KZ)
    assert (reading.text, reading.format) == ("NT01053", GENERIC)


def test_unexpected_family_still_labelled_when_read_exactly() -> None:
    reading = decode("ABC1D23", expected=KZ)
    assert (reading.text, reading.format, reading.substitutions) == ("ABC1D23", "br_mercosur", 0)


def test_no_expected_family_never_changes_a_character() -> None:
    for raw in ("I23ABC0I", "0SG719", "8ABC123", "NTO1O53"):
        assert decode(raw, expected=()).text == normalise(raw)


def test_us_style_alphanumerics_fall_back_to_generic_unchanged() -> None:
    for raw in ("YG9X2G", "0SG719", "K179658", "627WWI"):
        reading = decode(raw, expected=KZ)
        assert reading.text == raw
        assert reading.format == GENERIC


def test_per_character_confidences_drive_the_confidence() -> None:
    reading = decode("123 ABC 01", [0.9, 0.99, 0.98, 0.5, 0.9, 0.8, 0.95, 0.97, 0.99, 0.9])
    # The space is dropped with its confidence; the weakest kept character decides.
    assert reading.confidence == pytest.approx(0.8)


def test_confidences_must_match_the_characters() -> None:
    with pytest.raises(ValueError, match="one to one"):
        decode("123ABC01", [0.9, 0.9])


def test_too_short_or_too_long_is_not_plate_like() -> None:
    assert decode("AB1", expected=KZ).format == ""
    assert decode("AB12CD34EF", expected=KZ).format == ""
    assert decode("", expected=KZ).confidence == 0.0


def test_ambiguous_read_prefers_the_format_needing_fewest_corrections() -> None:
    # Mercosur ABC1D23 fits as read; legacy ABC1234 would need O -> 0.
    reading = decode("NTO1O53", expected=BR)
    assert (reading.text, reading.format) == ("NTO1O53", "br_mercosur")


def test_fewest_substitutions_wins_between_families() -> None:
    # Fits Brazilian legacy with no change and Kazakh organisation with none possible.
    reading = decode("ABC1234", expected=(FormatFamily.KZ, FormatFamily.BR))
    assert (reading.format, reading.substitutions) == ("br_legacy", 0)


def test_plate_likeness_prefers_mixed_letters_and_digits() -> None:
    assert plate_likeness("ABC1234") > plate_likeness("STOP")
    assert plate_likeness("ABC1234") > plate_likeness("2024")
    assert plate_likeness("ABC1234") > plate_likeness("A12B")
    assert plate_likeness("ABC") == 0.0
    assert plate_likeness("ABCDEFGH1") == 0.0


def test_american_plates_read_the_letter_o_as_zero_when_expected() -> None:
    us = (FormatFamily.US,)
    reading = decode("AC0M7V".replace("0", "O"), [0.9] * 6, expected=us)
    assert (reading.text, reading.format, reading.substitutions) == ("AC0M7V", "us", 1)
    assert reading.confidence < 0.9
    assert decode("ACOM7V").text == "ACOM7V"  # not expected: left as read
    assert decode("STOP", expected=us).text == "STOP"  # a word, no digit: left alone
    # A string fitting a known format keeps that format's reading.
    assert decode("ABC1234", expected=(FormatFamily.US, FormatFamily.BR)).format == "br_legacy"


def test_an_eighth_character_on_an_american_plate_is_the_less_certain_edge_dropped() -> None:
    us = (FormatFamily.US,)
    # A state sticker or the frame read before the plate: the first character is the doubtful one.
    before = decode("4ASC7399", [0.41, *[0.95] * 7], expected=us)
    assert (before.text, before.format) == ("ASC7399", "us")
    after = decode("5VCF2031", [*[0.95] * 7, 0.52], expected=us)
    assert after.text == "5VCF203"
    assert decode("4ASC7399", [0.41, *[0.95] * 7]).text == "4ASC7399"  # not expected: as read
    assert decode("ASC7399", [0.41, *[0.95] * 6], expected=us).text == "ASC7399"  # 7: kept
    assert decode("NEILDMND", [0.41, *[0.95] * 7], expected=us).text == "NEILDMND"  # vanity
