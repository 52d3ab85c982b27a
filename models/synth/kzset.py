"""A seeded evaluation set of the plates a Kazakh road sees, in road scenes, as models.evaluate
reads them: `<name>.jpg` + `<name>.txt` (`<file>\\t<x>\\t<y>\\t<w>\\t<h>\\t<TEXT>` per plate).

Each image is a 1280x720 road (models.synth.road) with one vehicle whose plate is drawn by
models.synth.layouts: Kazakh person and organisation plates (regions 01-20), one- and two-line,
and the neighbours' (Russian cars with two- and three-digit regions, motorcycles and trailers;
Kyrgyz and Uzbek). The camera's effects are drawn per image from fixed ranges chosen for a
roadside camera before any reading was tried (the set is rendered independently of the
reader's rules, never tuned to it):
- angle: the plate rolled up to 5 degrees and seen up to 30 degrees off its axis;
- dirt: translucent brown smears and specks on a share of plates;
- night IR: a grey infrared picture, the scene dark and the retroreflective plate bright,
  with sensor noise;
- motion blur: a streak of 2-7 px in the direction of travel (mostly vertical);
- JPEG: every image saved at quality 40-90.
Image `i` depends only on (seed, i): any part of the set can be regenerated alone.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from models.plate_format import (
    DIGIT,
    KG_ORGANISATION,
    KG_PERSON,
    KZ_ORGANISATION,
    KZ_PERSON,
    LETTER,
    RU_CAR,
    RU_CAR_3,
    RU_MOTORCYCLE,
    RU_TRAILER,
    UZ_ORGANISATION,
    UZ_PERSON,
    PlateFormat,
    fit,
)
from models.synth.layouts import draw
from models.synth.plates import Image, numpy_rng
from models.synth.road import Geometry, draw_road
from models.synth.scene import COLOURS, SceneSettings
from models.synth.vehicle import draw_vehicle

FRAME = (1280, 720)
# (format, two-line, weight): what a Kazakh road carries, Kazakh plates first.
MIX: tuple[tuple[PlateFormat, bool, float], ...] = (
    (KZ_PERSON, False, 0.40),
    (KZ_ORGANISATION, False, 0.12),
    (KZ_PERSON, True, 0.06),
    (KZ_ORGANISATION, True, 0.02),
    (RU_CAR, False, 0.12),
    (RU_CAR_3, False, 0.04),
    (RU_CAR, True, 0.03),
    (RU_MOTORCYCLE, True, 0.03),
    (RU_TRAILER, False, 0.02),
    (KG_PERSON, False, 0.05),
    (KG_ORGANISATION, False, 0.02),
    (UZ_PERSON, False, 0.07),
    (UZ_ORGANISATION, False, 0.02),
)
# Plate width in a 720p frame, pixels: one-line plates (text 19-38 px high), two-line plates.
ONE_LINE_WIDTH = (130, 260)
TWO_LINE_WIDTH = (80, 140)
NIGHT_SHARE = 0.25
DIRT_SHARE = 0.3
BLUR_SHARE = 0.4
BLUR_PX = (2, 7)
MAX_ROLL_DEG = 5.0
MAX_YAW_DEG = 30.0
JPEG_QUALITY = (40, 90)


@dataclass(frozen=True)
class SetImage:
    """One image of the set: its plate and the effects drawn for it."""

    name: str
    text: str
    format: str
    two_line: bool
    box: tuple[int, int, int, int]
    night: bool
    dirt: bool
    blur_px: int
    roll_deg: float
    yaw_deg: float
    jpeg_quality: int


def random_text(plate_format: PlateFormat, rng: random.Random) -> str:
    """A random text of the layout: its series' letters, digits not all zero, a valid region."""
    while True:
        region = rng.choice(sorted(plate_format.regions))
        regions = iter(region)
        chars = [
            rng.choice("0123456789")
            if kind == DIGIT
            else rng.choice(plate_format.letters)
            if kind == LETTER
            else next(regions)
            for kind in plate_format.layout
        ]
        text = "".join(chars)
        digits = [c for c, kind in zip(text, plate_format.layout, strict=True) if kind == DIGIT]
        if set(digits) != {"0"} and fit(text, plate_format, allow_substitution=False):
            return text


def _dirt(plate: Image, rng: random.Random) -> Image:
    """Translucent brown smears and dark specks."""
    out = plate.astype(np.float32)
    height, width = plate.shape[:2]
    noise = numpy_rng(rng)
    mask = np.zeros((height, width), np.float32)
    for _ in range(rng.randint(2, 5)):
        centre = (rng.randrange(width), rng.randrange(height))
        axes = (rng.randint(width // 12, width // 4), rng.randint(height // 8, height // 3))
        cv2.ellipse(mask, centre, axes, rng.uniform(0, 180), 0, 360, rng.uniform(0.2, 0.45), -1)
    smears = np.asarray(cv2.GaussianBlur(mask, (0, 0), max(1.0, height / 10)), np.float32)
    specks = (noise.random((height, width)) < 0.004).astype(np.float32)
    dots = np.asarray(cv2.GaussianBlur(specks, (0, 0), 1.0), np.float32)
    cover = np.clip(smears + dots * 3.0, 0.0, 0.8)[..., None]
    brown = np.array((40, 70, 95), np.float32)
    return np.asarray(np.clip(out * (1 - cover) + brown * cover, 0, 255), np.uint8)


def _angled(plate: Image, roll: float, yaw: float, fill: tuple[int, int, int]) -> Image:
    """The plate rolled by `roll` degrees and seen `yaw` degrees off its axis (one side
    farther, so smaller), on a canvas filled with `fill` (the bumper)."""
    height, width = plate.shape[:2]
    squeeze = math.cos(math.radians(yaw))
    near_far = 1.0 - 0.25 * math.sin(math.radians(abs(yaw)))
    new_w = width * squeeze
    left_h, right_h = (height, height * near_far) if yaw >= 0 else (height * near_far, height)
    corners = np.array(
        [
            (0, (height - left_h) / 2),
            (new_w, (height - right_h) / 2),
            (new_w, (height + right_h) / 2),
            (0, (height + left_h) / 2),
        ],
        np.float32,
    )
    centre = corners.mean(axis=0)
    turn = math.radians(roll)
    rotation = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    corners = ((corners - centre) @ rotation.T + centre).astype(np.float32)
    corners -= corners.min(axis=0)
    out_w, out_h = (math.ceil(float(v)) + 1 for v in corners.max(axis=0))
    source = np.array([(0, 0), (width, 0), (width, height), (0, height)], np.float32)
    matrix = cv2.getPerspectiveTransform(source, corners)
    warped = cv2.warpPerspective(
        plate, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=fill
    )
    return np.asarray(warped, np.uint8)


def _night(frame: Image, box: tuple[int, int, int, int], rng: random.Random) -> Image:
    """An infrared picture: grey, the scene dark, the plate's retroreflective face bright."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
    x, y, w, h = box
    dark = np.full(grey.shape, rng.uniform(0.2, 0.4), np.float32)
    dark[y : y + h, x : x + w] = rng.uniform(0.85, 1.1)
    lit = np.asarray(cv2.GaussianBlur(dark, (0, 0), 3.0), np.float32)
    noise = np.asarray(numpy_rng(rng).normal(0.0, rng.uniform(3.0, 9.0), grey.shape), np.float32)
    out = np.clip(grey * lit + noise, 0, 255).astype(np.uint8)
    return np.asarray(cv2.cvtColor(out, cv2.COLOR_GRAY2BGR), np.uint8)


def _motion_blur(frame: Image, length: int, angle_deg: float) -> Image:
    kernel = np.zeros((length, length), np.float32)
    centre = (length - 1) / 2
    dx, dy = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    for step in np.linspace(-centre, centre, 4 * length):
        kernel[round(centre + step * dy), round(centre + step * dx)] = 1.0
    kernel /= kernel.sum()
    return np.asarray(cv2.filter2D(frame, -1, kernel), np.uint8)


def render_image(seed: int, index: int) -> tuple[Image, SetImage]:
    """Image `index` of the set of `seed`, and what is on it."""
    rng = random.Random(f"kz-set:{seed}:{index}")
    plate_format, two_line, _ = rng.choices(MIX, weights=[w for _, _, w in MIX])[0]
    text = random_text(plate_format, rng)
    plate_w = rng.randint(*(TWO_LINE_WIDTH if two_line else ONE_LINE_WIDTH))
    clean = draw(plate_format, text, 4 * round(plate_w * 0.6), two_line)
    clean = np.clip(clean.astype(np.float32) * rng.uniform(0.85, 1.0), 0, 255).astype(np.uint8)
    dirt = rng.random() < DIRT_SHARE
    if dirt:
        clean = _dirt(clean, rng)
    _, colour = rng.choice(COLOURS)
    bumper = tuple(min(255, round(c * 0.78)) for c in colour)
    roll = rng.uniform(-MAX_ROLL_DEG, MAX_ROLL_DEG)
    yaw = rng.uniform(-MAX_YAW_DEG, MAX_YAW_DEG)
    angled = _angled(clean, roll, yaw, (bumper[0], bumper[1], bumper[2]))
    settings = SceneSettings()
    road = draw_road(Geometry.of(settings), rng)
    # The plate takes about a fifth of a car's width; a vehicle as wide as that makes the plate
    # `plate_w` px wide in the frame.
    share = 0.22 if not two_line else 0.16
    seen_w = round(plate_w * angled.shape[1] / clean.shape[1])
    vehicle_w = round(seen_w / share)
    sprite = draw_vehicle("", colour, vehicle_w, share, rng, plate_image=angled)
    frame = road.copy()
    sprite_h, sprite_w = sprite.image.shape[:2]
    left = rng.randint(-sprite_w // 8, FRAME[0] - sprite_w + sprite_w // 8)
    bottom = rng.randint(FRAME[1] - 200, FRAME[1] + sprite_h // 10)
    top = bottom - sprite_h
    _paste(frame, sprite.image, sprite.alpha, left, top)
    px, py, pw, ph = sprite.plate_box
    box = (left + px, top + py, pw, ph)
    night = rng.random() < NIGHT_SHARE
    if night:
        frame = _night(frame, box, rng)
    blur = rng.randint(*BLUR_PX) if rng.random() < BLUR_SHARE else 0
    if blur:
        frame = _motion_blur(frame, blur, rng.gauss(90.0, 20.0))
    quality = rng.randint(*JPEG_QUALITY)
    described = SetImage(
        f"kz_{seed}_{index:05d}",
        text,
        plate_format.name,
        two_line,
        box,
        night,
        dirt,
        blur,
        round(roll, 1),
        round(yaw, 1),
        quality,
    )
    return frame, described


def _paste(frame: Image, image: Image, alpha: np.ndarray, left: int, top: int) -> None:
    height, width = image.shape[:2]
    fx0, fy0 = max(0, left), max(0, top)
    fx1, fy1 = min(frame.shape[1], left + width), min(frame.shape[0], top + height)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    cut = alpha[fy0 - top : fy1 - top, fx0 - left : fx1 - left][..., None]
    part = image[fy0 - top : fy1 - top, fx0 - left : fx1 - left].astype(np.float32)
    roi = frame[fy0:fy1, fx0:fx1].astype(np.float32)
    frame[fy0:fy1, fx0:fx1] = np.clip(part * cut + roi * (1 - cut), 0, 255).astype(np.uint8)


def write_set(
    out: Path, count: int, seed: int, progress: Callable[[int], None] | None = None
) -> list[SetImage]:
    """Write images 0..count-1 of the set of `seed` into `out`, with index.json."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[SetImage] = []
    for index in range(count):
        frame, described = render_image(seed, index)
        name = f"{described.name}.jpg"
        if not cv2.imwrite(
            str(out / name), frame, [cv2.IMWRITE_JPEG_QUALITY, described.jpeg_quality]
        ):
            raise OSError(f"cannot write {out / name}")
        x, y, w, h = described.box
        (out / f"{described.name}.txt").write_text(
            f"{name}\t{x}\t{y}\t{w}\t{h}\t{described.text}\n", encoding="utf-8"
        )
        written.append(described)
        if progress is not None:
            progress(index + 1)
    index_file = {"seed": seed, "count": count, "images": [asdict(item) for item in written]}
    (out / "index.json").write_text(json.dumps(index_file, indent=1) + "\n", encoding="utf-8")
    return written
