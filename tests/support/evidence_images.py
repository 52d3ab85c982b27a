"""Evidence images for tests and benches: real JPEGs of a plate drawn on a noisy road scene.

The camera box's own pipeline makes its evidence from video frames (edge/video); tests that
need a valid JPEG without running it take one from here.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw


def evidence_jpeg(text: str, size: tuple[int, int] = (320, 180), seed: int = 0) -> bytes:
    """A real JPEG (decodable by any viewer) with the text drawn on noise, unique per seed."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(image)
    for _ in range(20):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.rectangle((x, y, x + 12, y + 8), fill=(rng.randrange(256), 0, rng.randrange(256)))
    draw.rectangle(
        (size[0] // 2 - 60, size[1] // 2 - 14, size[0] // 2 + 60, size[1] // 2 + 14),
        fill=(240, 240, 240),
        outline=(0, 0, 0),
    )
    draw.text((size[0] // 2 - 50, size[1] // 2 - 6), text, fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()
