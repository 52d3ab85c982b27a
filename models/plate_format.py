"""Plate-format knowledge: turn a raw recogniser string into a plate reading.

Pure code (no I/O, no models). A recogniser confuses letters and digits that look alike
(O/0, I/1, B/8, S/5, Z/2, G/6). Where a plate format says a digit must stand, a letter that
looks like a digit is read as that digit, and the other way round. Such a positional prior is
only applied for the format families the caller *expects* (the country the camera stands in):
applied blindly to mixed-country traffic it breaks as many plates as it fixes, because many
foreign formats are free alphanumerics. A string that already fits a family exactly is labelled
with that family even when not expected; anything else falls back to the cleaned raw text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

DIGIT = "D"
LETTER = "L"
REGION = "R"  # two digits that must form a valid Kazakh region code

KZ_REGION_CODES = frozenset(f"{code:02d}" for code in range(1, 21))

# Look-alike pairs, letter <-> digit.
LETTER_AS_DIGIT = {"O": "0", "Q": "0", "D": "0", "I": "1", "B": "8", "S": "5", "Z": "2", "G": "6"}
DIGIT_AS_LETTER = {"0": "O", "1": "I", "8": "B", "5": "S", "2": "Z", "6": "G"}

# Each substitution costs confidence: a corrected plate is less certain than a clean read.
SUBSTITUTION_PENALTY = 0.85

_NOT_PLATE_CHAR = re.compile(r"[^A-Z0-9]")


class FormatFamily(StrEnum):
    """Groups of plate formats a camera can be told to expect."""

    KZ = "kz"
    BR = "br"
    US = "us"  # no fixed layout: only the O/0 and length rules below


@dataclass(frozen=True)
class PlateFormat:
    """One plate layout: a name, its family and one class symbol per character."""

    name: str
    family: FormatFamily
    layout: str  # D digit, L letter, R region digit (pairs)


KZ_PERSON = PlateFormat("kz_person", FormatFamily.KZ, "DDDLLLRR")
KZ_ORGANISATION = PlateFormat("kz_organisation", FormatFamily.KZ, "DDDLLRR")
BR_MERCOSUR = PlateFormat("br_mercosur", FormatFamily.BR, "LLLDLDD")
BR_LEGACY = PlateFormat("br_legacy", FormatFamily.BR, "LLLDDDD")

FORMATS: tuple[PlateFormat, ...] = (KZ_PERSON, KZ_ORGANISATION, BR_LEGACY, BR_MERCOSUR)
GENERIC = "generic"
# American plates follow no one layout (each state has its own, vanity plates none), but in
# nearly every state the letter O and the digit zero share one glyph and the registry counts
# them as one character, written 0. Where American plates are expected, O is read as 0 in a
# string that holds digits (an all-letter string is a word or a vanity plate: left alone, so
# that STOP does not turn into the plate-like ST0P).
US_PLATE = "us"
# Serial plates have at most 7 characters in every state: in a string of letters and digits an
# eighth is a sticker, the frame or the state name read along, at one end, and the less certain
# end goes. Eight letters can be a vanity plate: kept.
MAX_US_LENGTH = 7
MIN_GENERIC_LENGTH = 4
MAX_GENERIC_LENGTH = 8


@dataclass(frozen=True)
class PlateText:
    """A decoded plate: normalised text, confidence in [0, 1] and the format it matched."""

    text: str
    confidence: float
    format: str  # a PlateFormat.name, "generic", or "" when nothing plate-like was read
    substitutions: int = 0


def normalise(raw: str) -> str:
    """Upper-case and keep only A-Z and 0-9 (the comparison rule of the evaluation too)."""
    return _NOT_PLATE_CHAR.sub("", raw.upper())


def _clean_with_confidences(
    raw: str, confidences: Sequence[float] | None
) -> tuple[str, list[float]]:
    if confidences is not None and len(confidences) != len(raw):
        raise ValueError(
            f"got {len(confidences)} character confidences for the {len(raw)} characters "
            f"of {raw!r}; they must correspond one to one"
        )
    text: list[str] = []
    scores: list[float] = []
    for index, char in enumerate(raw.upper()):
        if _NOT_PLATE_CHAR.match(char):
            continue
        text.append(char)
        scores.append(1.0 if confidences is None else float(confidences[index]))
    return "".join(text), scores


def _coerce(char: str, wanted: str, allow_substitution: bool) -> str | None:
    """The character read as class `wanted`, or None when it cannot stand there."""
    if wanted in (DIGIT, REGION):
        if char.isdigit():
            return char
        return LETTER_AS_DIGIT.get(char) if allow_substitution else None
    if char.isalpha():
        return char
    return DIGIT_AS_LETTER.get(char) if allow_substitution else None


def fit(text: str, plate_format: PlateFormat, allow_substitution: bool) -> tuple[str, int] | None:
    """Fit cleaned `text` to a format: the corrected text and the number of substitutions."""
    if len(text) != len(plate_format.layout):
        return None
    out: list[str] = []
    substitutions = 0
    for char, wanted in zip(text, plate_format.layout, strict=True):
        coerced = _coerce(char, wanted, allow_substitution)
        if coerced is None:
            return None
        substitutions += coerced != char
        out.append(coerced)
    fitted = "".join(out)
    if not _every_block_has_evidence(text, fitted, plate_format.layout):
        return None
    region = "".join(c for c, w in zip(fitted, plate_format.layout, strict=True) if w == REGION)
    if region and region not in KZ_REGION_CODES:
        return None
    return fitted, substitutions


def _every_block_has_evidence(read: str, fitted: str, layout: str) -> bool:
    """Each block of one class (digits, letters, region) keeps at least one character as read.

    A block made entirely of substitutions is no evidence for the format: an all-digit foreign
    plate 1268205 would otherwise become the Kazakh organisation plate 126BZ05.
    """
    start = 0
    for end in range(1, len(layout) + 1):
        if end == len(layout) or layout[end] != layout[start]:
            if all(r != f for r, f in zip(read[start:end], fitted[start:end], strict=True)):
                return False
            start = end
    return True


def _confidence(scores: Sequence[float], substitutions: int) -> float:
    base = min(scores) if scores else 0.0
    return base * SUBSTITUTION_PENALTY**substitutions


def decode(
    raw: str,
    confidences: Sequence[float] | None = None,
    expected: Iterable[FormatFamily] = (FormatFamily.KZ,),
    formats: Sequence[PlateFormat] = FORMATS,
) -> PlateText:
    """Decode a raw recogniser string against the known plate formats.

    `confidences` are per-character probabilities of `raw` (same length); without them every
    character counts as certain. `expected` names the families whose positional prior may
    correct characters; other families are only recognised when read exactly.
    """
    text, scores = _clean_with_confidences(raw, confidences)
    expected_families = frozenset(expected)
    best: PlateText | None = None
    for plate_format in formats:
        fitted = fit(text, plate_format, plate_format.family in expected_families)
        if fitted is None:
            continue
        corrected, substitutions = fitted
        candidate = PlateText(
            corrected, _confidence(scores, substitutions), plate_format.name, substitutions
        )
        if best is None or (candidate.substitutions, -candidate.confidence) < (
            best.substitutions,
            -best.confidence,
        ):
            best = candidate
    if best is not None:
        return best
    if (
        FormatFamily.US in expected_families
        and len(text) == MAX_US_LENGTH + 1
        and any(char.isdigit() for char in text)
    ):
        drop_first = scores[0] <= scores[-1]
        text, scores = (text[1:], scores[1:]) if drop_first else (text[:-1], scores[:-1])
    if (
        FormatFamily.US in expected_families
        and MIN_GENERIC_LENGTH <= len(text) <= MAX_GENERIC_LENGTH
        and any(char.isdigit() for char in text)
    ):
        substitutions = text.count("O")
        return PlateText(
            text.replace("O", "0"), _confidence(scores, substitutions), US_PLATE, substitutions
        )
    if MIN_GENERIC_LENGTH <= len(text) <= MAX_GENERIC_LENGTH:
        return PlateText(text, _confidence(scores, 0), GENERIC)
    return PlateText(text, _confidence(scores, 0) if text else 0.0, "")


def plate_likeness(text: str) -> float:
    """How much a cleaned string looks like a plate, in [0, 1], whatever its country.

    Plates are 4-8 characters and nearly always mix letters and digits; words on signs,
    shop fronts and stickers are mostly letters, and phone numbers or prices mostly digits.
    """
    if not MIN_GENERIC_LENGTH <= len(text) <= MAX_GENERIC_LENGTH:
        return 0.0
    digits = sum(c.isdigit() for c in text)
    letters = len(text) - digits
    if digits == 0 or letters == 0:
        return 0.35
    score = 1.0
    if len(text) < 6:
        score *= 0.8
    return score
