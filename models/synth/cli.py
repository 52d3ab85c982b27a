"""`python -m models.synth`: synthetic Kazakh plates and roadside videos.

    python -m models.synth video road.mp4 --vehicles 7 --seed 3
    python -m models.synth video road.avi --vehicle "123 ABC 01:0:72" --vehicle "555 KZ 05:1:95"
    python -m models.synth plates samples/ --count 50 --seed 1 --degrade
    python -m models.synth kz-set kz-set/ --count 1000 --seed 7

`video` writes the video and `road.json` next to it (per vehicle: plate, lane, speed, radar
frame and time, visible frames). The same seed gives the same video. `kz-set` writes the
evaluation set of Kazakh and neighbouring plates in road scenes (models.synth.kzset).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Annotated

import cv2
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from models.synth.kzset import write_set
from models.synth.plates import Degradation, parse_plate, random_plate_text, render_plate
from models.synth.scene import SceneSettings, VehicleSpec, random_vehicles, render_video

app = typer.Typer(add_completion=False, help=__doc__)
stderr = Console(stderr=True, soft_wrap=True)


@app.callback()
def main() -> None:
    """Synthetic Kazakh licence plates and roadside videos."""


def _parse_vehicle(text: str, lanes: int) -> VehicleSpec:
    parts = text.split(":")
    if len(parts) != 3:
        raise typer.BadParameter(f"{text!r}: give PLATE:LANE:KMH, e.g. '123 ABC 01:0:72'")
    try:
        plate, _ = parse_plate(parts[0])
        lane, speed = int(parts[1]), float(parts[2])
    except ValueError as error:
        raise typer.BadParameter(f"{text!r}: {error}") from None
    if not 0 <= lane < lanes:
        raise typer.BadParameter(f"{text!r}: lane must be 0..{lanes - 1}")
    return VehicleSpec(plate, lane, speed)


@app.command()
def video(
    out: Annotated[Path, typer.Argument(help="Video file to write: .mp4 (mp4v) or .avi (MJPG).")],
    vehicles: Annotated[
        int, typer.Option(min=1, max=200, help="Number of random vehicles (without --vehicle).")
    ] = 7,
    vehicle: Annotated[
        list[str] | None,
        typer.Option(help="A given vehicle PLATE:LANE:KMH (repeat); replaces the random ones."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same video.")] = 0,
    lanes: Annotated[int, typer.Option(min=1, max=2, help="Lanes on the road.")] = 2,
    min_speed: Annotated[float, typer.Option(min=5.0, help="Random speeds from (km/h).")] = 40.0,
    max_speed: Annotated[
        float, typer.Option(max=250.0, help="Random speeds up to (km/h).")
    ] = 110.0,
    plate_width: Annotated[
        int, typer.Option(min=40, max=320, help="Plate width in pixels at the radar point.")
    ] = SceneSettings.plate_width_px,
) -> None:
    """Render a 1280x720, 25 fps road with vehicles driving at the camera, and its sidecar."""
    if min_speed > max_speed:
        raise typer.BadParameter("--min-speed is above --max-speed")
    rng = random.Random(seed)
    specs = (
        [_parse_vehicle(text, lanes) for text in vehicle]
        if vehicle
        else random_vehicles(vehicles, rng, lanes, (min_speed, max_speed))
    )
    try:
        settings = SceneSettings(lanes=lanes, plate_width_px=plate_width)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr,
    ) as progress:
        task = progress.add_task(out.name, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            rendered = render_video(out, specs, seed, settings, advance)
        except ValueError as error:
            stderr.print(f"[red]{error}[/red]")
            raise typer.Exit(2) from None
    for item in rendered.vehicles:
        stderr.print(
            f"{item.plate_display:>11}  lane {item.lane}  {item.speed_kmh:5.0f} km/h  "
            f"radar at {item.radar_time_s:6.2f} s (frame {item.radar_frame}), "
            f"visible in frames {item.first_frame}-{item.last_frame}"
        )
    stderr.print(
        f"{rendered.frame_count} frames ({rendered.frame_count / rendered.fps:.1f} s, "
        f"{rendered.codec}) in {rendered.render_seconds:.1f} s; sidecar {rendered.sidecar}"
    )


@app.command()
def plates(
    out_dir: Annotated[Path, typer.Argument(help="Folder for <name>.png + <name>.txt pairs.")],
    count: Annotated[int, typer.Option(min=1, max=100_000, help="How many plates.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same plates.")] = 0,
    width: Annotated[int, typer.Option(min=20, max=1040, help="Plate width in pixels.")] = 260,
    degrade: Annotated[
        bool, typer.Option(help="Add perspective, blur, noise, brightness and JPEG effects.")
    ] = False,
) -> None:
    """Write plate images with their text (one .txt per image, as models.evaluate reads)."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    index: dict[str, str] = {}
    for number in range(count):
        text = random_plate_text(rng)
        image = render_plate(text, rng, width, Degradation() if degrade else None)
        name = f"synth_{seed}_{number:05d}"
        if not cv2.imwrite(str(out_dir / f"{name}.png"), image):
            raise typer.BadParameter(f"cannot write images into {out_dir}")
        (out_dir / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
        index[name] = text
    (out_dir / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    stderr.print(f"{count} plates in {out_dir}")


@app.command("kz-set")
def kz_set(
    out_dir: Annotated[Path, typer.Argument(help="Folder for <name>.jpg + <name>.txt pairs.")],
    count: Annotated[int, typer.Option(min=1, max=100_000, help="How many images.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same set.")] = 7,
) -> None:
    """Road scenes with the plates a Kazakh road sees (Kazakh, Russian, Kyrgyz, Uzbek; one- and
    two-line; night IR, motion blur, angle, dirt, JPEG), annotated as models.evaluate reads."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr,
    ) as progress:
        task = progress.add_task(out_dir.name, total=count)
        try:
            written = write_set(
                out_dir, count, seed, lambda done: progress.update(task, completed=done)
            )
        except OSError as error:
            stderr.print(f"[red]{error}[/red]")
            raise typer.Exit(2) from None
    two_line = sum(item.two_line for item in written)
    families = sorted({item.format.split("_")[0] for item in written})
    stderr.print(
        f"{count} images in {out_dir} (seed {seed}): {two_line} two-line plates, "
        f"families {', '.join(families)}; evaluate with "
        f"python -m models.evaluate {out_dir} --config deploy/box.example.toml"
    )
