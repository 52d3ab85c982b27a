"""The recogniser's look-alike symbols are read as the plate characters they look like."""

from __future__ import annotations

from models.ocr import LOOK_ALIKES, PLATE_CHARACTERS


def test_symbols_and_greek_capitals_drawn_like_plate_characters_read_as_them() -> None:
    # A Russian plate's small series letters come out as the multiplication sign and a circle.
    assert "×309KX".translate(LOOK_ALIKES) == "X309KX"
    assert "○〇".translate(LOOK_ALIKES) == "OO"
    assert "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ".translate(LOOK_ALIKES) == "ABEZHIKMNOPTYX"
    assert set("×○〇ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ".translate(LOOK_ALIKES)) <= PLATE_CHARACTERS
