"""Video on the camera box: frame sources, motion gating, plate tracking, per-vehicle voting,
and JPEG evidence for each vehicle event.

The core (`geometry`, `tracker`, `voting`, `events`) is pure and deterministic; `sources`,
`gating`, `evidence` and `pipeline` are the thin OpenCV adapters around it.
"""

from edge.video.events import EventSettings, RepeatSuppressor, VehicleEvent, VehicleEvents
from edge.video.evidence import EncodedImage, Evidence, build_evidence, encode_jpeg
from edge.video.gating import FrameSampler, MotionGate, MotionMethod, MotionSettings
from edge.video.geometry import BBox, iou
from edge.video.pipeline import PipelineSettings, PipelineStats, VideoEvent, VideoPipeline
from edge.video.recogniser import PlateRecogniser
from edge.video.sources import (
    LiveSource,
    SourceStats,
    SourceUnavailable,
    VideoFileSource,
    VideoFrame,
    open_source,
)
from edge.video.tracker import Detection, ReportReason, Track, Tracker, TrackerSettings
from edge.video.voting import Read, Vote, vote

__all__ = [
    "BBox",
    "Detection",
    "EncodedImage",
    "EventSettings",
    "Evidence",
    "FrameSampler",
    "LiveSource",
    "MotionGate",
    "MotionMethod",
    "MotionSettings",
    "PipelineSettings",
    "PipelineStats",
    "PlateRecogniser",
    "Read",
    "RepeatSuppressor",
    "ReportReason",
    "SourceStats",
    "SourceUnavailable",
    "Track",
    "Tracker",
    "TrackerSettings",
    "VehicleEvent",
    "VehicleEvents",
    "VideoEvent",
    "VideoFileSource",
    "VideoFrame",
    "VideoPipeline",
    "Vote",
    "build_evidence",
    "encode_jpeg",
    "iou",
    "open_source",
    "vote",
]
