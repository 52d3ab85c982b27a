"""Evaluation scoring: annotation parsing, IoU, exact matching and the summary's shape."""

from __future__ import annotations

import pytest

from models.ocr import Box
from models.scoring import (
    AnnotatedPlate,
    PredictedPlate,
    score_image,
    summarise,
)


def test_iou_of_identical_disjoint_and_half_overlapping_boxes() -> None:
    box = Box(10, 10, 100, 40)
    assert box.iou(box) == 1.0
    assert box.iou(Box(200, 200, 10, 10)) == 0.0
    assert box.iou(Box(110, 10, 100, 40)) == 0.0  # touching edges share no area
    # Shifted by half its width: intersection 50x40, union 150x40.
    assert box.iou(Box(60, 10, 100, 40)) == pytest.approx(1 / 3)


def test_exact_compares_normalised_text_and_detected_needs_iou_above_threshold() -> None:
    truth = [AnnotatedPlate(Box(100, 100, 100, 30), "ABC1234")]
    right_text_far_box = [PredictedPlate(Box(400, 400, 100, 30), "abc 1234")]
    score = score_image("a.jpg", truth, right_text_far_box, 12.0)
    assert (score.exact, score.detected, score.plates) == (1, 0, 1)

    wrong_text_good_box = [PredictedPlate(Box(110, 100, 100, 30), "A8C1234")]
    score = score_image("a.jpg", truth, wrong_text_good_box, 12.0)
    assert (score.exact, score.detected) == (0, 1)

    barely_overlapping = [PredictedPlate(Box(180, 100, 100, 30), "ABC1234")]
    assert truth[0].box.iou(barely_overlapping[0].box) < 0.3
    assert score_image("a.jpg", truth, barely_overlapping, 1.0).detected == 0

    assert score_image("a.jpg", truth, [], 1.0).exact == 0


def test_summary_is_per_plate_fractions_and_median_time() -> None:
    truth = [AnnotatedPlate(Box(0, 0, 10, 10), "AB12")]
    hit = [PredictedPlate(Box(0, 0, 10, 10), "AB12")]
    scores = [
        score_image("1.jpg", truth, hit, 10.0),
        score_image("2.jpg", truth, [], 30.0),
        score_image("3.jpg", truth, hit, 20.0),
        score_image("4.jpg", truth, hit, 1000.0),
    ]
    assert summarise(scores) == {
        "images": 4,
        "plates": 4,
        "exact": 0.75,
        "detected": 0.75,
        "median_ms": 25.0,
    }


def test_summary_of_nothing_is_well_formed() -> None:
    assert summarise([]) == {
        "images": 0,
        "plates": 0,
        "exact": 0.0,
        "detected": 0.0,
        "median_ms": 0.0,
    }
