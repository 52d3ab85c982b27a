from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central_ingest.core.iin import check_digit, has_valid_check_digit, is_valid_bin, is_valid_iin

eleven_digits = st.text(alphabet="0123456789", min_size=11, max_size=11)


@pytest.mark.parametrize("iin", ["791028302728", "061211600012"])
def test_domain_examples_of_valid_iins(iin: str) -> None:
    assert is_valid_iin(iin)


def test_domain_example_of_an_invalid_iin() -> None:
    # Both weighting passes give 10: no check digit exists for these eleven digits.
    assert check_digit("82121424009") is None
    assert not is_valid_iin("821214240092")


def test_second_weighting_pass_is_used_when_the_first_gives_ten() -> None:
    # The domain example 061211600012 is one of these.
    first_pass = sum(int(d) * w for d, w in zip("06121160001", range(1, 12), strict=True)) % 11
    assert first_pass == 10
    assert check_digit("06121160001") == 2


@pytest.mark.parametrize(
    "number",
    [
        "79102830272",
        "7910283027288",
        "79102830272X",
        "",
        " 791028302728",
        "".join(chr(0xFF10 + int(d)) for d in "791028302728"),  # full-width digits
    ],
)
def test_anything_but_twelve_ascii_digits_is_refused(number: str) -> None:
    assert not is_valid_iin(number)
    assert not is_valid_bin(number)


def test_the_birth_date_is_not_checked() -> None:
    # Month 13, day 45: since 2013 the date part need not be a real date.
    first_eleven = "991345" + "3" + "0001"
    digit = check_digit(first_eleven)
    assert digit is not None
    assert is_valid_iin(first_eleven + str(digit))


@pytest.mark.parametrize("century_sex", ["0", "7", "8", "9"])
def test_iin_digit_seven_must_encode_century_and_sex(century_sex: str) -> None:
    for serial in range(20):
        first_eleven = "850607" + century_sex + f"{serial:04d}"
        digit = check_digit(first_eleven)
        if digit is not None:
            assert has_valid_check_digit(first_eleven + str(digit))
            assert not is_valid_iin(first_eleven + str(digit))
            return
    pytest.fail("no serial with a check digit found")


@pytest.mark.parametrize("bin_", ["940140000385", "990140004654"])
def test_published_bins_are_valid(bin_: str) -> None:
    assert is_valid_bin(bin_)


def test_a_persons_iin_is_not_a_bin() -> None:
    assert not is_valid_bin("791028302728")  # digit 5 is not a legal-entity kind


@given(eleven_digits)
def test_appending_the_check_digit_gives_a_valid_number_and_no_other_digit_does(
    first_eleven: str,
) -> None:
    digit = check_digit(first_eleven)
    for candidate in range(10):
        assert has_valid_check_digit(first_eleven + str(candidate)) == (candidate == digit)
