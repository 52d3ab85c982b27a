"""Scoring of plate readings against annotations (pure; used by `python -m models.evaluate`).

Annotation files follow ../shared/plates: one line per plate, tab-separated
`<image file>\t<x>\t<y>\t<w>\t<h>\t<TEXT>`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.ocr import Box
from models.plate_format import normalise

DETECTION_IOU = 0.3


@dataclass(frozen=True)
class AnnotatedPlate:
    box: Box
    text: str  # normalised: upper case, A-Z and 0-9 only


@dataclass(frozen=True)
class PredictedPlate:
    box: Box
    text: str


@dataclass(frozen=True)
class ImageScore:
    name: str
    plates: int
    exact: int
    detected: int
    milliseconds: float
    predicted: tuple[str, ...]
    expected: tuple[str, ...]


def parse_annotations(path: Path) -> list[AnnotatedPlate]:
    plates: list[AnnotatedPlate] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) != 6:
            raise ValueError(
                f"{path}, line {number}: expected 6 tab-separated fields "
                f"(file, x, y, w, h, text), found {len(fields)}"
            )
        try:
            x, y, w, h = (int(float(value)) for value in fields[1:5])
        except ValueError as error:
            raise ValueError(f"{path}, line {number}: the box is not four numbers") from error
        plates.append(AnnotatedPlate(Box(x, y, w, h), normalise(fields[5])))
    return plates


def score_image(
    name: str,
    annotations: Sequence[AnnotatedPlate],
    predictions: Sequence[PredictedPlate],
    milliseconds: float,
) -> ImageScore:
    """An annotated plate is read exactly when some prediction has its text, detected when
    some prediction overlaps its box with IoU above 0.3."""
    predicted_texts = {normalise(prediction.text) for prediction in predictions}
    exact = sum(plate.text in predicted_texts for plate in annotations)
    detected = sum(
        any(plate.box.iou(prediction.box) > DETECTION_IOU for prediction in predictions)
        for plate in annotations
    )
    return ImageScore(
        name,
        len(annotations),
        exact,
        detected,
        milliseconds,
        tuple(prediction.text for prediction in predictions),
        tuple(plate.text for plate in annotations),
    )


def summarise(scores: Sequence[ImageScore]) -> dict[str, Any]:
    plates = sum(score.plates for score in scores)
    return {
        "images": len(scores),
        "plates": plates,
        "exact": round(sum(score.exact for score in scores) / plates, 4) if plates else 0.0,
        "detected": round(sum(score.detected for score in scores) / plates, 4) if plates else 0.0,
        "median_ms": round(statistics.median(s.milliseconds for s in scores), 1) if scores else 0.0,
    }
