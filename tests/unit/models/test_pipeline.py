"""Candidate lines: text boxes split at separators are merged back into one plate line."""

from __future__ import annotations

import numpy as np

from models.lines import candidate_boxes, region_field_boxes, region_fields, stacked_lines
from models.ocr import Box, TextBox
from models.pipeline import candidate_score
from models.plate_format import TWO_LINE_FORMATS, FormatFamily, decode
from models.regions import crop_with_margin


def boxes(*rects: tuple[int, int, int, int]) -> list[TextBox]:
    return [TextBox(Box(*rect), 0.9) for rect in rects]


def test_neighbours_on_one_line_are_merged_in_runs_of_up_to_three() -> None:
    # "123" "ABC" "01": three parts of one plate, 8-10 px apart, same height.
    parts = boxes((100, 50, 40, 20), (150, 50, 45, 20), (205, 51, 25, 19))
    candidates = candidate_boxes(parts)
    assert Box(100, 50, 95, 20) in candidates  # first two
    assert Box(150, 50, 80, 20) in candidates  # last two
    assert Box(100, 50, 130, 20) in candidates  # all three
    assert len(candidates) == 3 + 3


def test_boxes_on_other_lines_or_far_away_or_of_other_height_are_not_merged() -> None:
    lower_line = boxes((100, 50, 40, 20), (150, 90, 40, 20))
    far_apart = boxes((100, 50, 40, 20), (400, 50, 40, 20))
    much_taller = boxes((100, 50, 40, 20), (145, 30, 60, 60))
    for separate in (lower_line, far_apart, much_taller):
        assert len(candidate_boxes(separate)) == 2


def test_score_prefers_plate_like_text_in_a_plate_shaped_box() -> None:
    plate_box, square_box = Box(0, 0, 120, 30), Box(0, 0, 40, 40)
    plate = decode("123ABC01", [0.95] * 8, (FormatFamily.KZ,))
    word = decode("PENSKE", [0.99] * 6, (FormatFamily.KZ,))
    unsure = decode("123ABC01", [0.95] * 7 + [0.1], (FormatFamily.KZ,))
    assert candidate_score(plate, plate_box) > candidate_score(word, plate_box) > 0
    assert candidate_score(plate, plate_box) > candidate_score(plate, square_box)
    assert candidate_score(unsure, plate_box) == 0.0
    assert candidate_score(decode("AB"), plate_box) == 0.0


def test_crops_are_widened_by_a_share_of_their_height_within_the_image() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    assert crop_with_margin(image, Box(50, 10, 60, 20), margin=0.5).shape == (20, 80, 3)
    assert crop_with_margin(image, Box(0, 10, 195, 20), margin=0.5).shape == (20, 200, 3)


def test_two_stacked_lines_of_one_plate_pair_up_top_first() -> None:
    # A square plate: "1234" over "AB77", like heights, aligned, a few pixels apart.
    top, bottom = Box(100, 50, 60, 24), Box(96, 80, 70, 24)
    assert stacked_lines([bottom, top]) == [(top, bottom)]


def test_lines_side_by_side_far_apart_or_of_other_height_do_not_stack() -> None:
    top = Box(100, 50, 60, 24)
    beside = Box(200, 80, 60, 24)  # below but not under it
    far_below = Box(100, 140, 60, 24)
    small_print = Box(100, 80, 60, 10)  # a slogan under the number
    for other in (beside, far_below, small_print):
        assert stacked_lines([top, other]) == []


def test_a_two_line_layout_is_known_and_scored_by_its_lines_shape() -> None:
    reading = decode("1234" + "AB77", [0.95] * 8, (FormatFamily.RU,))
    assert (reading.text, reading.format) == ("1234AB77", "ru_motorcycle")
    assert reading.format in TWO_LINE_FORMATS
    assert candidate_score(reading, Box(0, 0, 70, 24)) > candidate_score(reading, Box(0, 0, 70, 58))


def test_a_raised_smaller_region_field_right_of_a_number_pairs_with_it() -> None:
    # A Russian plate: "A123BC" 35 px high, the region "77" 22 px high, raised, in its box.
    number, region = Box(100, 50, 100, 35), Box(215, 46, 30, 22)
    assert region_fields([number, region]) == [(number, region)]
    # Far to the right, below the line, or as tall as the number: no region field of it.
    for other in (Box(300, 46, 30, 22), Box(215, 80, 30, 22), Box(215, 50, 30, 35)):
        assert region_fields([number, other]) == []


def test_a_region_field_is_looked_for_beside_the_number_and_at_its_right_end() -> None:
    number = Box(100, 50, 100, 40)
    beside, inside = region_field_boxes(number, (720, 1280, 3))
    # Beside: from just before the number's end to 1.6 line heights right of it, the top
    # part of the line (the field is raised, "RUS" under it).
    assert (beside.x, beside.x2) == (196, 264)
    assert beside.y < number.y and beside.y2 < number.y2
    # Inside: the box's own last quarter or so, where a box spanning the whole plate ends.
    assert inside.x2 == number.x2 and number.x < inside.x < number.x2
    # At the frame's edge the fields are clipped to it.
    at_edge = region_field_boxes(Box(1200, 0, 70, 40), (720, 1280, 3))
    assert all(field.x2 <= 1280 and field.y >= 0 for field in at_edge)
