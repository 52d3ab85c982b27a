"""Evidence images that look like what a reviewer sees: a road frame with a car and its plate,
and the plate crop, as real JPEGs."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFont

FRAME_SIZE = (1280, 720)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _spaced(plate: str) -> str:
    return f"{plate[:3]} {plate[3:6]} {plate[6:]}" if len(plate) == 8 else plate


def _draw_plate(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], plate: str) -> None:
    left, top, _, bottom = box
    draw.rectangle(box, fill=(245, 245, 245), outline=(20, 20, 20), width=3)
    height = bottom - top
    draw.rectangle((left + 3, top + 3, left + height // 2, bottom - 3), fill=(0, 150, 200))
    font = ImageFont.load_default(size=int(height * 0.62))
    draw.text(
        (left + height * 0.7, top + height * 0.16), _spaced(plate), fill=(10, 10, 10), font=font
    )


def frame_jpeg(plate: str, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    width, height = FRAME_SIZE
    image = Image.new("RGB", FRAME_SIZE, (92, 96, 100))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 200), fill=(150, 180, 210))  # sky
    for lane in range(1, 4):
        x = lane * width // 4
        draw.polygon(
            [(x - 6, height), (x + 6, height), (width // 2 + 2, 200), (width // 2 - 2, 200)],
            fill=(230, 230, 230),
        )
    colour = tuple(rng.randrange(40, 220) for _ in range(3))
    draw.rounded_rectangle((420, 300, 860, 640), radius=40, fill=colour)  # the car
    draw.rectangle((470, 330, 810, 450), fill=(40, 50, 60))  # windscreen
    _draw_plate(draw, (540, 540, 740, 585), plate)
    draw.text(
        (16, 16),
        f"cam-astana-0007  lane 2  seed {seed}",
        fill=(255, 255, 255),
        font=ImageFont.load_default(size=22),
    )
    return _jpeg(image)


def plate_jpeg(plate: str) -> bytes:
    image = Image.new("RGB", (480, 110), (60, 60, 60))
    _draw_plate(ImageDraw.Draw(image), (10, 10, 470, 100), plate)
    return _jpeg(image)
