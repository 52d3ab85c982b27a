"""Synthetic Kazakh licence plates: random valid texts and images that look like the real plate.

The 2012 plate is 520 x 112 mm: white, a black border, the sky-blue flag (golden sun and eagle)
with "KZ" under it at the left, the number in black condensed bold characters (`123 ABC` for
persons, `123 AB` for organisations) and the two-digit region code in its own box at the right.

Characters are drawn with the FreeType font Pillow ships inside its wheel (Aileron, via
`ImageFont.load_default(size=...)`), thickened with a stroke and squeezed into fixed cells, so
no system font is needed and an image is the same on every machine for the same seed. Any other
TrueType file can be passed as `font_path`.

Everything random is drawn from the caller's `random.Random`, so a seed gives the same image.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from models.plate_format import (
    DIGIT,
    KZ_ORGANISATION,
    KZ_PERSON,
    KZ_REGION_CODES,
    LETTER,
    REGION,
    PlateFormat,
    fit,
    normalise,
)

Image = npt.NDArray[np.uint8]

PLATE_MM = (520, 112)
KZ_FORMATS: tuple[PlateFormat, ...] = (KZ_PERSON, KZ_ORGANISATION)
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
REGIONS: tuple[str, ...] = tuple(sorted(KZ_REGION_CODES))

# Colours in BGR.
WHITE = (250, 250, 250)
INK = (22, 22, 22)
FLAG_BLUE = (202, 175, 0)  # Kazakh flag sky blue, #00AFCA
FLAG_GOLD = (20, 195, 254)  # #FEC50C

# Layout in millimetres on the 520 x 112 plate.
BORDER_MM = 2.5
FLAG_X = (7.0, 50.0)
FLAG_Y = (12.0, 58.0)
KZ_Y = (65.0, 99.0)
MAIN_X = (58.0, 412.0)
REGION_X = (420.0, 513.0)
CHAR_Y = (16.0, 96.0)
CHAR_W = 44.0
CHAR_GAP = 4.0
GROUP_GAP = 18.0
REGION_CHAR_Y = (20.0, 92.0)
REGION_CHAR_W = 38.0


def random_plate_text(rng: random.Random, organisation_share: float = 0.2) -> str:
    """A random valid Kazakh plate, normalised (`123ABC01`, or `123AB01` for organisations).

    Every string returned fits `models.plate_format.KZ_PERSON` or `KZ_ORGANISATION` exactly.
    """
    plate_format = KZ_ORGANISATION if rng.random() < organisation_share else KZ_PERSON
    return random_text_in_format(plate_format, rng)


def random_text_in_format(plate_format: PlateFormat, rng: random.Random) -> str:
    """A random text for one of the Kazakh layouts (digits, letters, a valid region code)."""
    if plate_format not in KZ_FORMATS:
        raise ValueError(f"{plate_format.name} is not a Kazakh plate format")
    out: list[str] = []
    layout = plate_format.layout
    number = rng.randrange(1, 1000)  # 000 is not issued
    digits = iter(f"{number:03d}")
    region = iter(rng.choice(REGIONS))
    for wanted in layout:
        if wanted == DIGIT:
            out.append(next(digits))
        elif wanted == LETTER:
            out.append(rng.choice(LETTERS))
        elif wanted == REGION:
            out.append(next(region))
    return "".join(out)


def parse_plate(text: str) -> tuple[str, PlateFormat]:
    """A plate text (spaces allowed) as normalised text and its Kazakh format, or ValueError."""
    cleaned = normalise(text)
    for plate_format in KZ_FORMATS:
        if fit(cleaned, plate_format, allow_substitution=False) is not None:
            return cleaned, plate_format
    raise ValueError(
        f"{text!r} is not a Kazakh plate: expected 123 ABC 01 or 123 AB 01 with a region code 01-20"
    )


def display_text(text: str) -> str:
    """`123ABC01` -> `123 ABC 01`, as printed on the plate."""
    cleaned, plate_format = parse_plate(text)
    letters = len(plate_format.layout) - 5
    return f"{cleaned[:3]} {cleaned[3 : 3 + letters]} {cleaned[3 + letters :]}"


@dataclass(frozen=True)
class Degradation:
    """Camera effects applied to a rendered plate; each is drawn from its range per image.

    A range of (0, 0) (or a probability of 0) switches an effect off.
    """

    perspective: float = 0.06  # max corner displacement, as a share of the plate height/width
    blur_sigma: tuple[float, float] = (0.0, 1.2)
    noise_sigma: tuple[float, float] = (0.0, 8.0)  # grey levels
    brightness: tuple[float, float] = (0.65, 1.15)  # multiplies the image
    contrast: tuple[float, float] = (0.75, 1.0)  # pulls towards mid grey
    jpeg_quality: tuple[int, int] = (35, 95)
    jpeg_probability: float = 0.7


NO_DEGRADATION = Degradation(
    perspective=0.0,
    blur_sigma=(0.0, 0.0),
    noise_sigma=(0.0, 0.0),
    brightness=(1.0, 1.0),
    contrast=(1.0, 1.0),
    jpeg_probability=0.0,
)


@functools.lru_cache(maxsize=16)
def _font(size: int, font_path: str | None) -> ImageFont.FreeTypeFont:
    if font_path is not None:
        return ImageFont.truetype(font_path, size)
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError(
            "Pillow was built without FreeType, so its bundled font cannot be scaled; "
            "pass a TrueType file as font_path"
        )
    return font


@functools.lru_cache(maxsize=256)
def _glyph(char: str, width: int, height: int, font_path: str | None) -> Image:
    """The character's ink as a grey mask (255 = ink) filling a width x height cell."""
    size = 4 * height
    font = _font(size, font_path)
    stroke = max(1, round(size * 0.045))
    canvas = PILImage.new("L", (3 * size, 2 * size), 0)
    ImageDraw.Draw(canvas).text(
        (size // 2, size // 4), char, font=font, fill=255, stroke_width=stroke, stroke_fill=255
    )
    ink = np.asarray(canvas, dtype=np.uint8)
    ys, xs = np.nonzero(ink > 127)
    if len(xs) == 0:
        raise ValueError(f"the font has no glyph for {char!r}")
    ink = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    # A narrow glyph (1, I) keeps its own width, centred; the others fill the cell (condensed).
    glyph_w = min(width, max(1, round(ink.shape[1] * height / ink.shape[0])))
    if char not in "1I":
        glyph_w = width
    scaled = cv2.resize(ink, (glyph_w, height), interpolation=cv2.INTER_AREA)
    cell = np.zeros((height, width), np.uint8)
    left = (width - glyph_w) // 2
    cell[:, left : left + glyph_w] = scaled
    return cell


def _stamp(canvas: Image, mask: Image, x: int, y: int, colour: tuple[int, int, int]) -> None:
    """Blend `colour` into `canvas` at (x, y) with `mask` as coverage."""
    height, width = mask.shape
    region = canvas[y : y + height, x : x + width].astype(np.float32)
    alpha = (mask.astype(np.float32) / 255.0)[..., np.newaxis]
    blended = region * (1.0 - alpha) + np.array(colour, np.float32) * alpha
    canvas[y : y + height, x : x + width] = blended.astype(np.uint8)


def _draw_text(
    canvas: Image,
    text: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    char_w: float,
    gaps: list[float],
    scale: float,
    font_path: str | None,
    colour: tuple[int, int, int],
) -> None:
    """Draw `text` centred in x_range; gaps[i] is the space before character i+1 (mm)."""
    total = char_w * len(text) + sum(gaps)
    x = (x_range[0] + x_range[1] - total) / 2
    top, height = round(y_range[0] * scale), round((y_range[1] - y_range[0]) * scale)
    width = round(char_w * scale)
    for index, char in enumerate(text):
        if char != " ":
            _stamp(canvas, _glyph(char, width, height, font_path), round(x * scale), top, colour)
        x += char_w + (gaps[index] if index < len(gaps) else 0.0)


def _draw_flag(canvas: Image, scale: float) -> None:
    def px(value: float) -> int:
        return round(value * scale)

    cv2.rectangle(
        canvas, (px(FLAG_X[0]), px(FLAG_Y[0])), (px(FLAG_X[1]), px(FLAG_Y[1])), FLAG_BLUE, -1
    )
    centre_x, centre_y = (FLAG_X[0] + FLAG_X[1]) / 2, FLAG_Y[0] + 17.0
    for ray in range(16):
        angle = 2 * math.pi * ray / 16
        cv2.line(
            canvas,
            (px(centre_x + 7 * math.cos(angle)), px(centre_y + 7 * math.sin(angle))),
            (px(centre_x + 11 * math.cos(angle)), px(centre_y + 11 * math.sin(angle))),
            FLAG_GOLD,
            max(1, px(1.2)),
            cv2.LINE_AA,
        )
    cv2.circle(canvas, (px(centre_x), px(centre_y)), px(6), FLAG_GOLD, -1, cv2.LINE_AA)
    wing = np.array(
        [
            (centre_x - 16, centre_y + 14),
            (centre_x - 4, centre_y + 21),
            (centre_x, centre_y + 19),
            (centre_x + 4, centre_y + 21),
            (centre_x + 16, centre_y + 14),
            (centre_x + 3, centre_y + 25),
            (centre_x - 3, centre_y + 25),
        ]
    )
    cv2.fillPoly(canvas, [np.round(wing * scale).astype(np.int32)], FLAG_GOLD, cv2.LINE_AA)


def draw_plate(text: str, height: int = 112, font_path: str | Path | None = None) -> Image:
    """The clean plate (no camera effects) as BGR, `height` pixels high (520:112 aspect)."""
    cleaned, plate_format = parse_plate(text)
    font = None if font_path is None else str(font_path)
    scale = height / PLATE_MM[1]
    width = round(PLATE_MM[0] * scale)
    canvas = np.full((height, width, 3), WHITE, np.uint8)
    border = max(1, round(BORDER_MM * scale))
    radius = round(4 * scale)
    # A rounded black frame: the plate edge, then the white face inside it.
    canvas[:] = INK
    inner = np.zeros((height, width), np.uint8)
    cv2.rectangle(
        inner, (border + radius, border), (width - border - radius, height - border), 255, -1
    )
    cv2.rectangle(
        inner, (border, border + radius), (width - border, height - border - radius), 255, -1
    )
    for cx in (border + radius, width - border - radius):
        for cy in (border + radius, height - border - radius):
            cv2.circle(inner, (cx, cy), radius, 255, -1, cv2.LINE_AA)
    canvas[inner > 127] = WHITE
    separator_x = round((REGION_X[0] - 4) * scale)
    cv2.line(canvas, (separator_x, border), (separator_x, height - border), INK, max(1, border - 1))
    _draw_flag(canvas, scale)
    _draw_text(canvas, "KZ", FLAG_X, KZ_Y, 19.0, [2.0], scale, font, INK)
    letters = len(plate_format.layout) - 5
    number = cleaned[: 3 + letters]
    gaps = [CHAR_GAP] * (len(number) - 1)
    gaps[2] = GROUP_GAP
    _draw_text(canvas, number, MAIN_X, CHAR_Y, CHAR_W, gaps, scale, font, INK)
    region = cleaned[3 + letters :]
    _draw_text(canvas, region, REGION_X, REGION_CHAR_Y, REGION_CHAR_W, [5.0], scale, font, INK)
    return canvas


def numpy_rng(rng: random.Random) -> np.random.Generator:
    """A numpy generator seeded from `rng` (advancing it), for array-valued randomness."""
    return np.random.default_rng(rng.getrandbits(64))


def degrade(image: Image, rng: random.Random, settings: Degradation = Degradation()) -> Image:
    """Apply perspective, brightness/contrast, blur, noise and JPEG, each drawn from `rng`."""
    out = image
    height, width = out.shape[:2]
    if settings.perspective > 0:
        jitter = settings.perspective
        source = np.array([(0, 0), (width, 0), (width, height), (0, height)], np.float32)
        target = source + np.array(
            [
                (rng.uniform(-jitter, jitter) * height, rng.uniform(-jitter, jitter) * height)
                for _ in range(4)
            ],
            np.float32,
        )
        margin_x, margin_y = round(jitter * height * 1.5) + 2, round(jitter * height * 1.5) + 2
        target += np.array((margin_x, margin_y), np.float32)
        matrix = cv2.getPerspectiveTransform(source, target)
        background = tuple(int(rng.uniform(40, 160)) for _ in range(3))
        warped = cv2.warpPerspective(
            out,
            matrix,
            (width + 2 * margin_x, height + 2 * margin_y),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=background,
        )
        out = np.asarray(warped, np.uint8)
    values = out.astype(np.float32)
    contrast = rng.uniform(*settings.contrast)
    values = (values - 128.0) * contrast + 128.0
    values *= rng.uniform(*settings.brightness)
    sigma = rng.uniform(*settings.blur_sigma)
    if sigma > 0.05:
        values = np.asarray(cv2.GaussianBlur(values, (0, 0), sigma), np.float32)
    noise = rng.uniform(*settings.noise_sigma)
    if noise > 0:
        values += numpy_rng(rng).normal(0.0, noise, values.shape).astype(np.float32)
    out = np.clip(values, 0, 255).astype(np.uint8)
    if rng.random() < settings.jpeg_probability:
        quality = rng.randint(*settings.jpeg_quality)
        ok, buffer = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            decoded = cv2.imdecode(np.frombuffer(buffer.tobytes(), np.uint8), cv2.IMREAD_COLOR)
            if decoded is not None:
                out = np.asarray(decoded, dtype=np.uint8)
    return out


def render_plate(
    text: str,
    rng: random.Random,
    width: int = 260,
    degradation: Degradation | None = None,
    font_path: str | Path | None = None,
) -> Image:
    """A plate image (BGR uint8) `width` pixels wide, optionally degraded.

    The plate is drawn at a higher resolution and scaled down (as a camera sees it), with a
    slightly varied ink and face shade drawn from `rng`; `degradation` adds camera effects.
    """
    if width < 20:
        raise ValueError("a plate narrower than 20 px carries no readable text")
    height = max(8, round(width * PLATE_MM[1] / PLATE_MM[0]))
    supersample = max(112, 3 * height)
    clean = draw_plate(text, supersample, font_path)
    shade = rng.uniform(0.9, 1.0)
    clean = np.clip(clean.astype(np.float32) * shade, 0, 255).astype(np.uint8)
    plate = np.asarray(cv2.resize(clean, (width, height), interpolation=cv2.INTER_AREA), np.uint8)
    if degradation is None:
        return plate
    return degrade(plate, rng, degradation)
