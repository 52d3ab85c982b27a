"""Deciding which frames, and which part of them, the plate detector runs on.

Detection is the expensive stage (well over 100 ms a frame on the box's CPU), so it runs only
on every Nth frame and only when something moves inside the configured zone (the lanes the
camera enforces); the detector is then given the moving region, not the whole frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from edge.video.geometry import BBox

Frame = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.uint8]

ANALYSIS_WIDTH = 320  # motion is judged on a small grey copy: cheap and less noisy
DIFFERENCE_THRESHOLD = 25  # grey levels; below this a pixel change is sensor noise


class MotionMethod(StrEnum):
    DIFFERENCE = "difference"  # consecutive-frame differencing: no warm-up, cheapest
    MOG2 = "mog2"  # background model: robust to slow light changes, needs a warm-up


@dataclass(frozen=True)
class FrameSampler:
    """Process every `every`-th frame of the source."""

    every: int = 1

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError("frame sampling must process at least every frame (every >= 1)")

    def wants(self, frame_index: int) -> bool:
        return frame_index % self.every == 0


@dataclass(frozen=True)
class MotionSettings:
    zone: Sequence[tuple[int, int]] | None = None  # polygon in full-frame pixels; None = all
    min_changed_fraction: float = 0.002  # of the zone's area
    method: MotionMethod = MotionMethod.DIFFERENCE
    region_margin: float = 0.25  # grow the moving region so a plate at its edge is whole
    # Region sides are rounded up to multiples of this: the detector then sees few input sizes,
    # and OpenVINO plans (20-70 ms) and keeps in memory (about 6 MB) each size it sees. The box
    # plans every size at start (region_sizes): at 128 px a 1280x720 camera gave 60 sizes
    # (330 MB of plans), at 256 px 15 (bench/recognition.py, models/manifest.json).
    region_step: int = 256


def region_sizes(settings: MotionSettings, width: int, height: int) -> set[tuple[int, int]]:
    """Every (width, height) a moving region of a width x height frame can have: sides in
    multiples of `region_step`, or the frame's own side where it is not one (BBox.snapped),
    and the whole frame (the first frame, or a zone's bounding box that spans it). The box
    plans the detector for each at start."""
    step = settings.region_step
    widths = {*range(step, width, step), width}
    heights = {*range(step, height, step), height}
    return {(region_w, region_h) for region_w in widths for region_h in heights}


@dataclass(frozen=True)
class Motion:
    moving: bool
    changed_fraction: float
    region: BBox | None  # bounding box of the moving pixels in full-frame pixels


class MotionGate:
    def __init__(self, settings: MotionSettings | None = None) -> None:
        self.settings = settings or MotionSettings()
        self._previous: Mask | None = None
        self._zone_mask: Mask | None = None
        self._scale = 1.0
        self._subtractor = (
            cv2.createBackgroundSubtractorMOG2(history=200, detectShadows=False)
            if self.settings.method is MotionMethod.MOG2
            else None
        )

    def _prepare(self, frame: Frame) -> tuple[Mask, Mask]:
        """A small blurred grey copy of the frame, and the zone mask at that size."""
        height, width = frame.shape[:2]
        self._scale = min(1.0, ANALYSIS_WIDTH / width)
        size = (max(1, round(width * self._scale)), max(1, round(height * self._scale)))
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        small = _u8(
            cv2.GaussianBlur(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), (5, 5), 0)
        )
        if self._zone_mask is None or self._zone_mask.shape != small.shape:
            zone_mask = np.zeros(small.shape, np.uint8)
            if self.settings.zone is None:
                zone_mask[:] = 255
            else:
                polygon = np.array(
                    [(x * self._scale, y * self._scale) for x, y in self.settings.zone], np.int32
                )
                cv2.fillPoly(zone_mask, [polygon], 255)
            self._zone_mask = zone_mask
            self._previous = None
        return small, self._zone_mask

    def check(self, frame: Frame) -> Motion:
        small, zone_mask = self._prepare(frame)
        if self._subtractor is not None:
            foreground = _u8(self._subtractor.apply(small))
        elif self._previous is None:
            self._previous = small
            # Nothing to compare the first frame with: let the detector look once.
            return Motion(True, 1.0, self._to_frame(cv2.boundingRect(zone_mask), frame))
        else:
            difference = cv2.absdiff(small, self._previous)
            self._previous = small
            _, thresholded = cv2.threshold(difference, DIFFERENCE_THRESHOLD, 255, cv2.THRESH_BINARY)
            foreground = _u8(thresholded)
        changed = cv2.bitwise_and(foreground, zone_mask)
        fraction = cv2.countNonZero(changed) / max(1, cv2.countNonZero(zone_mask))
        if fraction < self.settings.min_changed_fraction:
            return Motion(False, fraction, None)
        region = self._to_frame(cv2.boundingRect(changed), frame)
        height, width = frame.shape[:2]
        grown = region.grown(self.settings.region_margin).clipped(width, height)
        return Motion(True, fraction, grown.snapped(self.settings.region_step, width, height))

    def _to_frame(self, rect: Sequence[int], frame: Frame) -> BBox:
        """A rectangle on the small analysis copy, in full-frame pixels."""
        x, y, w, h = (round(value / self._scale) for value in rect)
        return BBox(x, y, w, h).clipped(frame.shape[1], frame.shape[0])


def _u8(image: npt.NDArray[Any]) -> Mask:
    return np.asarray(image, dtype=np.uint8)
