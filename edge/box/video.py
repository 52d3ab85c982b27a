"""The recorder's video pipeline, built from the box configuration."""

from __future__ import annotations

from edge.box.config import BoxConfig
from edge.video import (
    EventSettings,
    MotionSettings,
    PipelineSettings,
    TrackerSettings,
    VideoPipeline,
)


def build_pipeline(config: BoxConfig) -> VideoPipeline:
    # Imported here: loading the ONNX models takes a moment and `--help` should not wait.
    from models.pipeline import PlateReader

    video = config.video
    reader = PlateReader(
        expected=video.formats,
        detector_side=video.detector_side,
        threads=video.threads,
        coarse_side=video.coarse_side,
        fine_sides=video.fine_sides,
        runtime=video.runtime,
    )
    settings = PipelineSettings(
        events=EventSettings(
            camera_id=config.device_id,
            tracker=TrackerSettings(max_missed=video.max_missed),
            repeat_window_s=video.repeat_window_s,
        ),
        sample_every=video.sample_every,
        motion=MotionSettings(),
    )
    return VideoPipeline(reader, settings)
