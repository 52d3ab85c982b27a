"""`python -m edge.video run VIDEO --out events.jsonl`: check a camera's footage end to end.

For technicians: runs a recorded video file (or a live camera, for a while) through the same
pipeline the box runs (gating, plate reading, tracking, voting, evidence) and prints one JSON
line per vehicle.
"""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from edge.video.events import EventSettings
from edge.video.gating import MotionMethod, MotionSettings
from edge.video.pipeline import PipelineSettings, VideoEvent, VideoPipeline
from edge.video.recogniser import PlateRecogniser
from edge.video.sources import LiveSource, SourceUnavailable, VideoFileSource, open_source
from edge.video.tracker import TrackerSettings

app = typer.Typer(help="Video on the camera box: run footage through the plate pipeline.")
stderr = Console(stderr=True, soft_wrap=True)


@app.callback()
def main() -> None:
    """Video tools for the camera box."""


def _load_recogniser(detector_side: int, threads: int) -> PlateRecogniser:
    # Imported here: loading the ONNX models takes a moment and `--help` should not wait.
    from models.pipeline import PlateReader

    return PlateReader(detector_side=detector_side, threads=threads)


def _parse_zone(text: str | None) -> list[tuple[int, int]] | None:
    if text is None:
        return None
    try:
        numbers = [int(value) for value in text.replace(";", ",").split(",")]
    except ValueError:
        raise typer.BadParameter(
            "the zone is x,y pairs of whole pixels: 0,400,1280,400,..."
        ) from None
    if len(numbers) < 6 or len(numbers) % 2:
        raise typer.BadParameter("the zone needs at least three x,y corners")
    return list(zip(numbers[::2], numbers[1::2], strict=True))


@app.command()
def run(
    video: Annotated[
        str,
        typer.Argument(
            help="Video file recorded by the camera, or a live camera: a USB index (0) or an "
            "RTSP URL."
        ),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Write events here as JSON lines (default: stdout).")
    ] = None,
    evidence_dir: Annotated[
        Path | None, typer.Option(help="Also save each event's JPEGs here, named by sha256.")
    ] = None,
    camera_id: Annotated[str, typer.Option(help="Camera id written into events.")] = "camera",
    every: Annotated[int, typer.Option(min=1, help="Run the reader on every Nth frame.")] = 1,
    zone: Annotated[
        str | None,
        typer.Option(help="Polygon x1,y1,x2,y2,... where plates are read (default: whole frame)."),
    ] = None,
    motion: Annotated[MotionMethod, typer.Option(help="Motion detection method.")] = (
        MotionMethod.DIFFERENCE
    ),
    gating: Annotated[
        bool, typer.Option(help="Read only frames with motion in the zone (--no-gating: all).")
    ] = True,
    repeat_window: Annotated[
        float, typer.Option(min=0.0, help="Seconds during which a plate is reported only once.")
    ] = 60.0,
    max_missed: Annotated[
        int, typer.Option(min=0, help="Reader runs without the plate before its track ends.")
    ] = 5,
    max_track_age: Annotated[
        int, typer.Option(min=1, help="Frames after which a still-visible vehicle is reported.")
    ] = 150,
    detector_side: Annotated[int, typer.Option(min=160, help="Text detector input size.")] = 960,
    threads: Annotated[int, typer.Option(min=1, help="CPU threads for the models.")] = 2,
    max_frames: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many frames (live cameras).")
    ] = None,
    open_attempts: Annotated[
        int, typer.Option(min=1, help="Attempts to open a live camera before giving up.")
    ] = 3,
) -> None:
    """Run VIDEO through the plate pipeline and print one JSON line per vehicle."""
    settings = PipelineSettings(
        events=EventSettings(
            camera_id=camera_id,
            tracker=TrackerSettings(max_missed=max_missed, max_track_age=max_track_age),
            repeat_window_s=repeat_window,
        ),
        sample_every=every,
        motion=None if not gating else MotionSettings(zone=_parse_zone(zone), method=motion),
    )
    source = open_source(video)
    total = None
    if isinstance(source, VideoFileSource):
        total = source.declared_frames or None
    else:
        source.max_open_attempts = open_attempts
    if max_frames is not None:
        total = min(total or max_frames, max_frames)
    try:
        pipeline = VideoPipeline(_load_recogniser(detector_side, threads), settings)
        with (
            out.open("w", encoding="utf-8") if out is not None else nullcontext(sys.stdout)
        ) as sink:
            count = _process(source, pipeline, sink, evidence_dir, total, max_frames, video)
    except SourceUnavailable as error:
        stderr.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    stats, source_stats = pipeline.stats, source.stats
    live = f", {source_stats.reconnects} reconnections" if isinstance(source, LiveSource) else ""
    stderr.print(
        f"{count} vehicles; {source_stats.frames} frames read, {source_stats.corrupt} unreadable"
        f"{_truncation(source_stats.missing_at_end)}{live}; "
        f"reader ran on {stats.detector_runs} frames "
        f"({stats.without_motion} without motion, {stats.sampled_out} sampled out)"
    )


def _process(
    source: VideoFileSource | LiveSource,
    pipeline: VideoPipeline,
    sink: TextIO,
    evidence_dir: Path | None,
    total: int | None,
    max_frames: int | None,
    name: str,
) -> int:
    """Feed the source through the pipeline with a progress bar; Ctrl-C ends it cleanly."""
    count = 0
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[events]} vehicles"),
        TimeRemainingColumn(),
        console=stderr,
    ) as progress:
        task = progress.add_task(Path(name).name or name, total=total, events=0)
        try:
            for seen, frame in enumerate(source, start=1):
                count += _emit(pipeline.process(frame), sink, evidence_dir)
                progress.update(task, advance=1, events=count)
                if max_frames is not None and seen >= max_frames:
                    break
        except KeyboardInterrupt:
            stderr.print("stopped: reporting the vehicles still in view")
        count += _emit(pipeline.finish(), sink, evidence_dir)
        progress.update(task, events=count)
    return count


def _emit(events: list[VideoEvent], sink: TextIO, evidence_dir: Path | None) -> int:
    for event in events:
        print(json.dumps(event.to_json(), ensure_ascii=False), file=sink, flush=True)
        if evidence_dir is not None:
            evidence_dir.mkdir(parents=True, exist_ok=True)
            for image in (event.evidence.full_frame, event.evidence.plate_crop):
                (evidence_dir / f"{image.sha256}.jpg").write_bytes(image.data)
    return len(events)


def _truncation(missing: int) -> str:
    return f" ({missing} frames missing at the end: truncated file?)" if missing else ""
