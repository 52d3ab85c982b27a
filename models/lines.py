"""Candidate text lines on a plate, from the detector's boxes: merges of neighbouring boxes on
one line, two stacked lines of one plate, a region field beside its number, and where a region
field can stand when the detector found no box for it. Pure geometry (no models).
"""

from __future__ import annotations

from collections.abc import Sequence

from models.ocr import Box, TextBox

# Plates split at separators, emblems and the region box: runs of up to this many boxes on one
# line are candidates too.
MAX_MERGED_BOXES = 3
# Two-line plates (motorcycles, trailers, square rear plates) show as two text lines stacked on
# one plate: lines of like height (the taller at most STACK_HEIGHT_RATIO times the shorter),
# overlapping horizontally by at least half the narrower, at most STACK_MAX_GAP line heights
# apart (centre to centre: a line height plus that gap). They are read as one candidate, top
# line then bottom, kept only when the joined text
# is a layout that comes on two lines (models.plate_format.TWO_LINE_FORMATS): two unrelated
# stacked strings (a slogan under a number) would otherwise make plate-like text of their own.
STACK_HEIGHT_RATIO = 1.6
STACK_MAX_GAP = 0.6
# Kazakh and Russian plates print the region code in a field of its own at the right, Russian
# ones smaller and raised: the detector often finds no box for it, or one box for the whole
# plate that the recogniser reads without the field. A line read as the number of such a layout
# is read once more with the field: where it stands beside the line (from REGION_BESIDE[0] to
# REGION_BESIDE[1] line heights right of its end, the top REGION_TOP of its height) and where
# it is the line's own right end (the last REGION_INSIDE of its width, the same height).
REGION_BESIDE = (-0.1, 1.6)
REGION_INSIDE = 0.27
REGION_TOP = (-0.1, 0.8)


def _same_line(left: Box, right: Box) -> bool:
    """Whether `right` continues the text line of `left` (similar height, aligned, close)."""
    taller, shorter = max(left.h, right.h), min(left.h, right.h)
    if shorter * 1.6 < taller:
        return False
    overlap = min(left.y2, right.y2) - max(left.y, right.y)
    if overlap < 0.5 * shorter:
        return False
    gap = right.x - left.x2
    return -0.3 * shorter <= gap <= 1.2 * taller


def candidate_boxes(boxes: Sequence[TextBox]) -> list[Box]:
    """Each text box alone, plus runs of 2-3 neighbouring boxes on one line."""
    ordered = sorted((text_box.box for text_box in boxes), key=lambda box: box.x)
    candidates = list(ordered)
    for start, first in enumerate(ordered):
        run = first
        last = first
        count = 1
        for following in ordered[start + 1 :]:
            if count == MAX_MERGED_BOXES:
                break
            if following.x > last.x2 + 1.2 * max(last.h, following.h):
                break
            if _same_line(last, following):
                run = run.union(following)
                last = following
                count += 1
                candidates.append(run)
    return candidates


def stacked_lines(lines: Sequence[Box]) -> list[tuple[Box, Box]]:
    """(top, bottom) pairs of candidate lines that could be the two lines of one plate."""
    pairs: list[tuple[Box, Box]] = []
    for top in lines:
        for bottom in lines:
            taller, shorter = max(top.h, bottom.h), min(top.h, bottom.h)
            if bottom.y <= top.y or shorter * STACK_HEIGHT_RATIO < taller:
                continue
            # Centre to centre: the detector's boxes are padded and overlap by up to a third.
            apart = (bottom.y + bottom.h / 2) - (top.y + top.h / 2)
            if not 0.5 * taller <= apart <= (1 + STACK_MAX_GAP) * taller:
                continue
            overlap = min(top.x2, bottom.x2) - max(top.x, bottom.x)
            if overlap >= 0.5 * min(top.w, bottom.w):
                pairs.append((top, bottom))
    return pairs


def region_fields(lines: Sequence[Box]) -> list[tuple[Box, Box]]:
    """(line, region) pairs: a smaller, raised text box just right of a line, as Russian plates
    print their region code (in a box at the right, above "RUS"); `_same_line` does not join
    them. The pair is read part by part and kept only as a known layout (see _read_lines)."""
    pairs: list[tuple[Box, Box]] = []
    for line in lines:
        for region in lines:
            if not 0.3 * line.h <= region.h < line.h:
                continue
            if not line.y - 0.5 * region.h <= region.y <= line.y + 0.5 * line.h:
                continue
            if -0.3 * region.h <= region.x - line.x2 <= 1.2 * line.h:
                pairs.append((line, region))
    return pairs


def region_field_boxes(box: Box, shape: tuple[int, ...]) -> list[Box]:
    """Where the region field of a number read in `box` can stand (see REGION_BESIDE): beside
    the box, and as the box's own right end; clipped to the image of `shape`."""
    height, width = shape[:2]
    top = max(0, box.y + round(REGION_TOP[0] * box.h))
    bottom = min(height, box.y + round(REGION_TOP[1] * box.h))
    spans = (
        (box.x2 + round(REGION_BESIDE[0] * box.h), box.x2 + round(REGION_BESIDE[1] * box.h)),
        (box.x2 - round(REGION_INSIDE * box.w), box.x2),
    )
    fields = []
    for left, right in spans:
        left, right = max(0, left), min(width, right)
        if right - left >= 4 and bottom - top >= 4:
            fields.append(Box(left, top, right - left, bottom - top))
    return fields
