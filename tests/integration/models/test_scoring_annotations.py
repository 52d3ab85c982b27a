"""Evaluation scoring: the ground-truth annotation file is parsed line by line (a real file,
hence integration; the pure scoring is in tests/unit/models/test_scoring.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.ocr import Box
from models.scoring import AnnotatedPlate, parse_annotations


def test_parse_annotations_normalises_text_and_reads_every_line(tmp_path: Path) -> None:
    path = tmp_path / "car.txt"
    path.write_text("car.jpg\t10\t20\t30\t15\tabc-1234\ncar.jpg\t50\t60\t30\t15\t7 XY 12\n")
    plates = parse_annotations(path)
    assert plates == [
        AnnotatedPlate(Box(10, 20, 30, 15), "ABC1234"),
        AnnotatedPlate(Box(50, 60, 30, 15), "7XY12"),
    ]


def test_parse_annotations_explains_a_malformed_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("bad.jpg 10 20 30 15 ABC1234\n")
    with pytest.raises(ValueError, match="line 1: expected 6 tab-separated fields"):
        parse_annotations(path)
