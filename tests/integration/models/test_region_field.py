"""Russian plates: the region code, smaller and raised in a field of its own at the plate's
right, is read with the number, in layout order (number, then region)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.box.config import VideoSettings
from models.pipeline import PlateReader
from models.plate_format import RU_CAR, RU_CAR_3, RU_TRAILER, PlateFormat
from models.synth.layouts import draw

PLATE_HEIGHT = 40  # px: a car's plate a few metres from a 720p roadside camera


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return VideoSettings(source="0").plate_reader()  # the box's reader, its defaults


def on_bumper(plate: np.ndarray) -> tuple[np.ndarray, int]:
    """A grey 720p frame with the plate on a darker bumper; and the plate's right edge."""
    frame = np.full((720, 1280, 3), 120, np.uint8)
    frame[380:560, 400:880] = (60, 62, 64)
    height, width = plate.shape[:2]
    top, left = 470 - height // 2, 640 - width // 2
    frame[top : top + height, left : left + width] = plate
    return frame, left + width


@pytest.mark.parametrize(
    ("plate_format", "text"),
    [(RU_CAR, "O362BM99"), (RU_CAR_3, "X309KX258"), (RU_TRAILER, "CX364792")],
    ids=["car-series-letter-o", "car-three-digit-region", "trailer"],
)
def test_a_russian_plate_is_read_whole_with_its_raised_region_code(
    reader: PlateReader, plate_format: PlateFormat, text: str
) -> None:
    frame, right_edge = on_bumper(draw(plate_format, text, PLATE_HEIGHT))
    (plate,) = reader.read_plates(frame, limit=1)
    assert (plate.text, plate.format) == (text, plate_format.name)
    # The reading's box reaches the region field at the plate's right end.
    assert plate.box.x2 >= right_edge - PLATE_HEIGHT // 2
