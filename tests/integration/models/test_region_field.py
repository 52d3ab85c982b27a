"""Russian plates: the region code, smaller and raised in a field of its own at the plate's
right, is read with the number, in layout order (number, then region)."""

from __future__ import annotations

import cv2
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


def rolled(plate: np.ndarray, degrees: float) -> np.ndarray:
    """The plate turned in its plane, as a plate on a tilted bumper shows."""
    height, width = plate.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return np.asarray(cv2.warpAffine(plate, turn, (width, height), borderValue=(60, 62, 64)))


@pytest.mark.parametrize(
    ("plate_format", "text", "height", "degrees"),
    [(RU_CAR_3, "M336PX912", 36, 0.0), (RU_CAR, "K888CK23", 36, 3.0)],
    ids=["three-digit-region", "tilted"],
)
def test_a_number_and_its_region_field_are_cut_apart_at_their_seam(
    reader: PlateReader, plate_format: PlateFormat, text: str, height: int, degrees: float
) -> None:
    # The number's crop is widened to catch its own cut end glyphs; beside its region field
    # it reached into the field (M336PX9 + 912 was no layout, so the number stood alone).
    frame, _ = on_bumper(rolled(draw(plate_format, text, height), degrees))
    plates = reader.read_plates(frame, limit=4)
    assert [(plate.text, plate.format) for plate in plates[:1]] == [(text, plate_format.name)]
