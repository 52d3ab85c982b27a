"""Video pipeline benchmark: frames per second through the whole camera-box pipeline.

Renders synthetic roadside footage at the box's resolution (cars with Kazakh-style plates
driving across, an empty road between them) into an MJPEG file, then times the real pipeline
on it: decoding, frame sampling, motion gating, plate reading (models.PlateReader, ONNX on the
CPU), tracking, voting and JPEG evidence.

Prints progress, then one JSON object as the last line: fps (frames read per second of wall
time, everything included), ms_per_frame, reader_runs, ms_per_reader_run, vehicles, correct.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import cv2
import numpy as np
import typer
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge.video import EventSettings, PipelineSettings, VideoFileSource, VideoPipeline
from models.pipeline import PlateReader

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


def main(
    width: Annotated[int, typer.Option(help="Frame width of the box's camera.")] = 1280,
    height: Annotated[int, typer.Option(help="Frame height of the box's camera.")] = 720,
    frames: Annotated[int, typer.Option(min=30, help="Frames of footage to time.")] = 300,
    every: Annotated[int, typer.Option(min=1, help="Run the reader on every Nth frame.")] = 2,
    detector_side: Annotated[int, typer.Option(min=160, help="Text detector input size.")] = 960,
    threads: Annotated[int, typer.Option(min=1, help="CPU threads for the models.")] = 2,
    coarse_side: Annotated[
        int | None,
        typer.Option(help="Search first at this smaller detector input (see models.pipeline)."),
    ] = None,
) -> None:
    """Time the video pipeline on synthetic footage and print JSON as the last line."""
    with tempfile.TemporaryDirectory() as workdir:
        video = Path(workdir) / "footage.avi"
        shown = render(video, width, height, frames)
        console.print(f"rendered {frames} frames at {width}x{height}, {len(shown)} cars")
        reader = PlateReader(detector_side=detector_side, threads=threads, coarse_side=coarse_side)
        reader.warm_up((height, width))
        pipeline = VideoPipeline(
            reader,
            PipelineSettings(events=EventSettings(camera_id="bench"), sample_every=every),
        )
        source = VideoFileSource(video)
        texts: list[str] = []
        started = time.perf_counter()
        for frame in source:
            texts += [event.vehicle.text for event in pipeline.process(frame)]
        texts += [event.vehicle.text for event in pipeline.finish()]
        elapsed = time.perf_counter() - started
    stats = pipeline.stats
    console.print(f"vehicles read: {texts} (shown: {shown})")
    result = {
        "width": width,
        "height": height,
        "every": every,
        "detector_side": detector_side,
        "coarse_side": coarse_side,
        "runtime": reader.runtime.value,
        "frames": source.stats.frames,
        "fps": round(source.stats.frames / elapsed, 1),
        "ms_per_frame": round(1000 * elapsed / source.stats.frames, 1),
        "reader_runs": stats.detector_runs,
        "ms_per_reader_run": round(1000 * stats.detector_seconds / max(1, stats.detector_runs), 1),
        "vehicles": len(texts),
        "correct": sum(1 for text in texts if text in shown),
        "cars_shown": len(shown),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    typer.run(main)
