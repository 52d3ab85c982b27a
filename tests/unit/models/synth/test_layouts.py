"""Plates of a Kazakh road drawn to their layouts, and the evaluation set's images (in memory)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from models.plate_format import (
    FORMATS,
    KZ_PERSON,
    RU_CAR,
    RU_MOTORCYCLE,
    UZ_PERSON,
    FormatFamily,
    PlateFormat,
    fit,
)
from models.synth.glyphs import STROKES, glyph
from models.synth.kzset import FRAME, MIX, random_text, render_image
from models.synth.layouts import design, draw

NEIGHBOURS = (FormatFamily.KZ, FormatFamily.RU, FormatFamily.KG, FormatFamily.UZ)
ROAD_FORMATS = [f for f in FORMATS if f.family in NEIGHBOURS]


def test_the_typeface_draws_every_digit_and_latin_letter_with_ink_inside_the_cell() -> None:
    for char in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZУ":
        mask = glyph(char, 44, 76)
        assert mask.shape == (76, 44)
        ink = mask > 127
        assert 0.08 < ink.mean() < 0.7, char  # strokes, neither a blob nor nothing
        assert ink[:, :3].any() or ink[:, -3:].any() or char in "1I", char
    assert set(STROKES) >= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_look_alike_characters_are_drawn_differently() -> None:
    for first, second in (("0", "O"), ("1", "I"), ("8", "B"), ("5", "S"), ("2", "Z"), ("Y", "У")):
        difference = np.abs(glyph(first, 44, 76).astype(int) - glyph(second, 44, 76)).mean()
        assert difference > 10, (first, second)


@pytest.mark.parametrize("plate_format", ROAD_FORMATS, ids=lambda f: f"{f.name}-{f.layout}")
def test_random_texts_fit_their_layout_exactly(plate_format: PlateFormat) -> None:
    rng = random.Random(3)
    for _ in range(50):
        text = random_text(plate_format, rng)
        assert fit(text, plate_format, allow_substitution=False) == (text, 0)
        assert set(c for c in text if c.isalpha()) <= set(plate_format.letters)


@pytest.mark.parametrize("plate_format", ROAD_FORMATS, ids=lambda f: f"{f.name}-{f.layout}")
def test_every_layout_is_drawn_within_its_plate_in_each_of_its_forms(
    plate_format: PlateFormat,
) -> None:
    text = random_text(plate_format, random.Random(1))
    forms = [
        two for two in (False, True) if (plate_format.top_line if two else plate_format.one_line)
    ]
    assert forms
    for two_line in forms:
        plate = design(plate_format, text, two_line)
        width, height = plate.size
        drawn = "".join(field.text.replace(" ", "") for field in plate.fields)
        # The plate's characters in reading order, then the country mark (KZ, RUS ...).
        assert drawn.startswith(text) or text in drawn.replace("KZ", "", 1).replace("KG", "")
        for field in plate.fields:
            assert 0 <= field.x[0] < field.x[1] <= width
            assert field.top >= 0 and field.top + field.size[1] <= height
        image = draw(plate_format, text, 112, two_line)
        assert image.shape == (112, round(width * 112 / height), 3)


def test_the_two_line_forms_and_the_single_line_refusals() -> None:
    assert design(KZ_PERSON, "123ABC01", True).size == (290, 170)
    assert design(RU_MOTORCYCLE, "1234AB77", True).size == (245, 160)
    top_line = design(RU_CAR, "A123BC77", True).fields
    assert "".join(field.text for field in top_line[:2]) == "A123"
    with pytest.raises(ValueError, match="two lines only"):
        design(RU_MOTORCYCLE, "1234AB77", False)
    with pytest.raises(ValueError, match="not made in two lines"):
        design(UZ_PERSON, "01A123BC", True)


def test_the_set_mixes_kazakh_plates_first_with_the_neighbours_and_two_line_plates() -> None:
    weights: dict[str, float] = {}
    for plate_format, two_line, weight in MIX:
        key = plate_format.family.value + ("2" if two_line else "")
        weights[key] = weights.get(key, 0.0) + weight
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights["kz"] + weights["kz2"] > 0.5
    assert {"ru", "kg", "uz", "kz2", "ru2"} <= set(weights)


def test_an_image_of_the_set_depends_only_on_seed_and_index() -> None:
    frame, described = render_image(7, 3)
    again, described_again = render_image(7, 3)
    other, _ = render_image(8, 3)
    assert described == described_again and np.array_equal(frame, again)
    assert not np.array_equal(frame, other)
    assert frame.shape == (FRAME[1], FRAME[0], 3)
    x, y, w, h = described.box
    assert x >= 0 and y >= 0 and x + w <= FRAME[0] and y + h <= FRAME[1] and w > 60
