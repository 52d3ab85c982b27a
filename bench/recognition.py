"""Video pipeline benchmark: frames per second through the whole camera-box pipeline.

Renders synthetic roadside footage at the box's resolution (cars with Kazakh-style plates
driving across, an empty road between them) into an MJPEG file, then times the real pipeline
on it: decoding, frame sampling, motion gating, plate reading (models.PlateReader, ONNX on the
CPU), tracking, voting and JPEG evidence.

The reader is the one a box's `[video]` settings describe (`--config`, default the box's
defaults; `--precision`, `--detector-side`, `--threads` override), warmed up as the box warms
up on its first frame (the frame size and the motion gate's region sizes).

Prints progress, then one JSON object as the last line: fps (frames read per second of wall
time, everything included), ms_per_frame, the reader's runs (count, mean, median, p95, max,
mean per stage: detect, recognise, decode), peak resident memory, the runtime and each model's
precision as the runtime reports it, the CPU's relevant flags, vehicles and correct reads.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import cv2
import numpy as np
import numpy.typing as npt
import typer
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge.video import EventSettings, PipelineSettings, VideoFileSource, VideoPipeline
from models.evaluate import box_video_settings
from models.pipeline import PlateReader, PlateReading
from models.runtime import Precision, cpu_flags, relevant_flags

PLATES = ["123ABC01", "777KZA02", "505XYZ17", "910AB09", "246KMT05", "318EEA16"]
CAR_FRAMES, GAP_FRAMES, SPEED = 60, 30, 20  # a car crosses in 2.4 s at 25 fps

console = Console(stderr=True)


def render(path: Path, width: int, height: int, frames: int) -> list[str]:
    """Write the footage; returns the plates in the order they drive past."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25, (width, height))
    background = np.full((height, width, 3), (90, 95, 100), np.uint8)
    cv2.rectangle(background, (0, height // 2), (width, height), (60, 60, 60), -1)
    shown: list[str] = []
    cycle = CAR_FRAMES + GAP_FRAMES
    for index in range(frames):
        image = background.copy()
        car, step = divmod(index, cycle)
        if step < CAR_FRAMES:
            plate = PLATES[car % len(PLATES)]
            if step == 0:
                shown.append(plate)
            x, y = 40 + SPEED * step, height // 2 + 60
            cv2.rectangle(image, (x, y - 150), (x + 420, y + 110), (40, 40, 150), -1)
            cv2.rectangle(image, (x + 100, y), (x + 320, y + 48), (255, 255, 255), -1)
            cv2.rectangle(image, (x + 100, y), (x + 320, y + 48), (0, 0, 0), 2)
            cv2.putText(
                image,
                plate,
                (x + 108, y + 37),
                cv2.FONT_HERSHEY_SIMPLEX,
                1.1,
                (0, 0, 0),
                3,
                cv2.LINE_AA,
            )
        writer.write(image)
    writer.release()
    return shown


class TimedReader:
    """The box's plate reader, each run timed (for the median, p95 and max per run)."""

    def __init__(self, reader: PlateReader) -> None:
        self.reader = reader
        self.runs_ms: list[float] = []

    def read_plates(self, image: npt.NDArray[np.uint8], limit: int = 1) -> list[PlateReading]:
        started = time.perf_counter()
        readings = self.reader.read_plates(image, limit)
        self.runs_ms.append(1000 * (time.perf_counter() - started))
        return readings

    def warm_up(self, *image_shapes: tuple[int, ...]) -> None:
        self.reader.warm_up(*image_shapes)


def main(
    width: Annotated[int, typer.Option(help="Frame width of the box's camera.")] = 1280,
    height: Annotated[int, typer.Option(help="Frame height of the box's camera.")] = 720,
    frames: Annotated[int, typer.Option(min=30, help="Frames of footage to time.")] = 300,
    every: Annotated[int, typer.Option(min=1, help="Run the reader on every Nth frame.")] = 2,
    config: Annotated[
        Path | None,
        typer.Option(
            help="A box's TOML configuration: its [video] settings build the reader "
            "(default: the box's defaults)."
        ),
    ] = None,
    detector_side: Annotated[
        int | None, typer.Option(min=160, help="Override video.detector_side.")
    ] = None,
    precision: Annotated[Precision | None, typer.Option(help="Override video.precision.")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="Override video.threads.")] = None,
) -> None:
    """Time the video pipeline on synthetic footage and print JSON as the last line."""
    overrides: dict[str, Any] = {
        key: value
        for key, value in (
            ("detector_side", detector_side),
            ("precision", precision),
            ("threads", threads),
        )
        if value is not None
    }
    video_settings = box_video_settings(config, overrides)
    for key, value in overrides.items():
        console.print(f"override: video.{key} = {getattr(value, 'value', value)}")
    with tempfile.TemporaryDirectory() as workdir:
        video = Path(workdir) / "footage.avi"
        shown = render(video, width, height, frames)
        console.print(f"rendered {frames} frames at {width}x{height}, {len(shown)} cars")
        reader = video_settings.plate_reader()
        timed = TimedReader(reader)
        pipeline = VideoPipeline(
            timed,
            PipelineSettings(
                events=EventSettings(camera_id="bench"),
                sample_every=every,
                max_plates_per_frame=video_settings.max_plates_per_frame,
            ),
        )
        # As the box does on its first frame: the frame size and the motion regions.
        started = time.perf_counter()
        warmed = pipeline.warm_up((height, width, 3))
        warm_up_s = time.perf_counter() - started
        source = VideoFileSource(video)
        texts: list[str] = []
        stages_before = reader.stage_seconds()
        started = time.perf_counter()
        for frame in source:
            texts += [event.vehicle.text for event in pipeline.process(frame)]
        texts += [event.vehicle.text for event in pipeline.finish()]
        elapsed = time.perf_counter() - started
        stages_after = reader.stage_seconds()
    stats = pipeline.stats
    runs = timed.runs_ms or [0.0]
    console.print(f"vehicles read: {texts} (shown: {shown})")
    reader_ms = 1000 * stats.detector_seconds
    detect_ms = 1000 * (stages_after["detect"] - stages_before["detect"])
    recognise_ms = 1000 * (stages_after["recognise"] - stages_before["recognise"])
    per_run = max(1, stats.detector_runs)
    result = {
        "width": width,
        "height": height,
        "every": every,
        "settings": {
            key: getattr(getattr(video_settings, key), "value", getattr(video_settings, key))
            for key in ("detector_side", "coarse_side", "max_plates_per_frame", "threads")
        },
        "runtime": reader.runtime.value,
        "precision": reader.precision.value,
        "model_precisions": reader.precisions(),
        "cpu_flags": relevant_flags(cpu_flags()),
        "warm_up_s": round(warm_up_s, 1),
        "sizes_warmed": len(warmed),
        "frames": source.stats.frames,
        "fps": round(source.stats.frames / elapsed, 1),
        "ms_per_frame": round(1000 * elapsed / source.stats.frames, 1),
        "reader_runs": stats.detector_runs,
        "ms_per_reader_run": round(reader_ms / per_run, 1),
        "reader_run_median_ms": round(statistics.median(runs), 1),
        "reader_run_p95_ms": round(float(np.percentile(runs, 95)), 1),
        "reader_run_max_ms": round(max(runs), 1),
        "stages_mean_ms_per_run": {
            "detect": round(detect_ms / per_run, 1),
            "recognise": round(recognise_ms / per_run, 1),
            "decode": round((reader_ms - detect_ms - recognise_ms) / per_run, 1),
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "vehicles": len(texts),
        "correct": sum(1 for text in texts if text in shown),
        "cars_shown": len(shown),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    typer.run(main)
