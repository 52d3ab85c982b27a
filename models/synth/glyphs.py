"""A plate typeface drawn as strokes: no font file, the same pixels on every machine.

Registration plates use a condensed sans-serif of even stroke width (DIN 1451 style; GOST R
50577 for Russia, the 2012 Kazakh standard alike). Each character here is a few polylines in a
unit cell (x 0..1 left to right, y 0..1 top to bottom) drawn with a round pen whose width is a
share of the character height; `draw_text` scales the cell to the plate's character size in
millimetres. The shapes are drawn from the typeface's general form, not traced from any font:
the synthetic plates stay independent of the reader, which never saw them.

Cyrillic У, which has no exact Latin twin, has its own shape; the other eleven Cyrillic letters
of Russian plates are drawn as their Latin look-alikes, which they are on the plate.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
import numpy.typing as npt

Point = tuple[float, float]
Stroke = list[Point]
Mask = npt.NDArray[np.uint8]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> Stroke:
    """Points of an elliptic arc from angle `start` to `end` (degrees; 0 right, 90 down)."""
    steps = max(4, round(abs(end - start) / 10))
    return [
        (
            cx + rx * math.cos(math.radians(start + (end - start) * i / steps)),
            cy + ry * math.sin(math.radians(start + (end - start) * i / steps)),
        )
        for i in range(steps + 1)
    ]


def _stadium() -> Stroke:
    """The outline of the digit 0: straight sides, round ends."""
    return [*_arc(0.5, 0.3, 0.5, 0.3, 180, 360), *_arc(0.5, 0.7, 0.5, 0.3, 0, 180), (0.0, 0.3)]


STROKES: dict[str, list[Stroke]] = {
    "0": [_stadium()],
    "1": [[(0.25, 0.22), (0.62, 0.0), (0.62, 1.0)]],
    "2": [[*_arc(0.5, 0.28, 0.48, 0.28, 190, 380), (0.0, 1.0), (1.0, 1.0)]],
    "3": [[*_arc(0.5, 0.25, 0.44, 0.25, 200, 450)], [*_arc(0.5, 0.74, 0.5, 0.26, 270, 520)]],
    "4": [[(0.75, 1.0), (0.75, 0.0), (0.0, 0.7), (1.0, 0.7)]],
    "5": [[(0.92, 0.0), (0.1, 0.0), (0.04, 0.46), *_arc(0.5, 0.68, 0.5, 0.32, 225, 510)]],
    "6": [
        [*_arc(0.5, 0.7, 0.5, 0.3, 0, 360)],
        [(0.0, 0.7), (0.1, 0.32), (0.42, 0.03), (0.86, 0.04)],
    ],
    "7": [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]],
    "8": [[*_arc(0.5, 0.24, 0.42, 0.24, 0, 360)], [*_arc(0.5, 0.73, 0.5, 0.27, 0, 360)]],
    "9": [
        [*_arc(0.5, 0.3, 0.5, 0.3, 0, 360)],
        [(1.0, 0.3), (0.9, 0.68), (0.58, 0.97), (0.14, 0.96)],
    ],
    "A": [[(0.0, 1.0), (0.5, 0.0), (1.0, 1.0)], [(0.2, 0.64), (0.8, 0.64)]],
    "B": [
        [(0.0, 0.48), (0.0, 0.0), *_arc(0.64, 0.24, 0.32, 0.24, 270, 450), (0.0, 0.48)],
        [(0.0, 0.48), *_arc(0.66, 0.74, 0.34, 0.26, 270, 450), (0.0, 1.0), (0.0, 0.48)],
    ],
    "C": [_arc(0.5, 0.5, 0.5, 0.5, 320, 40)],
    "D": [[(0.0, 0.0), *_arc(0.5, 0.5, 0.5, 0.5, 270, 450), (0.0, 1.0), (0.0, 0.0)]],
    "E": [[(1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (1.0, 1.0)], [(0.0, 0.5), (0.8, 0.5)]],
    "F": [[(1.0, 0.0), (0.0, 0.0), (0.0, 1.0)], [(0.0, 0.5), (0.8, 0.5)]],
    "G": [[*_arc(0.5, 0.5, 0.5, 0.5, 320, 30), (1.0, 0.56), (0.55, 0.56)]],
    "H": [[(0.0, 0.0), (0.0, 1.0)], [(1.0, 0.0), (1.0, 1.0)], [(0.0, 0.5), (1.0, 0.5)]],
    "I": [[(0.5, 0.0), (0.5, 1.0)], [(0.22, 0.0), (0.78, 0.0)], [(0.22, 1.0), (0.78, 1.0)]],
    "J": [[(1.0, 0.0), *_arc(0.5, 0.7, 0.5, 0.3, 0, 180)]],
    "K": [[(0.0, 0.0), (0.0, 1.0)], [(1.0, 0.0), (0.0, 0.62)], [(0.32, 0.42), (1.0, 1.0)]],
    "L": [[(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)]],
    "M": [[(0.0, 1.0), (0.0, 0.0), (0.5, 0.62), (1.0, 0.0), (1.0, 1.0)]],
    "N": [[(0.0, 1.0), (0.0, 0.0), (1.0, 1.0), (1.0, 0.0)]],
    "O": [_arc(0.5, 0.5, 0.5, 0.5, 0, 360)],  # round; the digit 0 is the narrower stadium
    "P": [[(0.0, 1.0), (0.0, 0.0), *_arc(0.62, 0.27, 0.38, 0.27, 270, 450), (0.0, 0.54)]],
    "Q": [_arc(0.5, 0.5, 0.5, 0.5, 0, 360), [(0.58, 0.72), (1.0, 1.02)]],
    "R": [
        [(0.0, 1.0), (0.0, 0.0), *_arc(0.62, 0.27, 0.38, 0.27, 270, 450), (0.0, 0.54)],
        [(0.42, 0.54), (1.0, 1.0)],
    ],
    "S": [[*_arc(0.5, 0.25, 0.47, 0.25, 330, 110), *_arc(0.5, 0.74, 0.5, 0.26, 290, 520)]],
    "T": [[(0.0, 0.0), (1.0, 0.0)], [(0.5, 0.0), (0.5, 1.0)]],
    "U": [[(0.0, 0.0), *_arc(0.5, 0.7, 0.5, 0.3, 180, 0), (1.0, 0.0)]],
    "V": [[(0.0, 0.0), (0.5, 1.0), (1.0, 0.0)]],
    "W": [[(0.0, 0.0), (0.24, 1.0), (0.5, 0.3), (0.76, 1.0), (1.0, 0.0)]],
    "X": [[(0.0, 0.0), (1.0, 1.0)], [(1.0, 0.0), (0.0, 1.0)]],
    "Y": [[(0.0, 0.0), (0.5, 0.5), (1.0, 0.0)], [(0.5, 0.5), (0.5, 1.0)]],
    "Z": [[(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]],
    # Cyrillic У: the right arm runs on to the bottom left, the left arm meets it midway.
    "У": [[(0.0, 0.0), (0.5, 0.6)], [(1.0, 0.0), (0.42, 0.86), (0.3, 0.97), (0.08, 1.0)]],
}

# Share of the character height taken by the pen (plate characters: about 10 mm in 58-77 mm).
STROKE_SHARE = 0.14


@functools.lru_cache(maxsize=512)
def glyph(char: str, width: int, height: int, stroke_share: float = STROKE_SHARE) -> Mask:
    """The character's ink (255) in a width x height cell, the pen kept inside the cell."""
    if char not in STROKES:
        raise ValueError(f"the plate typeface has no character {char!r}")
    supersample = 4
    pen = max(1.0, stroke_share * height * supersample)
    w, h = width * supersample, height * supersample
    inner_w, inner_h = max(1.0, w - pen), max(1.0, h - pen)
    canvas = np.zeros((h, w), np.uint8)
    for stroke in STROKES[char]:
        points = np.array(
            [(pen / 2 + x * inner_w, pen / 2 + y * inner_h) for x, y in stroke], np.float64
        )
        cv2.polylines(
            canvas, [np.round(points).astype(np.int32)], False, 255, round(pen), cv2.LINE_AA
        )
    return np.asarray(cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


def draw_text(
    canvas: npt.NDArray[np.uint8],
    text: str,
    left_mm: float,
    top_mm: float,
    size_mm: tuple[float, float],
    gap_mm: float,
    scale: float,
    colour: tuple[int, int, int],
) -> float:
    """Stamp `text` at (left_mm, top_mm), characters size_mm (w, h) apart by gap_mm; a space
    leaves one character's room. Returns the right edge in mm."""
    width, height = round(size_mm[0] * scale), round(size_mm[1] * scale)
    x = left_mm
    for char in text:
        if char != " ":
            mask = glyph(char, max(1, width), max(1, height))
            left, top = round(x * scale), round(top_mm * scale)
            region = canvas[top : top + mask.shape[0], left : left + mask.shape[1]]
            alpha = (mask[: region.shape[0], : region.shape[1]].astype(np.float32) / 255.0)[
                ..., np.newaxis
            ]
            blended = region * (1.0 - alpha) + np.array(colour, np.float32) * alpha
            region[:] = blended.astype(np.uint8)
        x += size_mm[0] + gap_mm
    return x - gap_mm


def text_width(text: str, char_w: float, gap_mm: float) -> float:
    """Width in mm of `text` drawn by draw_text."""
    return len(text) * char_w + max(0, len(text) - 1) * gap_mm
