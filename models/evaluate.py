"""`python -m models.evaluate DIR --config box.toml`: the box's plate reader on annotated photos.

The reader is the one the box's ``[video]`` settings describe (``VideoSettings.plate_reader``:
detector side and ladder, plates per frame, format prior, runtime, precision, threads); without
``--config`` the box's defaults. An option given on the command line overrides the setting
of the same name and is printed as an override. Each photo is read for as many plates as the
box reads in a frame, not for as many as the annotation says: the score is the box's,
misreadings of stray text included.

Like the box, the reader plans its shapes for the first frame's size before it starts (the
first photo's, ``PlateReader.warm_up``); photos of other sizes pay their planning when they
come, and the p95 and the maximum show it.

The last line printed is one JSON object: accuracy (images, plates, exact, detected), time per
photo (median, p95, max; per stage: load, detect, recognise, decode), peak resident memory,
the runtime and precision each model ran in (as the runtime reports it), the CPU's relevant
flags, the settings used and the overrides.
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import cv2
import numpy as np
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress

from contract.config_file import ConfigError
from models.pipeline import PlateReader
from models.plate_format import FormatFamily
from models.runtime import Precision, Runtime, cpu_flags, relevant_flags
from models.scoring import ImageScore, PredictedPlate, parse_annotations, score_image, summarise

if TYPE_CHECKING:
    from edge.box.config import VideoSettings

app = typer.Typer(add_completion=False, help=__doc__)
STAGES = ("load", "detect", "recognise", "decode")


def annotated_images(folder: Path) -> list[tuple[Path, Path]]:
    """(image, annotation) pairs: every `<name>.jpg` that has a `<name>.txt` beside it."""
    pairs = []
    for image in sorted(folder.iterdir()):
        annotation = image.with_suffix(".txt")
        if image.suffix.lower() in (".jpg", ".jpeg") and annotation.is_file():
            pairs.append((image, annotation))
    return pairs


def box_video_settings(config: Path | None, overrides: dict[str, Any]) -> VideoSettings:
    """The box's ``[video]`` settings (its file's, or the defaults), with `overrides` applied
    and checked as the box checks its file.

    Raises ``contract.config_file.ConfigError`` naming each bad key of the file, and
    ``ValueError`` for an override the box would refuse."""
    # Imported here: the camera box builds on models, so models loads the box's settings only
    # when this tool runs, never on import.
    from edge.box.config import VideoSettings, load_box_config

    video = VideoSettings(source="evaluation") if config is None else load_box_config(config).video
    if not overrides:
        return video
    try:
        return VideoSettings.model_validate({**video.model_dump(exclude_unset=True), **overrides})
    except ValidationError as error:
        problems = "; ".join(
            f"video.{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise ValueError(f"the options given are not settings a box accepts: {problems}") from None


@dataclass(frozen=True)
class Timed:
    score: ImageScore
    stages_ms: dict[str, float]


def evaluate_image(
    reader: PlateReader, image_path: Path, annotation_path: Path, max_plates: int
) -> Timed:
    annotations = parse_annotations(annotation_path)
    started = time.perf_counter()
    image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{image_path} is not a readable JPEG image (corrupt or truncated)")
    loaded = time.perf_counter()
    before = reader.stage_seconds()
    readings = reader.read_plates(np.asarray(image, np.uint8), limit=max_plates)
    finished = time.perf_counter()
    after = reader.stage_seconds()
    stages = {name: 1000 * (after[name] - before[name]) for name in after}
    stages["load"] = 1000 * (loaded - started)
    # Decoding: everything of the reader but the two models (candidate lines, format
    # decoding, scoring, the second look's resizing).
    stages["decode"] = 1000 * (finished - loaded) - stages["detect"] - stages["recognise"]
    predictions = [PredictedPlate(reading.box, reading.text) for reading in readings]
    score = score_image(image_path.name, annotations, predictions, 1000 * (finished - started))
    return Timed(score, stages)


def figures(timed: list[Timed]) -> dict[str, Any]:
    """Accuracy and time per photo: median, p95 and max, and each stage's median and mean."""
    scores = [entry.score for entry in timed]
    milliseconds = [score.milliseconds for score in scores]
    return {
        **summarise(scores),
        "p95_ms": round(float(np.percentile(milliseconds, 95)), 1),
        "max_ms": round(max(milliseconds), 1),
        "stages_median_ms": {
            stage: round(statistics.median(entry.stages_ms[stage] for entry in timed), 1)
            for stage in STAGES
        },
        "stages_mean_ms": {
            stage: round(statistics.fmean(entry.stages_ms[stage] for entry in timed), 1)
            for stage in STAGES
        },
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@app.command()
def main(
    folder: Annotated[Path, typer.Argument(help="Folder of <name>.jpg + <name>.txt pairs.")],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="A camera box's TOML configuration: read the photos with its [video] "
            "settings. Default: the box's defaults.",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Print one line per image.")] = False,
    formats: Annotated[
        list[FormatFamily] | None,
        typer.Option(
            "--formats",
            help="Override video.formats: the plate format families expected (repeat the "
            "option for several).",
        ),
    ] = None,
    no_prior: Annotated[
        bool, typer.Option("--no-prior", help="Override video.formats with none at all.")
    ] = False,
    detector_side: Annotated[
        int | None, typer.Option(help="Override video.detector_side (pixels).")
    ] = None,
    coarse_side: Annotated[
        int | None, typer.Option(help="Override video.coarse_side (pixels; 0: no coarse rung).")
    ] = None,
    fine_side: Annotated[
        list[int] | None,
        typer.Option(help="Override video.fine_sides (repeat for several rungs; 0: none)."),
    ] = None,
    max_plates: Annotated[
        int | None, typer.Option(help="Override video.max_plates_per_frame.")
    ] = None,
    runtime: Annotated[Runtime | None, typer.Option(help="Override video.runtime.")] = None,
    precision: Annotated[Precision | None, typer.Option(help="Override video.precision.")] = None,
    threads: Annotated[int | None, typer.Option(help="Override video.threads.")] = None,
) -> None:
    """Read every annotated photo in FOLDER as the box would, and score the readings."""
    console = Console(stderr=True)
    if not folder.is_dir():
        _fail(f"{folder} is not a folder")
    pairs = annotated_images(folder)
    if not pairs:
        _fail(f"{folder} holds no <name>.jpg with a <name>.txt beside it")
    given: dict[str, Any] = {}  # the settings given on the command line
    if no_prior or formats is not None:
        given["formats"] = [] if no_prior else formats
    if coarse_side is not None:
        given["coarse_side"] = coarse_side or None
    if fine_side is not None:
        given["fine_sides"] = [side for side in fine_side if side]
    for key, value in (
        ("detector_side", detector_side),
        ("max_plates_per_frame", max_plates),
        ("runtime", runtime),
        ("precision", precision),
        ("threads", threads),
    ):
        if value is not None:
            given[key] = value
    try:
        video = box_video_settings(config, given)
    except (ConfigError, ValueError) as error:
        _fail(str(error))
    for key, value in given.items():
        typer.echo(f"override: video.{key} = {json.dumps(_plain(value))}", err=True)
    reader = video.plate_reader()
    try:
        timed = _evaluate_all(reader, pairs, video.max_plates_per_frame, verbose, console)
    except ValueError as error:
        _fail(str(error))
    result = {
        **figures(timed),
        "peak_rss_mb": peak_rss_mb(),
        "runtime": reader.runtime.value,
        "precision": reader.precision.value,
        "model_precisions": reader.precisions(),
        "cpu_flags": relevant_flags(cpu_flags()),
        "config": None if config is None else str(config),
        "settings": {
            key: _plain(getattr(video, key))
            for key in (
                "detector_side",
                "coarse_side",
                "fine_sides",
                "max_plates_per_frame",
                "formats",
                "runtime",
                "precision",
                "threads",
            )
        },
        "ladder": list(reader.sides),  # the detector sides searched, in order
        "overrides": sorted(given),
    }
    typer.echo(json.dumps(result))


def _plain(value: Any) -> Any:
    """A setting as JSON shows it (enums by value)."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return getattr(value, "value", value)


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code=1)


def _evaluate_all(
    reader: PlateReader,
    pairs: list[tuple[Path, Path]],
    max_plates: int,
    verbose: bool,
    console: Console,
) -> list[Timed]:
    first = cv2.imread(str(pairs[0][0]), cv2.IMREAD_COLOR)
    # As the box on its first frame: plan the shapes of this frame size, nothing else.
    reader.warm_up(first.shape if first is not None else (720, 1280))
    timed: list[Timed] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("reading plates", total=len(pairs))
        for image_path, annotation_path in pairs:
            entry = evaluate_image(reader, image_path, annotation_path, max_plates)
            timed.append(entry)
            score = entry.score
            if verbose:
                verdict = "ok  " if score.exact == score.plates else "MISS"
                typer.echo(
                    f"{verdict} {score.name}: expected {','.join(score.expected)} "
                    f"read {','.join(score.predicted) or '-'} "
                    f"detected {score.detected}/{score.plates} {score.milliseconds:.0f} ms"
                )
            progress.advance(task)
    return timed


if __name__ == "__main__":
    app()
