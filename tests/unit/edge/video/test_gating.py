"""Sampling and motion/zone gating decide when and where the plate reader runs."""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np
import pytest

from edge.video.gating import FrameSampler, MotionGate, MotionMethod, MotionSettings
from edge.video.geometry import BBox

WIDTH, HEIGHT = 1280, 720


@cache
def background() -> np.ndarray:
    return np.random.default_rng(7).integers(80, 120, (HEIGHT, WIDTH, 3), dtype=np.uint8)


def street(car_x: int | None, car_y: int = 420) -> np.ndarray:
    image = background().copy()  # the same texture every frame: a static scene
    if car_x is not None:
        cv2.rectangle(image, (car_x, car_y), (car_x + 260, car_y + 150), (30, 30, 160), -1)
    return image


def noisy(image: np.ndarray, seed: int) -> np.ndarray:
    """Sensor noise of a few grey levels, which must not count as motion."""
    noise = np.random.default_rng(seed).integers(-4, 5, image.shape, dtype=np.int16)
    return (image.astype(np.int16) + noise).astype(np.uint8)  # no overflow: 80..160 +- 4


def test_sampler_keeps_every_nth_frame() -> None:
    assert [index for index in range(10) if FrameSampler(3).wants(index)] == [0, 3, 6, 9]
    with pytest.raises(ValueError, match="every frame"):
        FrameSampler(0)


def test_static_frames_are_gated_out_and_a_moving_car_is_not() -> None:
    gate = MotionGate()
    assert gate.check(street(None)).moving  # first frame: nothing to compare with, look once
    static = [gate.check(noisy(street(None), seed)) for seed in range(5)]
    assert not any(motion.moving for motion in static)
    gate.check(street(300))
    moved = gate.check(street(340))
    assert moved.moving
    assert moved.region is not None
    # The region covers the car's changed edges (grown by a margin), not the whole frame.
    assert moved.region.x <= 300 and moved.region.x2 >= 600
    assert moved.region.y <= 420 and moved.region.y2 >= 570
    assert moved.region.w < WIDTH // 2
    # Sides in steps of 128 px, so that the detector sees few input sizes.
    assert moved.region.w % 128 == 0 and moved.region.h % 128 == 0


def test_motion_outside_the_zone_is_ignored() -> None:
    lower_half = [(0, 360), (WIDTH, 360), (WIDTH, HEIGHT), (0, HEIGHT)]
    gate = MotionGate(MotionSettings(zone=lower_half))
    gate.check(street(300, car_y=20))
    above = gate.check(street(360, car_y=20))  # a car on the far carriageway, outside the zone
    assert not above.moving
    gate.check(street(300, car_y=450))
    inside = gate.check(street(360, car_y=450))
    assert inside.moving


def test_the_first_frame_region_is_the_zone() -> None:
    zone = [(100, 300), (900, 300), (900, 700), (100, 700)]
    first = MotionGate(MotionSettings(zone=zone)).check(street(None))
    assert first.region is not None
    assert (first.region.x, first.region.y) == pytest.approx((100, 300), abs=8)
    assert (first.region.x2, first.region.y2) == pytest.approx((900, 700), abs=8)


def test_mog2_learns_the_background_then_sees_the_car() -> None:
    gate = MotionGate(MotionSettings(method=MotionMethod.MOG2))
    for seed in range(20):
        gate.check(noisy(street(None), seed))
    assert not gate.check(noisy(street(None), 99)).moving
    assert gate.check(street(500)).moving


@pytest.mark.parametrize(
    ("box", "snapped"),
    [
        (BBox(300, 400, 200, 100), BBox(272, 386, 256, 128)),  # grown about its centre
        (BBox(0, 0, 130, 10), BBox(0, 0, 256, 128)),  # pushed back inside at the corner
        (BBox(1200, 650, 80, 70), BBox(1152, 592, 128, 128)),  # ... and at the far corner
        (BBox(10, 20, 1260, 690), BBox(0, 0, 1280, 720)),  # no larger than the frame
        (BBox(384, 256, 256, 128), BBox(384, 256, 256, 128)),  # already on the steps
    ],
)
def test_a_region_is_snapped_to_steps_inside_the_frame(box: BBox, snapped: BBox) -> None:
    assert box.snapped(128, WIDTH, HEIGHT) == snapped
