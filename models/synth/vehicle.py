"""The vehicle sprite of the synthetic road scenes: a car seen from the front and a little above,
with its plate on the bumper (split from models.synth.scene)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from models.synth.plates import PLATE_MM, Image, render_plate

PLATE_BOTTOM_GAP = 0.125  # from the plate's bottom edge to the sprite's, in vehicle widths


@dataclass(frozen=True)
class Sprite:
    """A vehicle at its radar-point size: colour, coverage (0-1) and where its plate is."""

    image: Image
    alpha: np.ndarray[Any, np.dtype[np.float32]]
    plate_box: tuple[int, int, int, int]  # in sprite pixels


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    b, g, r = (min(255, max(0, round(channel * factor))) for channel in colour)
    return (b, g, r)


def draw_vehicle(
    plate: str,
    colour: tuple[int, int, int],
    width: int,
    plate_share: float,
    rng: random.Random,
    plate_image: Image | None = None,
) -> Sprite:
    """A vehicle seen from the front and a little above, `width` pixels wide, with its plate:
    the Kazakh plate `plate` rendered, or `plate_image` (any plate, any shape) scaled to
    `plate_share` of the width."""
    tall = rng.uniform(0.74, 0.9)  # saloon .. SUV
    height = round(width * tall)
    image = np.zeros((height, width, 3), np.uint8)
    cover = np.zeros((height, width), np.uint8)

    def pts(points: Sequence[tuple[float, float]]) -> np.ndarray[Any, np.dtype[np.int32]]:
        return np.array([(round(u * width), round(v * height)) for u, v in points], np.int32)

    def fill(points: Sequence[tuple[float, float]], bgr: tuple[int, int, int]) -> None:
        polygon = pts(points)
        cv2.fillPoly(image, [polygon], bgr, cv2.LINE_AA)
        cv2.fillPoly(cover, [polygon], 255, cv2.LINE_AA)

    def box(u1: float, v1: float, u2: float, v2: float, bgr: tuple[int, int, int]) -> None:
        fill([(u1, v1), (u2, v1), (u2, v2), (u1, v2)], bgr)

    roof = rng.uniform(0.2, 0.26)
    glass = (92, 80, 72) if rng.random() < 0.5 else (70, 62, 58)
    dark = (28, 28, 28)
    # Shadow on the road, wheels, then the body from the back to the front.
    shadow = np.zeros((height, width), np.uint8)
    cv2.ellipse(
        shadow,
        (width // 2, round(0.95 * height)),
        (round(0.52 * width), round(0.06 * height)),
        0,
        0,
        360,
        110,
        -1,
        cv2.LINE_AA,
    )
    box(0.07, 0.8, 0.21, 0.98, dark)
    box(0.79, 0.8, 0.93, 0.98, dark)
    fill(
        [(roof, 0.02), (1 - roof, 0.02), (0.93, 0.44), (0.07, 0.44)],
        _shade(colour, 0.85),
    )
    fill(
        [(roof + 0.03, 0.06), (1 - roof - 0.03, 0.06), (0.885, 0.41), (0.115, 0.41)],
        glass,
    )
    fill(
        [(roof + 0.1, 0.06), (roof + 0.17, 0.06), (0.36, 0.41), (0.25, 0.41)],
        _shade(glass, 1.35),
    )
    box(0.0, 0.36, 0.06, 0.44, _shade(colour, 0.8))  # mirrors
    box(0.94, 0.36, 1.0, 0.44, _shade(colour, 0.8))
    fill(
        [(0.06, 0.44), (0.94, 0.44), (0.97, 0.52), (0.97, 0.86), (0.03, 0.86), (0.03, 0.52)], colour
    )
    fill([(0.1, 0.44), (0.9, 0.44), (0.93, 0.5), (0.07, 0.5)], _shade(colour, 1.08))
    lamp = (215, 235, 240)
    fill([(0.06, 0.53), (0.27, 0.55), (0.26, 0.63), (0.07, 0.61)], lamp)
    fill([(0.94, 0.53), (0.73, 0.55), (0.74, 0.63), (0.93, 0.61)], lamp)
    box(0.31, 0.55, 0.69, 0.66, (40, 40, 42))
    for slat in range(3):
        v = 0.575 + slat * 0.03
        box(0.32, v, 0.68, v + 0.008, (75, 75, 78))
    box(0.03, 0.69, 0.97, 0.87, _shade(colour, 0.78))
    # The plate, centred on the bumper.
    plate_w = round(plate_share * width)
    aspect = PLATE_MM[1] / PLATE_MM[0]
    if plate_image is not None:
        aspect = plate_image.shape[0] / plate_image.shape[1]
    plate_h = round(plate_w * aspect)
    plate_x = (width - plate_w) // 2
    plate_y = height - round(PLATE_BOTTOM_GAP * width) - plate_h
    image[plate_y : plate_y + plate_h, plate_x : plate_x + plate_w] = (
        render_plate(plate, rng, plate_w)
        if plate_image is None
        else cv2.resize(plate_image, (plate_w, plate_h), interpolation=cv2.INTER_AREA)
    )
    cover[plate_y : plate_y + plate_h, plate_x : plate_x + plate_w] = 255
    alpha = cover.astype(np.float32) / 255.0
    shadow_alpha = shadow.astype(np.float32) / 255.0 * (1.0 - alpha)
    alpha = alpha + shadow_alpha  # the shadow is black at its coverage
    return Sprite(image, alpha.astype(np.float32), (plate_x, plate_y, plate_w, plate_h))
