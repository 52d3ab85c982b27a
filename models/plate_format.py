"""Plate-format knowledge: turn a raw recogniser string into a plate reading.

Pure code (no I/O, no models). A recogniser confuses letters and digits that look alike
(O/0, I/1, B/8, S/5, Z/2, G/6). Where a plate format says a digit must stand, a letter that
looks like a digit is read as that digit, and the other way round. Such a positional prior is
only applied for the format families the caller *expects* (the site's `[video] formats`):
applied blindly to mixed-country traffic it breaks as many plates as it fixes, because many
foreign formats are free alphanumerics. A string that already fits a family exactly is labelled
with that family even when not expected; anything else falls back to the cleaned raw text.

The layouts are one table, `FORMATS`: each names its family, its characters' classes, the
letters its series issue and its region codes. Candidates are scored per family (fewest
corrections first); a correction is only made when the families that fit agree on the text,
so a read two families would correct differently stays as read (generic).

Canonical form: plates are stored in Latin capitals and digits. The twelve Cyrillic letters of
Russian plates (А В Е К М Н О Р С Т У Х) are written as their Latin look-alikes
(A B E K M H O P C T Y X), as the registry's `normalise_plate` does, so that a Cyrillic read, a
Latin read and a registry record of one plate compare equal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

DIGIT = "D"
LETTER = "L"
REGION = "R"  # a digit of the region code, checked against the format's region codes

KZ_REGION_CODES = frozenset(f"{code:02d}" for code in range(1, 21))
# Russia: 01-99, and three-digit codes (102, 116, 750, 777, 977 ...) whose first digit is 1, 2,
# 7 or 9. Kyrgyzstan (2016 series): 01 Bishkek .. 09 Issyk-Kul. Uzbekistan: 01 Tashkent city,
# 10 Tashkent region, 20 Syrdarya, 25 Jizzakh, 30 Samarkand, 40 Fergana, 50 Namangan,
# 60 Andijan, 70 Kashkadarya, 75 Surkhandarya, 80 Bukhara, 85 Navoi, 90 Khorezm,
# 95 Karakalpakstan.
RU_REGION_CODES = frozenset(f"{code:02d}" for code in range(1, 100))
RU_REGION_CODES_3 = frozenset(f"{lead}{code:02d}" for lead in "1279" for code in range(1, 100))
KG_REGION_CODES = frozenset(f"{code:02d}" for code in range(1, 10))
UZ_REGION_CODES = frozenset(
    ("01", "10", "20", "25", "30", "40", "50", "60", "70", "75", "80", "85", "90", "95")
)

LATIN_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Russian series use only the Cyrillic letters that have Latin look-alikes (canonical: Latin).
RU_LETTERS = "ABEKMHOPCTYX"
CYRILLIC_TO_LATIN = str.maketrans("АВЕКМНОРСТУХ", RU_LETTERS)

# Look-alike pairs, letter <-> digit.
LETTER_AS_DIGIT = {"O": "0", "Q": "0", "D": "0", "I": "1", "B": "8", "S": "5", "Z": "2", "G": "6"}
DIGIT_AS_LETTER = {"0": "O", "1": "I", "8": "B", "5": "S", "2": "Z", "6": "G"}
ZERO_AS_LETTER_O = ("0", "O")  # read, corrected: no loss of evidence (_every_block_has_evidence)

# Each substitution costs confidence: a corrected plate is less certain than a clean read.
SUBSTITUTION_PENALTY = 0.85

_NOT_PLATE_CHAR = re.compile(r"[^A-Z0-9]")


class FormatFamily(StrEnum):
    """Groups of plate formats a camera can be told to expect (a country's current series)."""

    KZ = "kz"
    RU = "ru"
    KG = "kg"
    UZ = "uz"
    BR = "br"
    US = "us"  # no fixed layout: only the O/0 and length rules below


# The mark printed beside the national flag: at times read along with the number.
COUNTRY_MARKS = {
    FormatFamily.KZ: "KZ",
    FormatFamily.RU: "RUS",
    FormatFamily.KG: "KG",
    FormatFamily.UZ: "UZ",
}
# Where the mark stands beside the number: read along, its letters lead or trail the text.
MARK_SIDES = {FormatFamily.KZ: "start", FormatFamily.RU: "end", FormatFamily.UZ: "end"}


@dataclass(frozen=True)
class PlateFormat:
    """One plate layout: a name, its family and one class symbol per character.

    `letters` are the letters its series issue (canonical Latin), `regions` the valid codes of
    its region digits (empty: the layout has none). `top_line`: when the layout also comes as
    a two-line plate (motorcycles, trailers, square rear plates), how many characters the top
    line holds, read first; `one_line`: whether it also comes on one line.
    """

    name: str
    family: FormatFamily
    layout: str  # D digit, L letter, R region digit
    letters: str = LATIN_LETTERS
    regions: frozenset[str] = frozenset()
    top_line: int = 0
    one_line: bool = True


KZ_PERSON = PlateFormat(
    "kz_person", FormatFamily.KZ, "DDDLLLRR", regions=KZ_REGION_CODES, top_line=3
)
KZ_ORGANISATION = PlateFormat(
    "kz_organisation", FormatFamily.KZ, "DDDLLRR", regions=KZ_REGION_CODES, top_line=3
)
RU_CAR = PlateFormat("ru_car", FormatFamily.RU, "LDDDLLRR", RU_LETTERS, RU_REGION_CODES, top_line=4)
RU_CAR_3 = PlateFormat(
    "ru_car", FormatFamily.RU, "LDDDLLRRR", RU_LETTERS, RU_REGION_CODES_3, top_line=4
)
RU_MOTORCYCLE = PlateFormat(
    "ru_motorcycle", FormatFamily.RU, "DDDDLLRR", RU_LETTERS, RU_REGION_CODES, 4, one_line=False
)
RU_TRAILER = PlateFormat("ru_trailer", FormatFamily.RU, "LLDDDDRR", RU_LETTERS, RU_REGION_CODES)
KG_PERSON = PlateFormat("kg_person", FormatFamily.KG, "RRDDDLLL", regions=KG_REGION_CODES)
KG_ORGANISATION = PlateFormat(
    "kg_organisation", FormatFamily.KG, "RRDDDLL", regions=KG_REGION_CODES
)
UZ_PERSON = PlateFormat("uz_person", FormatFamily.UZ, "RRLDDDLL", regions=UZ_REGION_CODES)
UZ_ORGANISATION = PlateFormat(
    "uz_organisation", FormatFamily.UZ, "RRDDDLLL", regions=UZ_REGION_CODES
)
BR_MERCOSUR = PlateFormat("br_mercosur", FormatFamily.BR, "LLLDLDD")
BR_LEGACY = PlateFormat("br_legacy", FormatFamily.BR, "LLLDDDD")

FORMATS: tuple[PlateFormat, ...] = (
    KZ_PERSON,
    KZ_ORGANISATION,
    RU_CAR,
    RU_CAR_3,
    RU_MOTORCYCLE,
    RU_TRAILER,
    KG_PERSON,
    KG_ORGANISATION,
    UZ_PERSON,
    UZ_ORGANISATION,
    BR_LEGACY,
    BR_MERCOSUR,
)
FORMAT_NAMES = frozenset(plate_format.name for plate_format in FORMATS)
# The layouts that also come on two lines (read top line first).
TWO_LINE_FORMATS = frozenset(plate_format.name for plate_format in FORMATS if plate_format.top_line)
# What a Kazakh site expects: its own plates and its neighbours'.
KAZAKH_ROADS: tuple[FormatFamily, ...] = (
    FormatFamily.KZ,
    FormatFamily.RU,
    FormatFamily.KG,
    FormatFamily.UZ,
)
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
# Russian plates with a three-digit region have 9 characters: plate-like only as that layout.
MAX_PLATE_LENGTH = 9


@dataclass(frozen=True)
class PlateText:
    """A decoded plate: normalised text, confidence in [0, 1] and the format it matched."""

    text: str
    confidence: float
    format: str  # a PlateFormat.name, "generic", or "" when nothing plate-like was read
    substitutions: int = 0


def _canonical_char(char: str) -> str:
    """One character in the canonical form: upper case, Cyrillic look-alikes as Latin."""
    upper = char.upper()
    return (upper if len(upper) == 1 else char).translate(CYRILLIC_TO_LATIN)


def normalise(raw: str) -> str:
    """Upper-case, Cyrillic look-alikes as Latin, and keep only A-Z and 0-9 (the canonical
    form, and the comparison rule of the evaluation)."""
    return _NOT_PLATE_CHAR.sub("", "".join(_canonical_char(char) for char in raw))


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
    for index, char in enumerate(raw):
        canonical = _canonical_char(char)
        if _NOT_PLATE_CHAR.match(canonical):
            continue
        text.append(canonical)
        scores.append(1.0 if confidences is None else float(confidences[index]))
    return "".join(text), scores


def _coerce(char: str, wanted: str, letters: str, allow_substitution: bool) -> str | None:
    """The character read as class `wanted`, or None when it cannot stand there."""
    if wanted in (DIGIT, REGION):
        if char.isdigit():
            return char
        return LETTER_AS_DIGIT.get(char) if allow_substitution else None
    coerced = char if char.isalpha() else DIGIT_AS_LETTER.get(char) if allow_substitution else None
    return coerced if coerced is not None and coerced in letters else None


def fit(text: str, plate_format: PlateFormat, allow_substitution: bool) -> tuple[str, int] | None:
    """Fit cleaned `text` to a format: the corrected text and the number of substitutions."""
    layout = plate_format.layout
    if len(text) != len(layout):
        return None
    out: list[str] = []
    substitutions = 0
    for char, wanted in zip(text, layout, strict=True):
        coerced = _coerce(char, wanted, plate_format.letters, allow_substitution)
        if coerced is None:
            return None
        substitutions += coerced != char
        out.append(coerced)
    fitted = "".join(out)
    if not _every_block_has_evidence(text, fitted, layout):
        return None
    region = "".join(c for c, w in zip(fitted, layout, strict=True) if w == REGION)
    if region and region not in plate_format.regions:
        return None
    return fitted, substitutions


def _every_block_has_evidence(read: str, fitted: str, layout: str) -> bool:
    """Each block of one class (digits, letters, region) keeps at least one character as read.

    A block made entirely of substitutions is no evidence for the format: an all-digit foreign
    plate 1268205 would otherwise become the Kazakh organisation plate 126BZ05. A block of
    one character at either end of the layout is exempt when the layout has blocks of its own
    beside it that keep their evidence: the single series letter that opens a Russian plate is
    as often O read as 0 as any other O, and the blocks after it still have to be read as the
    layout says. Nor is a 0 where the layout has a letter, corrected to O, a substitution here:
    the two share one glyph on most plates and the recogniser, trained on far more digits than
    plates, gives 0 for either, so its choice says nothing of the layout (a Russian series OO
    read 00, the lone series letter O inside an Uzbek plate). The other way round (letters
    where the layout has digits) still needs evidence: a region field read OI is no region.
    """
    start = 0
    for end in range(1, len(layout) + 1):
        if end == len(layout) or layout[end] != layout[start]:
            lone_end = end - start == 1 and (start == 0 or end == len(layout))
            substituted = all(
                r != f and (r, f) != ZERO_AS_LETTER_O
                for r, f in zip(read[start:end], fitted[start:end], strict=True)
            )
            if substituted and not (lone_end and len(layout) > 1):
                return False
            start = end
    return True


def may_be_cut_short(text: str, format_name: str) -> bool:
    """Whether a plate read as `text` in the layout `format_name` may be a longer plate of that
    layout read short: a Russian car's two-digit region is also the start of a three-digit one
    (E541BH17 for E541BH179)."""
    return any(
        plate_format.name == format_name and len(plate_format.layout) > len(text)
        for plate_format in FORMATS
    )


def awaits_region(text: str, expected: Iterable[FormatFamily]) -> bool:
    """Whether cleaned `text` is the number of an expected one-line layout whose region code
    stands in a field of its own at the end (Kazakh and Russian plates): the recogniser often
    reads the number and leaves the smaller, raised region field out, or the detector finds
    no box for it."""
    families = frozenset(expected)
    for plate_format in FORMATS:
        region = len(plate_format.layout) - len(plate_format.layout.rstrip(REGION))
        if not region or not plate_format.one_line or plate_format.family not in families:
            continue
        number = replace(plate_format, layout=plate_format.layout[:-region], regions=frozenset())
        if fit(text, number, allow_substitution=True) is not None:
            return True
    return False


def _confidence(scores: Sequence[float], substitutions: int) -> float:
    base = min(scores) if scores else 0.0
    return base * SUBSTITUTION_PENALTY**substitutions


def _without_mark(
    text: str, scores: list[float], family: FormatFamily
) -> list[tuple[str, list[float]]]:
    """The text and scores without the family's country mark: the whole mark where the text
    holds it once, and a part of it (KZ's K, UZ's Z, RUS's S) at the end of the text on the
    mark's side, where the recogniser reads a letter of the mark along with the number."""
    mark = COUNTRY_MARKS.get(family)
    if mark is None:
        return []
    variants: list[tuple[str, list[float]]] = []
    if text.count(mark) == 1:
        at = text.index(mark)
        variants.append(
            (text[:at] + text[at + len(mark) :], scores[:at] + scores[at + len(mark) :])
        )
    side = MARK_SIDES.get(family)
    for size in range(1, len(mark) + 1):
        if side == "start" and text[:size] in mark:
            variants.append((text[size:], scores[size:]))
        if side == "end" and text[-size:] in mark:
            variants.append((text[:-size], scores[:-size]))
    return variants


def family_fits(
    text: str,
    scores: list[float],
    expected: frozenset[FormatFamily],
    formats: Sequence[PlateFormat] = FORMATS,
    marks: bool = True,
) -> list[PlateText]:
    """Every format's reading of `text`, best per family (fewest substitutions, then most
    confident): corrected for expected families, exact only for the others. With `marks`, a
    read holding a family's country mark (KZ beside the flag) is also tried without it."""
    best: dict[FormatFamily, PlateText] = {}
    for plate_format in formats:
        family = plate_format.family
        allow = family in expected
        without = _without_mark(text, scores, family) if marks else []
        for variant in ((text, scores), *without):
            fitted = fit(variant[0], plate_format, allow)
            if fitted is None:
                continue
            corrected, substitutions = fitted
            candidate = PlateText(
                corrected, _confidence(variant[1], substitutions), plate_format.name, substitutions
            )
            kept = best.get(family)
            if kept is None or (substitutions, -candidate.confidence) < (
                kept.substitutions,
                -kept.confidence,
            ):
                best[family] = candidate
    return list(best.values())


def decode(
    raw: str,
    confidences: Sequence[float] | None = None,
    expected: Iterable[FormatFamily] = (FormatFamily.KZ,),
    formats: Sequence[PlateFormat] = FORMATS,
    two_line: bool | None = None,
) -> PlateText:
    """Decode a raw recogniser string against the known plate formats.

    `confidences` are per-character probabilities of `raw` (same length); without them every
    character counts as certain. `expected` names the families whose positional prior may
    correct characters; other families are only recognised when read exactly. When the
    families that fit with the fewest corrections disagree on the text, nothing is corrected.
    `two_line`: whether `raw` was read from two stacked lines (True) or one (False): only the
    layouts made that way are tried (a Russian motorcycle plate is never one line); None: all.
    """
    text, scores = _clean_with_confidences(raw, confidences)
    expected_families = frozenset(expected)
    if two_line is not None:
        formats = [f for f in formats if (f.top_line > 0 if two_line else f.one_line)]
    fits = family_fits(text, scores, expected_families, formats)
    # A layout that every character read fits outranks one that fits only once a letter is
    # taken for the country mark read along, at as few substitutions: K333OC10 is a Russian
    # plate, not the Kazakh 333OC10 with the K of "KZ" (both fit; left undecided, the two-line
    # read of the Russian plate was dropped and its top line K333 reported alone).
    whole = family_fits(text, scores, expected_families, formats, marks=False)
    if whole and min(reading.substitutions for reading in whole) <= min(
        reading.substitutions for reading in fits
    ):
        fits = whole
    if fits:
        fewest = min(reading.substitutions for reading in fits)
        closest = [reading for reading in fits if reading.substitutions == fewest]
        if len({reading.text for reading in closest}) == 1:
            return max(closest, key=lambda reading: reading.confidence)
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

    Plates are 4-8 characters (9: a known layout read exactly) and nearly always mix letters
    and digits; words on signs, shop fronts and stickers are mostly letters, and phone numbers
    or prices mostly digits.
    """
    longest = MAX_GENERIC_LENGTH
    if len(text) == MAX_PLATE_LENGTH and any(fit(text, f, False) for f in FORMATS):
        longest = MAX_PLATE_LENGTH
    if not MIN_GENERIC_LENGTH <= len(text) <= longest:
        return 0.0
    digits = sum(c.isdigit() for c in text)
    letters = len(text) - digits
    if digits == 0 or letters == 0:
        return 0.35
    score = 1.0
    if len(text) < 6:
        score *= 0.8
    return score
