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
    Image,
    display_text,
    parse_plate,
    random_plate_text,
)
from models.synth.road import Geometry, draw_road
from models.synth.vehicle import Sprite, draw_vehicle

SIDECAR_SCHEMA = 1
CODECS = {".mp4": "mp4v", ".avi": "MJPG"}
MIN_VISIBLE_PX = 6  # a vehicle narrower than this is not yet "visible"

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
