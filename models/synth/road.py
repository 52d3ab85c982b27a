"""The empty road of the synthetic scenes and where things stand on it (split from
models.synth.scene)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from models.synth.plates import Image, numpy_rng
from models.synth.vehicle import PLATE_BOTTOM_GAP

if TYPE_CHECKING:
    from models.synth.scene import SceneSettings

RADAR_MARGIN_PX = 14  # the plate's bottom edge above the frame's bottom at the radar point


@dataclass(frozen=True)
class Geometry:
    """Where things are, as a function of `scale` (1 at the radar point, ~1/distance)."""

    settings: SceneSettings
    vehicle_width: int
    ground_y: float  # image row of the road under the vehicle's front at scale 1
    lane_width: float  # at scale 1

    @classmethod
    def of(cls, settings: SceneSettings) -> Geometry:
        vehicle_width = round(settings.plate_width_px / settings.plate_share_of_width)
        # At scale 1 the plate's bottom edge is RADAR_MARGIN_PX above the frame's bottom.
        ground_y = settings.height - RADAR_MARGIN_PX + PLATE_BOTTOM_GAP * vehicle_width
        lane_width = min(vehicle_width / 0.9, settings.width / settings.lanes)
        return cls(settings, vehicle_width, ground_y, lane_width)

    @property
    def vanishing_x(self) -> float:
        return self.settings.width / 2

    def row(self, scale: float) -> float:
        """Image row of the ground at `scale`."""
        return self.settings.horizon_y + scale * (self.ground_y - self.settings.horizon_y)

    def scale_at_row(self, row: float) -> float:
        return (row - self.settings.horizon_y) / (self.ground_y - self.settings.horizon_y)

    def lane_centre(self, lane: int, scale: float) -> float:
        offset = (lane - (self.settings.lanes - 1) / 2) * self.lane_width
        return self.vanishing_x + scale * offset


def draw_road(geometry: Geometry, rng: random.Random) -> Image:
    """The empty road: sky, a tree line, verges, asphalt, lane markings, roadside posts."""
    settings = geometry.settings
    width, height, horizon = settings.width, settings.height, settings.horizon_y
    noise = numpy_rng(rng)
    image = np.zeros((height, width, 3), np.uint8)
    sky = np.linspace(0.0, 1.0, max(1, horizon))[:, np.newaxis, np.newaxis]
    image[:horizon] = (
        (1 - sky) * np.array((225, 190, 150)) + sky * np.array((235, 220, 205))
    ).astype(np.uint8)
    verge = noise.normal(0, 9, (height - horizon, width, 1)) + np.array((60, 120, 85))
    image[horizon:] = np.clip(verge, 0, 255).astype(np.uint8)
    # A tree line on the horizon.
    for x in range(0, width, 14):
        top = horizon - rng.randint(6, 26)
        cv2.ellipse(
            image,
            (x, horizon),
            (rng.randint(10, 20), horizon - top),
            0,
            180,
            360,
            (40 + rng.randint(0, 20), 80 + rng.randint(0, 25), 45),
            -1,
            cv2.LINE_AA,
        )
    road_half = geometry.lane_width * settings.lanes / 2 + 0.25 * geometry.lane_width
    far, near = geometry.scale_at_row(horizon), geometry.scale_at_row(height + 1)

    def edge(sign: int, share: float, scale: float) -> tuple[float, float]:
        return (
            geometry.vanishing_x + sign * share * scale,
            geometry.row(scale),
        )

    asphalt = np.array(
        [
            edge(-1, road_half, far),
            edge(1, road_half, far),
            edge(1, road_half, near),
            edge(-1, road_half, near),
        ],
        np.int32,
    )
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [asphalt], 255, cv2.LINE_AA)
    road = np.clip(noise.normal(0, 6, (height, width, 1)) + np.array((92, 94, 96)), 0, 255)
    alpha = (mask.astype(np.float32) / 255.0)[..., np.newaxis]
    image = np.asarray(image * (1 - alpha) + road * alpha, np.uint8)

    def stripe(offset: float, scale_from: float, scale_to: float, thickness: float) -> None:
        """A painted line `offset` px (at scale 1) from the centre, 0.12 m wide."""
        corners = np.array(
            [
                edge(1, offset - thickness / 2, scale_from),
                edge(1, offset + thickness / 2, scale_from),
                edge(1, offset + thickness / 2, scale_to),
                edge(1, offset - thickness / 2, scale_to),
            ],
            np.float64,
        )
        cv2.fillPoly(image, [np.round(corners).astype(np.int32)], (225, 228, 228), cv2.LINE_AA)

    metre = geometry.vehicle_width / 1.8  # pixels per metre at scale 1
    line_width = 0.12 * metre
    edge_line = geometry.lane_width * settings.lanes / 2 + 0.1 * geometry.lane_width
    stripe(-edge_line, far, near, line_width)
    stripe(edge_line, far, near, line_width)
    if settings.lanes == 2:
        # Dashes 3 m long every 9 m, fixed on the road (distance = radar distance / scale).
        radar = settings.radar_distance_m
        distance = radar / near
        while distance < radar / max(far, 1e-3) and distance < 400:
            stripe(0.0, radar / (distance + 3.0), radar / distance, line_width)
            distance += 9.0
    # Roadside posts with a reflector every 25 m.
    post_at = 25.0 * math.ceil(settings.radar_distance_m / near / 25.0)
    while post_at < 200:
        scale = settings.radar_distance_m / post_at
        for sign in (-1, 1):
            post_x, post_y = edge(sign, road_half + 0.4 * metre, scale)
            post_h, post_w = 1.0 * metre * scale, max(1.0, 0.12 * metre * scale)
            cv2.rectangle(
                image,
                (round(post_x - post_w / 2), round(post_y - post_h)),
                (round(post_x + post_w / 2), round(post_y)),
                (235, 235, 235),
                -1,
            )
            cv2.rectangle(
                image,
                (round(post_x - post_w / 2), round(post_y - post_h)),
                (round(post_x + post_w / 2), round(post_y - 0.8 * post_h)),
                (30, 30, 30),
                -1,
            )
        post_at += 25.0
    return image
