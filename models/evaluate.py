"""`python -m models.evaluate DIR`: accuracy and speed of the plate reader on annotated photos.

The last line printed is one JSON object: images, plates, exact, detected, median_ms and the
inference runtime used. Each photo is read for as many plates as the camera box reads in a frame
(its ``video.max_plates_per_frame``, from ``--config`` or the box's default), not for as many as
the annotation says are there: the score is the box's, misreadings of stray text included.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, NoReturn

import cv2
import numpy as np
import typer
from rich.console import Console
from rich.progress import Progress

from contract.config_file import ConfigError
from models.pipeline import PlateReader
from models.plate_format import FormatFamily
from models.runtime import Runtime
from models.scoring import ImageScore, PredictedPlate, parse_annotations, score_image, summarise

# The ladder that read both photo sets best for its time (models/manifest.json): most plates
# at 640, small ones at 960 and above.
DEFAULT_COARSE_SIDE = 640
DEFAULT_FINE_SIDES = (1280, 1920)

app = typer.Typer(add_completion=False, help=__doc__)


def annotated_images(folder: Path) -> list[tuple[Path, Path]]:
    """(image, annotation) pairs: every `<name>.jpg` that has a `<name>.txt` beside it."""
    pairs = []
    for image in sorted(folder.iterdir()):
        annotation = image.with_suffix(".txt")
        if image.suffix.lower() in (".jpg", ".jpeg") and annotation.is_file():
            pairs.append((image, annotation))
    return pairs


def box_max_plates(config: Path | None) -> int:
    """The most plates the box reads in one frame: its configuration's, or the default.

    Raises ``contract.config_file.ConfigError`` naming each bad key of the file."""
    # Imported here: the camera box builds on models, so models loads the box's settings only
    # when this tool runs, never on import.
    from edge.box.config import VideoSettings, load_box_config

    if config is None:
        return int(VideoSettings.model_fields["max_plates_per_frame"].default)
    return load_box_config(config).video.max_plates_per_frame


def evaluate_image(
    reader: PlateReader, image_path: Path, annotation_path: Path, max_plates: int
) -> ImageScore:
    annotations = parse_annotations(annotation_path)
    started = time.perf_counter()
    image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{image_path} is not a readable JPEG image (corrupt or truncated)")
    readings = reader.read_plates(np.asarray(image, np.uint8), limit=max_plates)
    elapsed_ms = (time.perf_counter() - started) * 1000
    predictions = [PredictedPlate(reading.box, reading.text) for reading in readings]
    return score_image(image_path.name, annotations, predictions, elapsed_ms)


@app.command()
def main(
    folder: Annotated[Path, typer.Argument(help="Folder of <name>.jpg + <name>.txt pairs.")],
    verbose: Annotated[bool, typer.Option("--verbose", help="Print one line per image.")] = False,
    formats: Annotated[
        list[FormatFamily] | None,
        typer.Option(
            "--formats",
            help="Plate format families expected at this site (positional prior); "
            "repeat the option for several. Default: kz.",
        ),
    ] = None,
    no_prior: Annotated[
        bool, typer.Option("--no-prior", help="Apply no positional format prior at all.")
    ] = False,
    detector_side: Annotated[
        int, typer.Option(help="Long side, in pixels, of the text detector's input.")
    ] = 960,
    coarse_side: Annotated[
        int | None,
        typer.Option(
            help="Search first at this smaller detector input; the full --detector-side pass "
            "runs only when no confident plate was read there (one at or above "
            "--detector-side: no coarse pass)."
        ),
    ] = DEFAULT_COARSE_SIDE,
    runtime: Annotated[
        Runtime, typer.Option(help="Inference runtime; auto: OpenVINO when installed.")
    ] = Runtime.AUTO,
    full_precision: Annotated[
        bool,
        typer.Option(
            "--full-precision",
            help="Compute in float32 with OpenVINO too (by default it uses the CPU's fastest "
            "precision: bfloat16 or float16 where the CPU has it).",
        ),
    ] = False,
    fine_side: Annotated[
        list[int] | None,
        typer.Option(
            help="Search again at this larger detector input when no confident plate was read "
            "at the smaller ones (repeat for several rungs; default 1280 and 1920; one at or "
            "below --detector-side: none)."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="A camera box's TOML configuration: read as many plates per photo as that "
            "box reads per frame (video.max_plates_per_frame). Default: the box's default.",
        ),
    ] = None,
) -> None:
    """Read every annotated photo in FOLDER and score the readings."""
    console = Console(stderr=True)
    if not folder.is_dir():
        _fail(f"{folder} is not a folder")
    pairs = annotated_images(folder)
    if not pairs:
        _fail(f"{folder} holds no <name>.jpg with a <name>.txt beside it")
    try:
        max_plates = box_max_plates(config)
    except ConfigError as error:
        _fail(str(error))
    expected = () if no_prior else tuple(formats or (FormatFamily.KZ,))
    reader = PlateReader(
        expected=expected,
        detector_side=detector_side,
        coarse_side=coarse_side,
        fine_sides=DEFAULT_FINE_SIDES if fine_side is None else fine_side,
        runtime=runtime,
        full_precision=full_precision,
    )
    try:
        scores = _evaluate_all(reader, pairs, max_plates, verbose, console)
    except ValueError as error:
        _fail(str(error))
    typer.echo(json.dumps({**summarise(scores), "runtime": reader.runtime.value}))


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code=1)


def _evaluate_all(
    reader: PlateReader,
    pairs: list[tuple[Path, Path]],
    max_plates: int,
    verbose: bool,
    console: Console,
) -> list[ImageScore]:
    first = cv2.imread(str(pairs[0][0]), cv2.IMREAD_COLOR)
    # Warm-up: the first runs allocate and plan their shapes, as a box does when it starts.
    reader.warm_up(first.shape if first is not None else (720, 1280))
    evaluate_image(reader, *pairs[0], max_plates)
    scores: list[ImageScore] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("reading plates", total=len(pairs))
        for image_path, annotation_path in pairs:
            score = evaluate_image(reader, image_path, annotation_path, max_plates)
            scores.append(score)
            if verbose:
                verdict = "ok  " if score.exact == score.plates else "MISS"
                typer.echo(
                    f"{verdict} {score.name}: expected {','.join(score.expected)} "
                    f"read {','.join(score.predicted) or '-'} "
                    f"detected {score.detected}/{score.plates} {score.milliseconds:.0f} ms"
                )
            progress.advance(task)
    return scores


if __name__ == "__main__":
    app()
