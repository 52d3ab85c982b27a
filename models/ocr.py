"""PP-OCR text detection and recognition run directly on the CPU (models.runtime).

The detector (PP-OCRv4 mobile DB) ships in this repository (models/onnx, Apache-2.0), the
recogniser (PP-OCRv6 small) inside the `rapidocr` wheel (Apache-2.0); see models/manifest.json.
Nothing is downloaded. Only the model files are used, not rapidocr's pipeline: its pipeline
upscales every crop to a 736 px short side, far too slow for plate crops.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from models.runtime import Inference, load_model

Image = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float32]

DETECTION_THRESHOLD = 0.3  # DB probability map binarisation
DETECTION_BOX_THRESHOLD = 0.5  # mean probability inside a box to keep it
DETECTION_UNCLIP_RATIO = 1.6  # DB shrinks text regions during training; grow them back
RECOGNISER_HEIGHT = 48
# PP-OCR recognises lines padded on the right: short crops read unpadded gain and lose
# characters. 192 px reads as well as 320 on the br and us photos at 60% of the cost.
RECOGNISER_MIN_WIDTH = 192
# OpenVINO plans each input shape it has not seen yet (20-70 ms, once): the recogniser's input
# is padded to a multiple of this many pixels so that few widths occur.
SHAPE_STEP = 64
PLATE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# The recogniser's alphabet also holds symbols and Greek capitals drawn like plate characters,
# and gives them for glyphs of a plate: a Russian plate's series letters, smaller than its digits,
# came out as the multiplication sign for X and the circle for O, and were lost. They are read as
# the plate character they look like.
LOOK_ALIKES = str.maketrans("×○〇ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "XOOABEZHIKMNOPTYX")


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in image pixels."""

    x: int
    y: int
    w: int
    h: int

    @property
    def x2(self) -> int:
        return self.x + self.w

    @property
    def y2(self) -> int:
        return self.y + self.h

    def iou(self, other: Box) -> float:
        """Intersection over union, 0 for boxes that do not overlap."""
        inter_w = min(self.x2, other.x2) - max(self.x, other.x)
        inter_h = min(self.y2, other.y2) - max(self.y, other.y)
        if inter_w <= 0 or inter_h <= 0:
            return 0.0
        intersection = inter_w * inter_h
        return intersection / (self.w * self.h + other.w * other.h - intersection)

    def union(self, other: Box) -> Box:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Box(x, y, max(self.x2, other.x2) - x, max(self.y2, other.y2) - y)


@dataclass(frozen=True)
class TextBox:
    box: Box
    score: float


@dataclass(frozen=True)
class TextRead:
    """Recogniser output for one crop, restricted to plate characters (A-Z, 0-9)."""

    text: str
    confidences: tuple[float, ...]


def _normalise(image: Image) -> FloatArray:
    """BGR uint8 HxWx3 -> 1x3xHxW float32 in [-1, 1], as PP-OCR was trained."""
    scaled = image.astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)
    return np.ascontiguousarray(scaled.transpose(2, 0, 1)[np.newaxis])


def _mean_inside(probability_map: FloatArray, corners: FloatArray) -> float:
    """Mean detector probability inside a (rotated) quadrilateral."""
    height, width = probability_map.shape
    x1 = int(np.clip(np.floor(corners[:, 0].min()), 0, width - 1))
    x2 = int(np.clip(np.ceil(corners[:, 0].max()), 0, width - 1))
    y1 = int(np.clip(np.floor(corners[:, 1].min()), 0, height - 1))
    y2 = int(np.clip(np.ceil(corners[:, 1].max()), 0, height - 1))
    mask = np.zeros((y2 - y1 + 1, x2 - x1 + 1), dtype=np.uint8)
    cv2.fillPoly(mask, [(corners - np.array([x1, y1], dtype=np.float32)).astype(np.int32)], 1)
    return float(cv2.mean(probability_map[y1 : y2 + 1, x1 : x2 + 1], mask)[0])


class TextDetector:
    """DB text detector: finds text lines in a whole frame."""

    def __init__(
        self,
        model_path: Path,
        input_side: int = 960,
        inference: Inference = Inference(),
    ) -> None:
        self._model = load_model(model_path, inference)
        self.input_side = input_side
        self.seconds = 0.0  # spent detecting, for the per-stage figures

    @staticmethod
    def input_size(image_shape: tuple[int, ...], input_side: int) -> tuple[int, int]:
        """(width, height) the detector sees an image of `image_shape` at `input_side`: the
        long side at most `input_side` (never enlarged), both multiples of 32."""
        height, width = image_shape[:2]
        ratio = min(1.0, input_side / max(height, width))
        return max(32, round(width * ratio / 32) * 32), max(32, round(height * ratio / 32) * 32)

    def _resize(self, image: Image, input_side: int) -> tuple[Image, float, float]:
        new_w, new_h = self.input_size(image.shape, input_side)
        resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
        height, width = image.shape[:2]
        return resized.astype(np.uint8), width / new_w, height / new_h

    def prepare(self, sizes: Iterable[tuple[int, int]]) -> None:
        """Run once on each (width, height) input: the runtime plans a shape on first sight."""
        for width, height in sizes:
            self._model.run(np.zeros((1, 3, height, width), np.float32))

    def detect(self, image: Image, input_side: int | None = None) -> list[TextBox]:
        """Text lines in `image`, run at `input_side` (long side) or the detector's default."""
        started = time.perf_counter()
        try:
            return self._detect(image, input_side)
        finally:
            self.seconds += time.perf_counter() - started

    def precision(self) -> dict[str, object]:
        return self._model.precision()

    def _detect(self, image: Image, input_side: int | None) -> list[TextBox]:
        resized, scale_x, scale_y = self._resize(image, input_side or self.input_side)
        probability_map: FloatArray = self._model.run(_normalise(resized))[0, 0]
        binary = (probability_map > DETECTION_THRESHOLD).astype(np.uint8)
        mask = cv2.dilate(binary, np.ones((2, 2), np.uint8))
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        image_h, image_w = image.shape[:2]
        boxes: list[TextBox] = []
        for contour in contours:
            (centre_x, centre_y), (rect_w, rect_h), angle = cv2.minAreaRect(contour)
            if min(rect_w, rect_h) < 3:
                continue
            score = _mean_inside(
                probability_map,
                np.asarray(
                    cv2.boxPoints(((centre_x, centre_y), (rect_w, rect_h), angle)), np.float32
                ),
            )
            if score < DETECTION_BOX_THRESHOLD:
                continue
            grow = rect_w * rect_h * DETECTION_UNCLIP_RATIO / (rect_w + rect_h)
            grown = cv2.boxPoints(((centre_x, centre_y), (rect_w + grow, rect_h + grow), angle))
            x1 = max(0, int(grown[:, 0].min() * scale_x))
            y1 = max(0, int(grown[:, 1].min() * scale_y))
            x2 = min(image_w, math.ceil(grown[:, 0].max() * scale_x))
            y2 = min(image_h, math.ceil(grown[:, 1].max() * scale_y))
            if x2 - x1 >= 4 and y2 - y1 >= 4:
                boxes.append(TextBox(Box(x1, y1, x2 - x1, y2 - y1), score))
        return boxes


class TextRecognizer:
    """CTC text recogniser for one line of text (a plate crop)."""

    def __init__(self, model_path: Path, inference: Inference = Inference()) -> None:
        self._model = load_model(model_path, inference)
        characters = self._model.metadata("character")
        if characters is None:
            raise ValueError(
                f"{model_path} carries no character list; it is not a PP-OCR recogniser"
            )
        # Index 0 is the CTC blank; the model appends a space class after its dictionary.
        self._characters = ["", *characters.splitlines(), " "]
        self.seconds = 0.0  # spent reading, for the per-stage figures

    def precision(self) -> dict[str, object]:
        return self._model.precision()

    def prepare(self, widths: Iterable[int]) -> None:
        """Run once on each padded input width (see SHAPE_STEP)."""
        for width in widths:
            self._model.run(np.zeros((1, 3, RECOGNISER_HEIGHT, width), np.float32))

    def read(self, crop: Image) -> TextRead:
        started = time.perf_counter()
        try:
            return self._read(crop)
        finally:
            self.seconds += time.perf_counter() - started

    def _read(self, crop: Image) -> TextRead:
        height, width = crop.shape[:2]
        target_w = max(RECOGNISER_HEIGHT, math.ceil(RECOGNISER_HEIGHT * width / height))
        resized = cv2.resize(crop, (target_w, RECOGNISER_HEIGHT), interpolation=cv2.INTER_LINEAR)
        padded_w = max(RECOGNISER_MIN_WIDTH, math.ceil(target_w / SHAPE_STEP) * SHAPE_STEP)
        batch = np.zeros((1, 3, RECOGNISER_HEIGHT, padded_w), np.float32)
        batch[..., :target_w] = _normalise(resized.astype(np.uint8))
        logits = self._model.run(batch)
        best = logits[0].argmax(axis=1)
        probabilities = logits[0].max(axis=1)
        text: list[str] = []
        confidences: list[float] = []
        previous = -1
        for index, probability in zip(best.tolist(), probabilities.tolist(), strict=True):
            if index != previous and index != 0:
                char = self._characters[index].upper().translate(LOOK_ALIKES)
                if char in PLATE_CHARACTERS:
                    text.append(char)
                    confidences.append(float(probability))
            previous = index
        return TextRead("".join(text), tuple(confidences))
