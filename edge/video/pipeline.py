"""The video pipeline: frames in, vehicle events with evidence out.

Glue between the adapters (frame source, motion gate, recogniser, JPEG evidence) and the pure
core (`VehicleEvents`). For each frame: sampling and motion gating decide whether the
recogniser runs and on which region; its plates become detections for the tracker; the frame
holding each track's best read is kept (one frame per open track) until the track's event is
built, so the evidence is the very frame the plate was read best in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edge.video.events import EventSettings, VehicleEvent, VehicleEvents
from edge.video.evidence import (
    DEFAULT_JPEG_QUALITY,
    Evidence,
    build_evidence,
    plate_crop,
    sharpness,
)
from edge.video.gating import FrameSampler, MotionGate, MotionSettings, region_sizes
from edge.video.geometry import BBox
from edge.video.recogniser import PlateRecogniser
from edge.video.sources import Frame, VideoFrame
from edge.video.tracker import Detection


@dataclass(frozen=True)
class PipelineSettings:
    events: EventSettings
    sample_every: int = 1
    motion: MotionSettings | None = field(default_factory=MotionSettings)  # None: no gating
    max_plates_per_frame: int = 4
    jpeg_quality: int = DEFAULT_JPEG_QUALITY


@dataclass(frozen=True)
class VideoEvent:
    vehicle: VehicleEvent
    captured_at: datetime
    evidence: Evidence

    def to_json(self) -> dict[str, Any]:
        """The event as a technician reads it (and as JSON lines are written)."""
        vehicle = self.vehicle
        return {
            "camera_id": vehicle.camera_id,
            "track_id": vehicle.track_id,
            "plate": {
                "text": vehicle.text,
                "confidence": vehicle.confidence,
                "format": vehicle.format,
                "box": list(vehicle.plate_box.as_tuple()),
            },
            "captured_at": self.captured_at.isoformat(),
            "best_frame_index": vehicle.best_frame_index,
            "first_frame_index": vehicle.first_frame_index,
            "last_frame_index": vehicle.last_frame_index,
            "supporting_reads": vehicle.supporting_reads,
            "total_reads": vehicle.total_reads,
            "reason": vehicle.reason.value,
            "evidence": [ref.model_dump(mode="json") for ref in self.evidence.refs],
        }


@dataclass
class PipelineStats:
    frames: int = 0
    sampled_out: int = 0
    without_motion: int = 0
    detector_runs: int = 0
    plates_read: int = 0
    detector_seconds: float = 0.0


@dataclass(frozen=True)
class _BestFrame:
    detection: Detection
    captured_at: datetime
    image: Frame


class VideoPipeline:
    def __init__(self, recogniser: PlateRecogniser, settings: PipelineSettings) -> None:
        self.settings = settings
        self.core = VehicleEvents(settings.events)
        self.stats = PipelineStats()
        self._recogniser = recogniser
        self._sampler = FrameSampler(settings.sample_every)
        self._gate = MotionGate(settings.motion) if settings.motion is not None else None
        self._best_frames: dict[int, _BestFrame] = {}

    def process(self, frame: VideoFrame) -> list[VideoEvent]:
        self.stats.frames += 1
        if not self._sampler.wants(frame.index):
            self.stats.sampled_out += 1
            return self._with_evidence(self.core.skip(frame.index), frame)
        height, width = frame.image.shape[:2]
        region = BBox(0, 0, width, height)
        if self._gate is not None:
            motion = self._gate.check(frame.image)
            if not motion.moving or motion.region is None:
                self.stats.without_motion += 1
                return self._with_evidence(self.core.skip(frame.index), frame)
            region = motion.region
        events = self._with_evidence(
            self.core.observe(frame.index, self._detect(frame, region)), frame
        )
        for track in self.core.tracker.active:
            if not track.reported and track.best.frame_index == frame.index:
                self._best_frames[track.track_id] = _BestFrame(
                    track.best, frame.captured_at, frame.image
                )
        return events

    def warm_up(self, frame_shape: tuple[int, ...]) -> list[tuple[int, int]]:
        """Plan the recogniser for what frames of `frame_shape` lead to: the whole frame and,
        with motion gating, every region size the gate can hand over (OpenVINO plans a shape
        in 20-70 ms the first time it meets it: better at start than on the first vehicles).
        Returns the image sizes (width, height) warmed."""
        height, width = frame_shape[:2]
        sizes = {(width, height)}
        if self._gate is not None:
            sizes |= region_sizes(self._gate.settings, width, height)
        ordered = sorted(sizes)
        self._recogniser.warm_up(*((size[1], size[0], 3) for size in ordered))
        return ordered

    def finish(self) -> list[VideoEvent]:
        return self._with_evidence(self.core.finish(), None)

    def _detect(self, frame: VideoFrame, region: BBox) -> list[Detection]:
        crop = frame.image[region.y : region.y2, region.x : region.x2]
        started = time.perf_counter()
        readings = self._recogniser.read_plates(crop, self.settings.max_plates_per_frame)
        self.stats.detector_seconds += time.perf_counter() - started
        self.stats.detector_runs += 1
        detections = []
        for reading in readings:
            if not reading.text:
                continue
            box = BBox(
                reading.box.x + region.x, reading.box.y + region.y, reading.box.w, reading.box.h
            )
            detections.append(
                Detection(
                    frame_index=frame.index,
                    timestamp=frame.timestamp,
                    box=box,
                    text=reading.text,
                    confidence=reading.confidence,
                    format=reading.format,
                    sharpness=sharpness(plate_crop(frame.image, box, margin=0.0)),
                )
            )
        self.stats.plates_read += len(detections)
        return detections

    def _with_evidence(
        self, vehicles: list[VehicleEvent], current: VideoFrame | None
    ) -> list[VideoEvent]:
        events = []
        for vehicle in vehicles:
            kept = self._best_frames.pop(vehicle.track_id, None)
            if current is not None and vehicle.best_frame_index == current.index:
                captured_at, image = current.captured_at, current.image
            elif kept is not None and kept.detection.frame_index == vehicle.best_frame_index:
                captured_at, image = kept.captured_at, kept.image
            else:
                raise RuntimeError(
                    f"the frame of track {vehicle.track_id}'s best read was not kept; "
                    "this is a defect in the video pipeline"
                )
            events.append(
                VideoEvent(
                    vehicle,
                    captured_at,
                    build_evidence(image, vehicle.plate_box, self.settings.jpeg_quality),
                )
            )
        self._forget_closed_tracks()
        return events

    def _forget_closed_tracks(self) -> None:
        """Drop frames kept for tracks that ended without an event or were already reported."""
        open_tracks = {track.track_id for track in self.core.tracker.active if not track.reported}
        for track_id in list(self._best_frames):
            if track_id not in open_tracks:
                del self._best_frames[track_id]
