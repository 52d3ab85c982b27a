"""Plates of a Kazakh road drawn to their national layouts: Kazakh, Russian, Kyrgyz, Uzbek.

Sizes in millimetres. One-line plates are 520 x 112 (the European size all four use); two-line
plates are 290 x 170 (Kazakh square rear plates; Russian type 1A square plates), Russian
motorcycle plates 245 x 160. The Kazakh 2012 plate: flag and "KZ" at the left, the number
(`123 ABC` persons, `123 AB` organisations), the region code in a box at the right behind a
rule; its two-line form carries flag, KZ and the digits on top and the letters and region
below. Russia (GOST R 50577): letter, three digits, two letters, digits 76 mm and letters 58 mm
high, the region (2 or 3 digits) above "RUS" and the tricolour in a box at the right;
motorcycles read `1234` over `AB 77`, trailers `AB 1234 77`. Kyrgyzstan (2016): region box at
the left, flag and "KG", then `123 ABC`. Uzbekistan: region box at the left, `A 123 BC`
(persons) or `123 ABC` (organisations), flag and "UZ" at the right.

Characters come from `models.synth.glyphs` (strokes, no font file). The exact drawings of
the standards were not at hand: sizes are the published overall sizes and character heights
(76/58 mm), the rest is proportioned to the photographs of real plates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from models.plate_format import DIGIT, FormatFamily, PlateFormat
from models.synth.glyphs import draw_text, text_width
from models.synth.plates import Image

WHITE = (246, 246, 244)
INK = (24, 24, 24)
BLUE = (202, 175, 0)  # Kazakh sky blue #00AFCA (BGR)
GOLD = (20, 195, 254)
RED = (40, 30, 200)
RU_BLUE = (160, 60, 0)
UZ_BLUE = (180, 120, 0)
UZ_GREEN = (60, 160, 30)

Drawing = Callable[[Image, float], None]


@dataclass(frozen=True)
class Field:
    """Characters `text` centred in x range `x` (mm), top at `top`, each `size` (w, h) mm."""

    text: str
    x: tuple[float, float]
    top: float
    size: tuple[float, float]
    gap: float = 5.0


@dataclass(frozen=True)
class Design:
    """A plate drawing: its size in mm, its character fields and its other marks."""

    size: tuple[float, float]
    fields: tuple[Field, ...]
    marks: tuple[Drawing, ...] = ()


def _rect(x1: float, y1: float, x2: float, y2: float, colour: tuple[int, int, int]) -> Drawing:
    def draw(canvas: Image, scale: float) -> None:
        cv2.rectangle(
            canvas,
            (round(x1 * scale), round(y1 * scale)),
            (round(x2 * scale), round(y2 * scale)),
            colour,
            -1,
        )

    return draw


def _rule(x: float, y1: float, y2: float) -> Drawing:
    """A vertical black rule 3 mm wide (the region box's edge)."""
    return _rect(x - 1.5, y1, x + 1.5, y2, INK)


def _kz_flag(x1: float, y1: float, x2: float, y2: float) -> Drawing:
    """Sky blue with the golden sun, its rays and the eagle's wings under it."""

    def draw(canvas: Image, scale: float) -> None:
        _rect(x1, y1, x2, y2, BLUE)(canvas, scale)
        cx, cy, r = (x1 + x2) / 2, y1 + 0.4 * (y2 - y1), 0.14 * (y2 - y1)
        for ray in range(16):
            angle = 2 * math.pi * ray / 16
            cv2.line(
                canvas,
                (
                    round((cx + 1.2 * r * math.cos(angle)) * scale),
                    round((cy + 1.2 * r * math.sin(angle)) * scale),
                ),
                (
                    round((cx + 1.8 * r * math.cos(angle)) * scale),
                    round((cy + 1.8 * r * math.sin(angle)) * scale),
                ),
                GOLD,
                max(1, round(0.8 * scale)),
                cv2.LINE_AA,
            )
        cv2.circle(canvas, (round(cx * scale), round(cy * scale)), round(r * scale), GOLD, -1)
        wing = np.array(
            [
                (cx - 2.6 * r, cy + 2.2 * r),
                (cx, cy + 3.0 * r),
                (cx + 2.6 * r, cy + 2.2 * r),
                (cx, cy + 3.6 * r),
            ]
        )
        cv2.fillPoly(canvas, [np.round(wing * scale).astype(np.int32)], GOLD, cv2.LINE_AA)

    return draw


def _kg_flag(x1: float, y1: float, x2: float, y2: float) -> Drawing:
    def draw(canvas: Image, scale: float) -> None:
        _rect(x1, y1, x2, y2, RED)(canvas, scale)
        centre = (round((x1 + x2) / 2 * scale), round((y1 + y2) / 2 * scale))
        cv2.circle(canvas, centre, round(0.3 * (y2 - y1) * scale), GOLD, -1, cv2.LINE_AA)

    return draw


def _stripes(
    x1: float, y1: float, x2: float, y2: float, colours: tuple[tuple[int, int, int], ...]
) -> Drawing:
    def draw(canvas: Image, scale: float) -> None:
        step = (y2 - y1) / len(colours)
        for index, colour in enumerate(colours):
            _rect(x1, y1 + index * step, x2, y1 + (index + 1) * step, colour)(canvas, scale)
        cv2.rectangle(
            canvas,
            (round(x1 * scale), round(y1 * scale)),
            (round(x2 * scale), round(y2 * scale)),
            INK,
            1,
        )

    return draw


def _small(text: str, x: tuple[float, float], top: float, height: float) -> Field:
    """Country marks: KZ, KG, UZ, RUS."""
    return Field(text, x, top, (0.55 * height, height), 0.12 * height)


def _groups(plate_format: PlateFormat, text: str) -> list[str]:
    """The text cut where the layout changes class (digits | letters | region)."""
    groups: list[str] = []
    previous = ""
    for char, kind in zip(text, plate_format.layout, strict=True):
        kind_class = "N" if kind == DIGIT else kind
        if groups and kind_class == previous:
            groups[-1] += char
        else:
            groups.append(char)
        previous = kind_class
    return groups


def _kazakh(plate_format: PlateFormat, text: str, two_line: bool) -> Design:
    number, letters, region = _groups(plate_format, text)
    if not two_line:
        main = number + " " + letters
        return Design(
            (520, 112),
            (
                _small("KZ", (8, 50), 64, 30),
                Field(main, (56, 412), 18, (44, 76), 4.0),
                Field(region, (418, 514), 25, (38, 62), 5.0),
            ),
            (_kz_flag(8, 12, 50, 54), _rule(415, 3, 109)),
        )
    return Design(
        (290, 170),
        (
            _small("KZ", (8, 56), 52, 26),
            Field(number, (60, 284), 8, (52, 72), 6.0),
            Field(letters, (6, 202), 90, (52, 72), 6.0),
            Field(region, (208, 286), 97, (34, 58), 5.0),
        ),
        (_kz_flag(10, 10, 54, 46), _rule(205, 86, 167)),
    )


def _russian(plate_format: PlateFormat, text: str, two_line: bool) -> Design:
    digit = (44.0, 76.0)
    letter = (46.0, 58.0)
    region_size = (
        (30.0, 50.0) if len(text) - len(plate_format.layout.rstrip("R")) == 3 else (36.0, 56.0)
    )
    groups = _groups(plate_format, text)
    region = groups[-1]
    if not two_line:
        fields: list[Field] = []
        x = 16.0
        for group in groups[:-1]:
            size = digit if group[0].isdigit() else letter
            top = 18.0 if group[0].isdigit() else 36.0
            fields.append(Field(group, (x, x + text_width(group, size[0], 6.0)), top, size, 6.0))
            x += text_width(group, size[0], 6.0) + 12.0
        fields.append(Field(region, (404, 516), 8, region_size, 4.0))
        fields.append(_small("RUS", (404, 470), 78, 20))
        marks = (_rule(401, 3, 109), _stripes(474, 79, 508, 99, (WHITE, RU_BLUE, RED)))
        return Design((520, 112), tuple(fields), marks)
    # Two lines: the top line's digits 70 mm and letters 54 mm high (motorcycles: 62 and 48),
    # well above the bottom line: letters, then the region over "RUS" and the flag.
    width, height = (245.0, 160.0) if plate_format.name == "ru_motorcycle" else (290.0, 170.0)
    top_groups = _split_kinds(text[: plate_format.top_line])
    k = 0.88 if plate_format.name == "ru_motorcycle" else 1.0  # the smaller plate
    sizes = [(42.0 * k, 70.0 * k) if g[0].isdigit() else (44.0 * k, 54.0 * k) for g in top_groups]
    spans = [text_width(group, size[0], 6.0) for group, size in zip(top_groups, sizes, strict=True)]
    x = (width - sum(spans) - 10.0 * (len(spans) - 1)) / 2
    top_fields: list[Field] = []
    for group, size, span in zip(top_groups, sizes, spans, strict=True):
        top_fields.append(Field(group, (x, x + span), 6.0 + 70.0 * k - size[1], size, 6.0))
        x += span + 10.0
    rest = text[plate_format.top_line : len(text) - len(region)]
    region_x, second = width - 110.0, height - 78.0
    bottom = [
        Field(rest, (6, region_x - 6), second, letter, 6.0),
        Field(region, (region_x + 4, width - 6), second, (region_size[0], 50.0), 4.0),
        _small("RUS", (region_x + 4, width - 44), height - 22, 18),
    ]
    marks = (
        _rule(region_x, second - 4, height - 3),
        _stripes(width - 40, height - 21, width - 8, height - 6, (WHITE, RU_BLUE, RED)),
    )
    return Design((width, height), (*top_fields, *bottom), marks)


def _split_kinds(text: str) -> list[str]:
    groups: list[str] = []
    for char in text:
        if groups and groups[-1][-1].isdigit() == char.isdigit():
            groups[-1] += char
        else:
            groups.append(char)
    return groups


def _kyrgyz(plate_format: PlateFormat, text: str) -> Design:
    region, number, letters = _groups(plate_format, text)
    return Design(
        (520, 112),
        (
            Field(region, (6, 100), 25, (38, 62), 5.0),
            _small("KG", (106, 150), 60, 28),
            Field(number + " " + letters, (154, 516), 18, (42, 76), 4.0),
        ),
        (_rule(103, 3, 109), _kg_flag(108, 14, 148, 46)),
    )


def _uzbek(plate_format: PlateFormat, text: str) -> Design:
    region, *rest = _groups(plate_format, text)
    return Design(
        (520, 112),
        (
            Field(region, (6, 100), 25, (38, 62), 5.0),
            Field(" ".join(rest), (106, 466), 18, (40, 76), 4.0),
            _small("UZ", (470, 514), 60, 28),
        ),
        (_rule(103, 3, 109), _stripes(472, 14, 512, 46, (UZ_BLUE, WHITE, UZ_GREEN))),
    )


def design(plate_format: PlateFormat, text: str, two_line: bool = False) -> Design:
    """The drawing of `text` (canonical, fitting `plate_format`) on its plate."""
    if two_line and not plate_format.top_line:
        raise ValueError(f"{plate_format.name} plates are not made in two lines")
    if not two_line and not plate_format.one_line:
        raise ValueError(f"{plate_format.name} plates are made in two lines only")
    if plate_format.family is FormatFamily.KZ:
        return _kazakh(plate_format, text, two_line)
    if plate_format.family is FormatFamily.RU:
        return _russian(plate_format, text, two_line)
    if plate_format.family is FormatFamily.KG:
        return _kyrgyz(plate_format, text)
    if plate_format.family is FormatFamily.UZ:
        return _uzbek(plate_format, text)
    raise ValueError(f"no drawing for {plate_format.family} plates")


def draw(plate_format: PlateFormat, text: str, height_px: int, two_line: bool = False) -> Image:
    """The clean plate (BGR), `height_px` high: white face, black rim, marks and characters.

    Russian plates show the Cyrillic У where the canonical text has Y."""
    plate = design(plate_format, text, two_line)
    scale = height_px / plate.size[1]
    width = round(plate.size[0] * scale)
    canvas = np.full((height_px, width, 3), INK, np.uint8)
    rim = max(1, round(2.5 * scale))
    cv2.rectangle(canvas, (rim, rim), (width - rim - 1, height_px - rim - 1), WHITE, -1)
    for mark in plate.marks:
        mark(canvas, scale)
    cyrillic = plate_format.family is FormatFamily.RU
    for field in plate.fields:
        shown = field.text.replace("Y", "У") if cyrillic else field.text
        span = text_width(shown, field.size[0], field.gap)
        left = (field.x[0] + field.x[1] - span) / 2
        draw_text(canvas, shown, left, field.top, field.size, field.gap, scale, INK)
    return canvas


__all__ = ["Design", "Field", "design", "draw"]
