"""Axis-aligned boxes in frame pixels and the overlap measures the tracker associates by."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class BBox:
    """x, y of the top-left corner, width and height, in pixels of the full frame."""

    x: int
    y: int
    w: int
    h: int

    @property
    def x2(self) -> int:
        return self.x + self.w

    @property
    def y2(self) -> int:
        return self.y + self.h

    @property
    def area(self) -> int:
        return max(0, self.w) * max(0, self.h)

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    @property
    def diagonal(self) -> float:
        return math.hypot(self.w, self.h)

    def shifted(self, dx: float, dy: float) -> BBox:
        return BBox(round(self.x + dx), round(self.y + dy), self.w, self.h)

    def clipped(self, width: int, height: int) -> BBox:
        """The part of the box inside a width x height frame (possibly empty)."""
        x1, y1 = min(max(self.x, 0), width), min(max(self.y, 0), height)
        x2, y2 = min(max(self.x2, 0), width), min(max(self.y2, 0), height)
        return BBox(x1, y1, x2 - x1, y2 - y1)

    def grown(self, fraction: float) -> BBox:
        """The box enlarged by `fraction` of its size on every side."""
        dx, dy = round(self.w * fraction), round(self.h * fraction)
        return BBox(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy)

    def snapped(self, step: int, width: int, height: int) -> BBox:
        """The box grown about its centre to sides that are multiples of `step` and moved to
        lie inside a width x height frame; a side the frame is too small for is the frame's."""
        w = min(width, -(-self.w // step) * step)
        h = min(height, -(-self.h // step) * step)
        x = min(max(0, self.x - (w - self.w) // 2), width - w)
        y = min(max(0, self.y - (h - self.h) // 2), height - h)
        return BBox(x, y, w, h)

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)


def iou(first: BBox, second: BBox) -> float:
    """Intersection over union, 0.0 for disjoint or empty boxes."""
    overlap_w = min(first.x2, second.x2) - max(first.x, second.x)
    overlap_h = min(first.y2, second.y2) - max(first.y, second.y)
    if overlap_w <= 0 or overlap_h <= 0:
        return 0.0
    intersection = overlap_w * overlap_h
    return intersection / (first.area + second.area - intersection)


def centre_distance(first: BBox, second: BBox) -> float:
    (ax, ay), (bx, by) = first.centre, second.centre
    return math.hypot(ax - bx, ay - by)
