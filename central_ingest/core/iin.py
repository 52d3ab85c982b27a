"""Kazakhstan's 12-digit identification numbers: IIN (persons) and BIN (organisations).

Both end in a check digit computed the same way: weights 1..11 on the first eleven digits, sum
mod 11; if that gives 10, a second pass with weights 3..11, 1, 2; if 10 again, no valid number
carries those eleven digits. The date part of an IIN is deliberately not checked: since 2013 it
need not match the real birth date.
"""

from __future__ import annotations

_FIRST_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_IIN_CENTURY_SEX_DIGITS = frozenset("123456")
# BIN digit 5: resident legal entity, non-resident legal entity, individual entrepreneur (joint);
# digit 6: head office, branch, representation, peasant farm.
_BIN_ENTITY_KINDS = frozenset("456")
_BIN_UNIT_KINDS = frozenset("0123")


def check_digit(first_eleven: str) -> int | None:
    """The check digit for eleven leading digits, or None when no check digit exists."""
    if len(first_eleven) != 11 or not first_eleven.isascii() or not first_eleven.isdigit():
        raise ValueError("a check digit is computed over exactly eleven ASCII digits")
    digits = [int(char) for char in first_eleven]
    for weights in (_FIRST_WEIGHTS, _SECOND_WEIGHTS):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return None


def has_valid_check_digit(number: str) -> bool:
    """True for twelve ASCII digits whose last digit is the check digit of the first eleven."""
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        return False
    return check_digit(number[:11]) == int(number[11])


def is_valid_iin(number: str) -> bool:
    """A person's IIN: the check digit holds and digit 7 encodes a century and sex (1-6)."""
    return has_valid_check_digit(number) and number[6] in _IIN_CENTURY_SEX_DIGITS


def is_valid_bin(number: str) -> bool:
    """An organisation's BIN: the check digit holds and digits 5-6 name a kind of entity."""
    return (
        has_valid_check_digit(number)
        and number[4] in _BIN_ENTITY_KINDS
        and number[5] in _BIN_UNIT_KINDS
    )
