"""Two-line plates (square rear plates, motorcycles) are read as one plate, top line first."""

from __future__ import annotations

import numpy as np
import pytest

from edge.box.config import VideoSettings
from models.pipeline import PlateReader
from models.plate_format import KAZAKH_ROADS, KZ_PERSON, RU_MOTORCYCLE, PlateFormat
from models.synth.layouts import draw


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    reader = VideoSettings(source="0").plate_reader()  # the box's reader, its defaults
    assert reader.expected == KAZAKH_ROADS
    return reader


def scene_with(plate: np.ndarray) -> np.ndarray:
    """A grey 720p frame with the plate on a darker bumper a little below the centre."""
    frame = np.full((720, 1280, 3), 120, np.uint8)
    frame[380:560, 480:800] = (60, 62, 64)
    height, width = plate.shape[:2]
    top, left = 470 - height // 2, 640 - width // 2
    frame[top : top + height, left : left + width] = plate
    return frame


@pytest.mark.parametrize(
    ("plate_format", "text"),
    [(KZ_PERSON, "507SKA02"), (RU_MOTORCYCLE, "4826TX61")],
    ids=["kazakh-square", "russian-motorcycle"],
)
def test_a_two_line_plate_is_read_top_line_then_bottom_line(
    reader: PlateReader, plate_format: PlateFormat, text: str
) -> None:
    frame = scene_with(draw(plate_format, text, 96, two_line=True))
    (plate,) = reader.read_plates(frame, limit=1)
    assert (plate.text, plate.format) == (text, plate_format.name)
    # The box spans both lines: the plate's height, not one line's.
    assert plate.box.h > 0.6 * 96
