"""The pixels the plate reader works on besides the whole frame: a line's crop widened at its
ends, the second look's region scaled and laid on one canvas size, the frame with its contrast
equalised (pure image functions; models.pipeline decides when each is used)."""

from __future__ import annotations

import cv2
import numpy as np

from models.lines import REGION_BESIDE
from models.ocr import Box, Image

# Detector boxes hug the glyphs and at times cut the first or last character: each crop is
# widened by this share of its height on both sides before reading.
CROP_MARGIN = 0.2
# The second look at a plate (models.pipeline.PlateReader.refine): the box grown by these
# shares of its height, scaled so that the box is REFINE_HEIGHT px high: a small plate's
# enlarged (at most REFINE_MAX_ZOOM times), a tall one's reduced.
REFINE_HEIGHT = 64
REFINE_GROW_X = 0.6
REFINE_GROW_Y = 0.4
# ... and to the right as far as a Kazakh or Russian plate's region field can stand beside its
# number (models.lines.REGION_BESIDE): a small plate's number read alone at the first look is
# joined with its field at the second only where the region shows the field whole. Never
# beyond what the canvas holds at the zoom (the region's width stays one warmed-up shape).
REFINE_GROW_RIGHT = REGION_BESIDE[1]
REFINE_MAX_ZOOM = 3.0
# The second look's regions are at most 128 px high (REFINE_HEIGHT grown by twice
# REFINE_GROW_Y) and, for text up to 8 times wider than high, at most this wide; few crops
# read are wider either. The detector sees each region on one canvas of this size, padded
# with the region's mean colour (`on_canvas`): OpenVINO keeps about 6 MB of plans per input
# shape, and the 80 shapes the regions came in at their own sizes (multiples of 32) took the
# box's resident memory from about 0.7 to 1.2 GB.
WARM_UP_MAX_WIDTH = 640
SECOND_LOOK_CANVAS = (WARM_UP_MAX_WIDTH, 2 * REFINE_HEIGHT)  # width, height
SURROUNDINGS_SIZES = (SECOND_LOOK_CANVAS,)
# Dusk, night and haze leave plates of dark grey on grey that the detector does not see at any
# size. A frame where no rung read a plate is searched once more at detector_side
# with its contrast equalised (CLAHE at this clip limit). Only then: equalising every frame read
# fewer plates right (us exact 0.829, br 0.956), as it also sharpens noise and stickers.
CONTRAST_CLIP_LIMIT = 2.0


def enlarged_surroundings(image: Image, box: Box) -> tuple[Image, tuple[int, int], float]:
    """The second look's region around `box`: grown by REFINE_GROW_X/Y of its height (to the
    right by REFINE_GROW_RIGHT, as far as the canvas holds), scaled so that the box is
    REFINE_HEIGHT px high (enlarged at most REFINE_MAX_ZOOM times); with the region's origin
    in the frame and the zoom."""
    height, width = image.shape[:2]
    grow_x, grow_y = round(REFINE_GROW_X * box.h), round(REFINE_GROW_Y * box.h)
    zoom = min(REFINE_MAX_ZOOM, REFINE_HEIGHT / max(1, box.h))
    x1, y1 = max(0, box.x - grow_x), max(0, box.y - grow_y)
    y2 = min(height, box.y2 + grow_y)
    right = min(box.x2 + round(REFINE_GROW_RIGHT * box.h), x1 + int(SECOND_LOOK_CANVAS[0] / zoom))
    x2 = min(width, max(right, box.x2 + grow_x))
    region = cv2.resize(image[y1:y2, x1:x2], None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC)
    return np.asarray(region, np.uint8), (x1, y1), zoom


def on_canvas(region: Image) -> tuple[Image, int]:
    """The second look's region at the top left of a SECOND_LOOK_CANVAS of its mean colour,
    with the detector side that sees the canvas at its own size; a region larger than the
    canvas (text wider than 8 times its height) as it is, at its own size."""
    height, width = region.shape[:2]
    canvas_w, canvas_h = SECOND_LOOK_CANVAS
    if width > canvas_w or height > canvas_h:
        return region, max(height, width)
    mean = cv2.mean(region)[:3]
    canvas = np.empty((canvas_h, canvas_w, 3), np.uint8)
    canvas[:] = np.asarray([round(value) for value in mean], np.uint8)
    canvas[:height, :width] = region
    return canvas, canvas_w


def equalise_contrast(image: Image) -> Image:
    """The frame with its lightness equalised locally (CLAHE), colours kept."""
    lightness, green_red, blue_yellow = cv2.split(cv2.cvtColor(image, cv2.COLOR_BGR2LAB))
    clahe = cv2.createCLAHE(clipLimit=CONTRAST_CLIP_LIMIT, tileGridSize=(8, 8))
    equalised = cv2.merge((clahe.apply(lightness), green_red, blue_yellow))
    return np.asarray(cv2.cvtColor(equalised, cv2.COLOR_LAB2BGR), np.uint8)


def margin_span(image: Image, box: Box, margin: float = CROP_MARGIN) -> tuple[int, int]:
    """The columns of the box widened by `margin` times its height left and right, within
    the image."""
    grow = round(margin * box.h)
    return max(0, box.x - grow), min(image.shape[1], box.x2 + grow)


def crop_with_margin(image: Image, box: Box, margin: float = CROP_MARGIN) -> Image:
    """The box's pixels, widened by `margin` times its height left and right."""
    left, right = margin_span(image, box, margin)
    return image[box.y : box.y2, left:right]
