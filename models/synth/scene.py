"""A roadside video for the demo and tests: vehicles driving at a pole camera, with plates.

The camera looks down a straight road of one or two lanes. Vehicles come one after another
(never two in view at once), each in its lane at its own constant speed, from far away (a few
pixels) to the radar point, then out through the bottom of the picture. A vehicle is drawn
once, as a sprite at its size at the radar point, and scaled per frame by the pinhole model
`scale = radar distance / distance`: size, row and lane offset are all proportional to it.

The radar point is where a vehicle's plate is largest while wholly in view (its bottom edge a
few pixels above the bottom of the frame); the plate is then `plate_width_px` wide. The
sidecar JSON written next to the video says, per vehicle, its plate, lane, speed, the frame and
time at which it passes the radar point, its plate box in that frame, and the frames in which
it is visible.
"""

from __future__ import annotations

import json
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from models.synth.plates import (
    PLATE_MM,
    Image,
    display_text,
    numpy_rng,
    parse_plate,
    random_plate_text,
    render_plate,
)

SIDECAR_SCHEMA = 1
CODECS = {".mp4": "mp4v", ".avi": "MJPG"}
RADAR_MARGIN_PX = 14  # the plate's bottom edge above the frame's bottom at the radar point
MIN_VISIBLE_PX = 6  # a vehicle narrower than this is not yet "visible"
PLATE_BOTTOM_GAP = 0.125  # from the plate's bottom edge to the sprite's, in vehicle widths

# Body colours (BGR) with the names the sidecar reports.
COLOURS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("white", (232, 232, 228)),
    ("silver", (188, 186, 182)),
    ("black", (34, 32, 30)),
    ("red", (40, 40, 180)),
    ("blue", (150, 80, 30)),
    ("dark grey", (78, 76, 74)),
    ("green", (60, 110, 40)),
    ("beige", (150, 185, 205)),
    ("dark red", (30, 25, 110)),
    ("yellow", (40, 190, 230)),
)


@dataclass(frozen=True)
class VehicleSpec:
    """What a vehicle of the video is: its plate, lane (0 = left) and speed."""

    plate: str
    lane: int = 0
    speed_kmh: float = 60.0


@dataclass(frozen=True)
class SceneSettings:
    width: int = 1280
    height: int = 720
    fps: float = 25.0
    lanes: int = 2
    plate_width_px: int = 176  # at the radar point
    plate_share_of_width: float = 0.3  # plate width / vehicle width
    radar_distance_m: float = 12.0
    first_distance_m: float = 80.0  # where a vehicle comes into view
    horizon_y: int = 60
    gap_s: tuple[float, float] = (0.4, 1.0)  # empty road between two vehicles
    lead_in_s: float = 0.4  # empty road before the first vehicle
    tail_s: float = 0.6  # and after the last
    codec: str | None = None  # a fourcc; None: chosen by the file's suffix (CODECS)

    def __post_init__(self) -> None:
        if self.lanes not in (1, 2):
            raise ValueError("the scene has one or two lanes")
        if not 0.0 < self.radar_distance_m < self.first_distance_m:
            raise ValueError("vehicles must appear farther away than the radar point")
        if not 20 <= self.plate_width_px <= self.width // (2 * self.lanes):
            raise ValueError(f"plate width at the radar point {self.plate_width_px} px is off")


@dataclass(frozen=True)
class VehiclePass:
    """A vehicle as the video shows it (one entry of the sidecar)."""

    plate: str  # normalised, as the edge pipeline reports it: 123ABC01
    plate_display: str  # as printed: 123 ABC 01
    lane: int
    speed_kmh: float
    radar_frame: int
    radar_time_s: float  # seconds from the start of the video
    plate_box: tuple[int, int, int, int]  # x, y, w, h in the radar frame
    first_frame: int  # first frame in which the vehicle is visible
    last_frame: int  # last frame in which any part of it is visible (inclusive)
    colour: str


@dataclass(frozen=True)
class RenderedVideo:
    path: Path
    sidecar: Path
    width: int
    height: int
    fps: float
    frame_count: int
    codec: str
    seed: int
    vehicles: tuple[VehiclePass, ...]
    render_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SIDECAR_SCHEMA,
            "video": self.path.name,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "frame_count": self.frame_count,
            "duration_s": round(self.frame_count / self.fps, 3),
            "codec": self.codec,
            "seed": self.seed,
            "vehicles": [
                {**asdict(vehicle), "plate_box": list(vehicle.plate_box)}
                for vehicle in self.vehicles
            ],
        }


def sidecar_path(video: Path) -> Path:
    """`road.mp4` -> `road.json`."""
    return video.with_suffix(".json")


def load_sidecar(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema") != SIDECAR_SCHEMA:
        raise ValueError(f"{path} is not a synthetic video sidecar of schema {SIDECAR_SCHEMA}")
    return data


def random_vehicles(
    count: int,
    rng: random.Random,
    lanes: int = 2,
    speed_kmh: tuple[float, float] = (40.0, 110.0),
) -> list[VehicleSpec]:
    """`count` vehicles with distinct random plates, random lanes and whole-number speeds."""
    plates: list[str] = []
    while len(plates) < count:
        plate = random_plate_text(rng)
        if plate not in plates:
            plates.append(plate)
    return [
        VehicleSpec(plate, rng.randrange(lanes), float(round(rng.uniform(*speed_kmh))))
        for plate in plates
    ]


# --- the vehicle sprite -------------------------------------------------------------------


@dataclass(frozen=True)
class Sprite:
    """A vehicle at its radar-point size: colour, coverage (0-1) and where its plate is."""

    image: Image
    alpha: np.ndarray[Any, np.dtype[np.float32]]
    plate_box: tuple[int, int, int, int]  # in sprite pixels


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    b, g, r = (min(255, max(0, round(channel * factor))) for channel in colour)
    return (b, g, r)


def draw_vehicle(
    plate: str, colour: tuple[int, int, int], width: int, plate_share: float, rng: random.Random
) -> Sprite:
    """A vehicle seen from the front and a little above, `width` pixels wide, with its plate."""
    tall = rng.uniform(0.74, 0.9)  # saloon .. SUV
    height = round(width * tall)
    image = np.zeros((height, width, 3), np.uint8)
    cover = np.zeros((height, width), np.uint8)

    def pts(points: Sequence[tuple[float, float]]) -> np.ndarray[Any, np.dtype[np.int32]]:
        return np.array([(round(u * width), round(v * height)) for u, v in points], np.int32)

    def fill(points: Sequence[tuple[float, float]], bgr: tuple[int, int, int]) -> None:
        polygon = pts(points)
        cv2.fillPoly(image, [polygon], bgr, cv2.LINE_AA)
        cv2.fillPoly(cover, [polygon], 255, cv2.LINE_AA)

    def box(u1: float, v1: float, u2: float, v2: float, bgr: tuple[int, int, int]) -> None:
        fill([(u1, v1), (u2, v1), (u2, v2), (u1, v2)], bgr)

    roof = rng.uniform(0.2, 0.26)
    glass = (92, 80, 72) if rng.random() < 0.5 else (70, 62, 58)
    dark = (28, 28, 28)
    # Shadow on the road, wheels, then the body from the back to the front.
    shadow = np.zeros((height, width), np.uint8)
    cv2.ellipse(
        shadow,
        (width // 2, round(0.95 * height)),
        (round(0.52 * width), round(0.06 * height)),
        0,
        0,
        360,
        110,
        -1,
        cv2.LINE_AA,
    )
    box(0.07, 0.8, 0.21, 0.98, dark)
    box(0.79, 0.8, 0.93, 0.98, dark)
    fill(
        [(roof, 0.02), (1 - roof, 0.02), (0.93, 0.44), (0.07, 0.44)],
        _shade(colour, 0.85),
    )
    fill(
        [(roof + 0.03, 0.06), (1 - roof - 0.03, 0.06), (0.885, 0.41), (0.115, 0.41)],
        glass,
    )
    fill(
        [(roof + 0.1, 0.06), (roof + 0.17, 0.06), (0.36, 0.41), (0.25, 0.41)],
        _shade(glass, 1.35),
    )
    box(0.0, 0.36, 0.06, 0.44, _shade(colour, 0.8))  # mirrors
    box(0.94, 0.36, 1.0, 0.44, _shade(colour, 0.8))
    fill(
        [(0.06, 0.44), (0.94, 0.44), (0.97, 0.52), (0.97, 0.86), (0.03, 0.86), (0.03, 0.52)], colour
    )
    fill([(0.1, 0.44), (0.9, 0.44), (0.93, 0.5), (0.07, 0.5)], _shade(colour, 1.08))
    lamp = (215, 235, 240)
    fill([(0.06, 0.53), (0.27, 0.55), (0.26, 0.63), (0.07, 0.61)], lamp)
    fill([(0.94, 0.53), (0.73, 0.55), (0.74, 0.63), (0.93, 0.61)], lamp)
    box(0.31, 0.55, 0.69, 0.66, (40, 40, 42))
    for slat in range(3):
        v = 0.575 + slat * 0.03
        box(0.32, v, 0.68, v + 0.008, (75, 75, 78))
    box(0.03, 0.69, 0.97, 0.87, _shade(colour, 0.78))
    # The plate, centred on the bumper.
    plate_w = round(plate_share * width)
    plate_h = round(plate_w * PLATE_MM[1] / PLATE_MM[0])
    plate_x = (width - plate_w) // 2
    plate_y = height - round(PLATE_BOTTOM_GAP * width) - plate_h
    image[plate_y : plate_y + plate_h, plate_x : plate_x + plate_w] = render_plate(
        plate, rng, plate_w
    )
    cover[plate_y : plate_y + plate_h, plate_x : plate_x + plate_w] = 255
    alpha = cover.astype(np.float32) / 255.0
    shadow_alpha = shadow.astype(np.float32) / 255.0 * (1.0 - alpha)
    alpha = alpha + shadow_alpha  # the shadow is black at its coverage
    return Sprite(image, alpha.astype(np.float32), (plate_x, plate_y, plate_w, plate_h))


# --- the road -----------------------------------------------------------------------------


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


# --- planning and rendering ---------------------------------------------------------------


@dataclass
class _Planned:
    spec: VehicleSpec
    plate: str
    colour_name: str
    sprite: Sprite
    speed_mps: float
    radar_frame: int
    first_frame: int
    last_frame: int
    plate_box: tuple[int, int, int, int] = (0, 0, 0, 0)


def _scale(vehicle: _Planned, frame: int, settings: SceneSettings) -> float:
    distance = (
        settings.radar_distance_m + vehicle.speed_mps * (vehicle.radar_frame - frame) / settings.fps
    )
    return settings.radar_distance_m / max(distance, 0.05)


def _placement(
    vehicle: _Planned, scale: float, geometry: Geometry
) -> tuple[float, float, float, float]:
    """Left, top, width, height of the scaled sprite in the frame (floats)."""
    sprite_h, sprite_w = vehicle.sprite.image.shape[:2]
    w, h = sprite_w * scale, sprite_h * scale
    centre = geometry.lane_centre(vehicle.spec.lane, scale)
    bottom = geometry.row(scale)
    return centre - w / 2, bottom - h, w, h


def _plate_in_frame(
    vehicle: _Planned, scale: float, geometry: Geometry
) -> tuple[int, int, int, int]:
    left, top, _, _ = _placement(vehicle, scale, geometry)
    x, y, w, h = vehicle.sprite.plate_box
    return (
        round(left + x * scale),
        round(top + y * scale),
        round(w * scale),
        round(h * scale),
    )


def plan_scene(
    vehicles: Sequence[VehicleSpec], seed: int, settings: SceneSettings
) -> tuple[Image, Geometry, list[_Planned], int]:
    """The road, the sprites and the timetable: who is visible in which frames."""
    rng = random.Random(seed)
    fps = settings.fps
    geometry = Geometry.of(settings)
    road = draw_road(geometry, rng)
    planned: list[_Planned] = []
    next_free = round(settings.lead_in_s * fps)
    seen: set[str] = set()
    for spec in vehicles:
        plate, _ = parse_plate(spec.plate)
        if plate in seen:
            raise ValueError(f"plate {plate} appears twice; every vehicle needs its own")
        seen.add(plate)
        if not 0 <= spec.lane < settings.lanes:
            raise ValueError(f"lane {spec.lane} of {plate}: the road has {settings.lanes}")
        if not 5.0 <= spec.speed_kmh <= 250.0:
            raise ValueError(f"speed {spec.speed_kmh} km/h of {plate} is not 5-250 km/h")
        colour_name, colour = rng.choice(COLOURS)
        sprite = draw_vehicle(
            plate, colour, geometry.vehicle_width, settings.plate_share_of_width, rng
        )
        speed = spec.speed_kmh / 3.6
        approach = (settings.first_distance_m - settings.radar_distance_m) / speed * fps
        vehicle = _Planned(spec, plate, colour_name, sprite, speed, 0, 0, 0)
        vehicle.radar_frame = next_free + math.ceil(approach)
        vehicle.plate_box = _plate_in_frame(vehicle, 1.0, geometry)
        first = vehicle.radar_frame
        while first > next_free:
            _, _, w, _ = _placement(vehicle, _scale(vehicle, first - 1, settings), geometry)
            if w < MIN_VISIBLE_PX:
                break
            first -= 1
        last = vehicle.radar_frame
        while _placement(vehicle, _scale(vehicle, last + 1, settings), geometry)[1] < (
            settings.height
        ):
            last += 1
        vehicle.first_frame, vehicle.last_frame = first, last
        planned.append(vehicle)
        next_free = last + 1 + round(rng.uniform(*settings.gap_s) * fps)
    end = (planned[-1].last_frame + 1 if planned else next_free) + round(settings.tail_s * fps)
    return road, geometry, planned, end


def _paste(frame: Image, sprite: Sprite, placement: tuple[float, float, float, float]) -> None:
    left, top, w, h = placement
    width, height = round(w), round(h)
    if width < 1 or height < 1:
        return
    x0, y0 = round(left), round(top)
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(frame.shape[1], x0 + width), min(frame.shape[0], y0 + height)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    shrinking = width < sprite.image.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    image = cv2.resize(sprite.image, (width, height), interpolation=interpolation)
    alpha = cv2.resize(sprite.alpha, (width, height), interpolation=interpolation)
    sx0, sy0 = fx0 - x0, fy0 - y0
    sx1, sy1 = sx0 + (fx1 - fx0), sy0 + (fy1 - fy0)
    roi = frame[fy0:fy1, fx0:fx1]
    cut = alpha[sy0:sy1, sx0:sx1]
    frame[fy0:fy1, fx0:fx1] = cv2.blendLinear(
        image[sy0:sy1, sx0:sx1], roi, cut, np.float32(1.0) - cut
    )


def render_frames(
    vehicles: Sequence[VehicleSpec], seed: int = 0, settings: SceneSettings | None = None
) -> tuple[list[VehiclePass], int, Callable[[int], Image]]:
    """The sidecar entries, the frame count and a function drawing frame `i` (for tests and
    for writers other than a file)."""
    settings = settings or SceneSettings()
    road, geometry, planned, frame_count = plan_scene(vehicles, seed, settings)

    def frame_at(index: int) -> Image:
        frame = road.copy()
        for vehicle in planned:
            if vehicle.first_frame <= index <= vehicle.last_frame:
                scale = _scale(vehicle, index, settings)
                _paste(frame, vehicle.sprite, _placement(vehicle, scale, geometry))
        return frame

    passes = [
        VehiclePass(
            plate=vehicle.plate,
            plate_display=display_text(vehicle.plate),
            lane=vehicle.spec.lane,
            speed_kmh=vehicle.spec.speed_kmh,
            radar_frame=vehicle.radar_frame,
            radar_time_s=round(vehicle.radar_frame / settings.fps, 3),
            plate_box=vehicle.plate_box,
            first_frame=vehicle.first_frame,
            last_frame=vehicle.last_frame,
            colour=vehicle.colour_name,
        )
        for vehicle in planned
    ]
    return passes, frame_count, frame_at


def render_video(
    path: Path,
    vehicles: Sequence[VehicleSpec],
    seed: int = 0,
    settings: SceneSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RenderedVideo:
    """Write the video to `path` (.mp4: mp4v, .avi: MJPG) and its sidecar JSON next to it.

    `progress(done, total)` is called after each frame.
    """
    started = time.perf_counter()
    settings = settings or SceneSettings()
    codec = settings.codec or CODECS.get(path.suffix.lower())
    if codec is None:
        raise ValueError(f"choose a .mp4 or .avi file name (or a codec), not {path.name}")
    passes, frame_count, frame_at = render_frames(vehicles, seed, settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter.fourcc(*codec), settings.fps, (settings.width, settings.height)
    )
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {codec} video to {path}")
    # Encoding takes about as long as drawing and both release the GIL: encode in a thread.
    frames: queue.Queue[Image | None] = queue.Queue(maxsize=8)

    def encode() -> None:
        while (frame := frames.get()) is not None:
            writer.write(frame)

    encoder = threading.Thread(target=encode, name="synth-video-encoder", daemon=True)
    encoder.start()
    try:
        for index in range(frame_count):
            frames.put(frame_at(index))
            if progress is not None:
                progress(index + 1, frame_count)
    finally:
        frames.put(None)
        encoder.join()
        writer.release()
    rendered = RenderedVideo(
        path=path,
        sidecar=sidecar_path(path),
        width=settings.width,
        height=settings.height,
        fps=settings.fps,
        frame_count=frame_count,
        codec=codec,
        seed=seed,
        vehicles=tuple(passes),
        render_seconds=time.perf_counter() - started,
    )
    rendered.sidecar.write_text(json.dumps(rendered.to_json(), indent=2) + "\n", "utf-8")
    return rendered
