"""The plate families of a Kazakh road (kz, ru, kg, uz) and the canonical form (pure)."""

from __future__ import annotations

import pytest

from models.plate_format import (
    FORMATS,
    GENERIC,
    KAZAKH_ROADS,
    RU_LETTERS,
    FormatFamily,
    awaits_region,
    decode,
    may_be_cut_short,
    normalise,
    plate_likeness,
)

ROADS = KAZAKH_ROADS


@pytest.mark.parametrize(
    ("raw", "text", "name"),
    [
        ("123 ABC 01", "123ABC01", "kz_person"),
        ("777 AB 20", "777AB20", "kz_organisation"),
        ("A 123 BC 77", "A123BC77", "ru_car"),
        ("A 123 BC 777", "A123BC777", "ru_car"),
        ("1234 AB 77", "1234AB77", "ru_motorcycle"),
        ("AB 1234 50", "AB123450", "ru_trailer"),
        ("01 123 ABC", "01123ABC", "kg_person"),
        ("08 123 AB", "08123AB", "kg_organisation"),
        ("01 A 123 BC", "01A123BC", "uz_person"),
    ],
)
def test_each_family_reads_its_layout_as_printed(raw: str, text: str, name: str) -> None:
    reading = decode(raw, expected=ROADS)
    assert (reading.text, reading.format, reading.substitutions) == (text, name, 0)


def test_uzbek_organisations_and_kyrgyz_persons_share_a_layout_and_a_reading() -> None:
    # 10 is an Uzbek region only; 01 is both countries': the text is the same either way.
    assert decode("10 123 ABC", expected=ROADS).format == "uz_organisation"
    assert decode("01 123 ABC", expected=ROADS).text == "01123ABC"


def test_cyrillic_letters_are_stored_as_their_latin_look_alikes() -> None:
    assert normalise("А123ВС 77") == "A123BC77"
    assert normalise("а123вс77") == "A123BC77"
    assert normalise("АВЕКМНОРСТУХ") == RU_LETTERS
    reading = decode("Х777УМ 199", [0.9] * 10, ROADS)
    assert (reading.text, reading.format) == ("X777YM199", "ru_car")
    assert reading.confidence == pytest.approx(0.9)


def test_a_cyrillic_and_a_latin_read_of_one_plate_decode_alike() -> None:
    assert decode("Е001КХ 26", expected=ROADS) == decode("E001KX 26", expected=ROADS)


def test_russian_series_issue_only_the_twelve_look_alike_letters() -> None:
    # F is no Russian series letter (and looks like no digit): no Russian plate.
    assert decode("F123BC77", expected=ROADS).format == GENERIC
    assert decode("A123BC77", expected=ROADS).format == "ru_car"


def test_russian_region_codes() -> None:
    assert decode("A123BC00", expected=ROADS).format == GENERIC
    assert decode("A123BC550", expected=ROADS).format != "ru_car"
    assert decode("A123BC750", expected=ROADS).format == "ru_car"


def test_kyrgyz_and_uzbek_region_codes() -> None:
    assert decode("12123ABC", expected=(FormatFamily.KG,)).format == GENERIC
    assert decode("15A123BC", expected=(FormatFamily.UZ,)).format == GENERIC
    assert decode("95A123BC", expected=(FormatFamily.UZ,)).format == "uz_person"


@pytest.mark.parametrize(
    ("raw", "family", "text"),
    [
        ("AI23BC77", FormatFamily.RU, "A123BC77"),  # I -> 1 among the digits
        ("A1238C77", FormatFamily.RU, "A123BC77"),  # 8 -> B among the letters
        ("O1123ABC", FormatFamily.KG, "01123ABC"),  # O -> 0 in the region
        ("01A12SBC", FormatFamily.UZ, "01A125BC"),  # S -> 5 among the digits
    ],
)
def test_the_prior_corrects_look_alikes_once_the_family_is_expected(
    raw: str, family: FormatFamily, text: str
) -> None:
    assert decode(raw, expected=(family,)).text == text
    assert decode(raw, expected=()).text == raw


def test_families_that_would_correct_a_read_differently_leave_it_as_read() -> None:
    # B08GAB05: a Kazakh person plate with B read for 8 (808GAB05), or a Russian one with G
    # read for 6 (B086AB05); one correction each: nothing tells them apart, so no correction.
    reading = decode("B08GAB05", expected=ROADS)
    assert (reading.text, reading.format) == ("B08GAB05", GENERIC)
    # With one family expected the same read is corrected to that family's plate.
    assert decode("B08GAB05", expected=(FormatFamily.KZ,)).text == "808GAB05"
    assert decode("B08GAB05", expected=(FormatFamily.RU,)).text == "B086AB05"


def test_a_read_that_fits_one_family_as_read_is_not_corrected_to_another() -> None:
    # Fits Russia as read; no Kazakh layout fits it (3 cannot stand for a letter).
    assert decode("B123BC77", expected=ROADS).format == "ru_car"
    assert decode("B123BC77", expected=ROADS).text == "B123BC77"


def test_the_country_mark_read_along_is_dropped() -> None:
    assert decode("KZ123ABC01", expected=ROADS).text == "123ABC01"
    assert decode("01KG123ABC", expected=ROADS).text == "01123ABC"


def test_a_layout_every_character_fits_outranks_one_that_takes_a_letter_for_the_mark() -> None:
    # K333OC10 fits the Russian car layout as read, and the Kazakh organisation layout once its
    # K is taken for the K of "KZ": it is the Russian plate, on one line or two.
    for two_line in (False, True):
        reading = decode("K333OC10", expected=ROADS, two_line=two_line)
        assert (reading.text, reading.format) == ("K333OC10", "ru_car")
    # With no layout fitting the whole read, the mark's letter is still dropped.
    assert decode("K123ABC01", expected=ROADS).text == "123ABC01"


def test_a_nine_character_plate_is_plate_like_only_as_a_known_layout() -> None:
    assert plate_likeness("A123BC777") == 1.0
    assert plate_likeness("AB12CD345") == 0.0


def test_every_layout_is_letters_digits_and_regions_with_valid_codes() -> None:
    for plate_format in FORMATS:
        assert set(plate_format.layout) <= {"D", "L", "R"}
        regions = plate_format.layout.count("R")
        assert all(len(code) == regions for code in plate_format.regions)
        assert 0 <= plate_format.top_line < len(plate_format.layout)


def test_a_letter_of_the_country_mark_read_along_is_dropped_on_its_side() -> None:
    # The K of KZ at the left of a Kazakh plate; the S of RUS after a Russian region.
    assert decode("K122XWR06", expected=ROADS).text == "122XWR06"
    assert decode("A123BC77S", expected=ROADS).text == "A123BC77"


def test_layouts_made_only_on_two_lines_are_not_read_from_one_line() -> None:
    # 3100TT03 fits the Russian motorcycle plate as read, which is never one line; read from
    # one line it is a Kazakh plate with O read as 0.
    assert decode("3100TT03", expected=ROADS, two_line=False).text == "310OTT03"
    assert decode("3100TT03", expected=ROADS, two_line=True).format == "ru_motorcycle"
    # Read from two lines only the layouts that come on two lines fit: no Kyrgyz plate.
    assert decode("01123ABC", expected=ROADS, two_line=True).format == GENERIC


def test_a_russian_plates_leading_letter_read_as_zero_is_corrected() -> None:
    # The series letter O that opens a Russian plate is read as 0 like any other O; the
    # number's digits and letters and the region still have to read as the layout says.
    reading = decode("0033EB50", expected=ROADS, two_line=False)
    assert (reading.text, reading.format, reading.substitutions) == ("O033EB50", "ru_car", 1)
    three_digit_region = decode("0362BM799", expected=ROADS, two_line=False)
    assert (three_digit_region.text, three_digit_region.format) == ("O362BM799", "ru_car")


def test_blocks_longer_than_one_character_still_need_a_character_as_read() -> None:
    # All-digit foreign plates are not turned into Kazakh organisation plates (126BZ05).
    assert decode("1268205", expected=ROADS, two_line=False).format == GENERIC


@pytest.mark.parametrize(
    ("raw", "two_line", "text", "name"),
    [
        ("T3320040", True, "T332OO40", "ru_car"),  # series OO read 00, on two lines
        ("98760088", True, "9876OO88", "ru_motorcycle"),
        ("7550003", False, "755OO03", "kz_organisation"),
        ("80W24800", False, "80W248OO", "uz_person"),
        ("600106AL", False, "60O106AL", "uz_person"),  # the lone series letter inside
    ],
)
def test_a_letter_block_of_os_read_as_zeros_is_corrected(
    raw: str, two_line: bool, text: str, name: str
) -> None:
    reading = decode(raw, expected=ROADS, two_line=two_line)
    assert (reading.text, reading.format) == (text, name)
    assert reading.substitutions == text.count("O")  # each still costs its confidence


def test_zeros_read_where_a_letter_other_than_o_stands_are_no_evidence() -> None:
    # 0 is O's look-alike only: a block of letters read as other digits needs a letter as read.
    assert decode("1268205", expected=ROADS, two_line=False).format == GENERIC
    assert decode("7558203", expected=ROADS, two_line=False).format == GENERIC


def test_a_two_digit_russian_region_may_be_a_three_digit_one_read_short() -> None:
    assert may_be_cut_short("E541BH17", "ru_car")
    assert not may_be_cut_short("E541BH179", "ru_car")
    assert not may_be_cut_short("123ABC01", "kz_person")
    assert not may_be_cut_short("123ABC01", "generic")


def test_a_number_of_a_layout_with_a_region_field_awaits_its_region() -> None:
    assert awaits_region("E414EX", ROADS)  # Russian car
    assert awaits_region("0033EB", ROADS)  # its series letter O read as 0
    assert awaits_region("CX3647", ROADS)  # Russian trailer
    assert awaits_region("123ABC", ROADS)  # Kazakh person
    # Only the layouts of the expected families: an American or a Brazilian site reads on.
    assert not awaits_region("E414EX", (FormatFamily.US,))
    assert not awaits_region("ABC1234", ROADS)
