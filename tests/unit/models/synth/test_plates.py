"""Synthetic Kazakh plates: valid texts per models.plate_format, images deterministic per seed."""

from __future__ import annotations

import random

import numpy as np
import pytest

from models.plate_format import (
    KZ_ORGANISATION,
    KZ_PERSON,
    KZ_REGION_CODES,
    PlateFormat,
    decode,
    fit,
)
from models.synth import (
    Degradation,
    display_text,
    draw_plate,
    parse_plate,
    random_plate_text,
    random_text_in_format,
    render_plate,
)


def test_random_texts_are_valid_kazakh_plates_of_both_formats() -> None:
    rng = random.Random(7)
    texts = [random_plate_text(rng) for _ in range(2000)]
    formats = set()
    for text in texts:
        reading = decode(text)
        assert reading.text == text
        assert reading.substitutions == 0
        assert reading.format in (KZ_PERSON.name, KZ_ORGANISATION.name)
        assert text[-2:] in KZ_REGION_CODES
        assert text[:3] != "000"
        formats.add(reading.format)
    assert formats == {KZ_PERSON.name, KZ_ORGANISATION.name}
    assert {text[-2:] for text in texts} == KZ_REGION_CODES  # every region turns up


@pytest.mark.parametrize("plate_format", [KZ_PERSON, KZ_ORGANISATION])
def test_texts_in_a_given_format_fit_it_exactly(plate_format: PlateFormat) -> None:
    rng = random.Random(1)
    for _ in range(200):
        text = random_text_in_format(plate_format, rng)
        assert fit(text, plate_format, allow_substitution=False) == (text, 0)


def test_same_seed_same_texts_and_images() -> None:
    def sample(seed: int) -> tuple[list[str], list[np.ndarray]]:
        rng = random.Random(seed)
        texts = [random_plate_text(rng) for _ in range(5)]
        images = [render_plate(text, rng, 200, Degradation()) for text in texts]
        return texts, images

    first, second, other = sample(3), sample(3), sample(4)
    assert first[0] == second[0]
    assert all(np.array_equal(a, b) for a, b in zip(first[1], second[1], strict=True))
    assert first[0] != other[0]


def test_rendered_plate_is_a_white_plate_with_dark_characters() -> None:
    image = render_plate("123 ABC 01", random.Random(0), width=260)
    assert image.dtype == np.uint8 and image.shape == (56, 260, 3)
    grey = image.mean(axis=2)
    assert np.mean(grey > 180) > 0.5  # mostly white
    assert np.mean(grey < 80) > 0.15  # with a lot of black ink
    # The flag band at the left is sky blue.
    flag = image[7:11, 4:8].reshape(-1, 3).mean(axis=0)
    assert flag[0] > flag[2] + 60


def test_person_and_organisation_plates_differ_only_in_the_number() -> None:
    person = draw_plate("123ABC01", height=56)
    organisation = draw_plate("123AB01", height=56)
    assert person.shape == organisation.shape
    # The flag and the region box are the same; the number is laid out differently.
    assert np.array_equal(person[:, :27], organisation[:, :27])
    assert np.array_equal(person[:, 206:], organisation[:, 206:])
    assert not np.array_equal(person, organisation)


def test_degradation_changes_the_image_and_keeps_it_a_plate() -> None:
    rng = random.Random(5)
    clean = render_plate("555 KZ 05", random.Random(5), 200)
    degraded = render_plate("555 KZ 05", rng, 200, Degradation(jpeg_probability=1.0))
    assert degraded.dtype == np.uint8 and degraded.ndim == 3
    assert degraded.shape[0] >= clean.shape[0] and degraded.shape[1] >= clean.shape[1]
    assert not np.array_equal(degraded[: clean.shape[0], : clean.shape[1]], clean)


@pytest.mark.parametrize("bad", ["123ABC21", "123ABC00", "ABC1D23", "12ABC01", ""])
def test_non_kazakh_texts_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a Kazakh plate"):
        parse_plate(bad)
    with pytest.raises(ValueError):
        render_plate(bad, random.Random(0))


def test_display_text_groups_as_printed() -> None:
    assert display_text("123abc01") == "123 ABC 01"
    assert display_text("777 AB 02") == "777 AB 02"
