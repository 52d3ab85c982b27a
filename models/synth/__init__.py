"""Synthetic Kazakh plates and roadside video, for the demo, tests and detector training.

Public face:
- `random_plate_text(rng)`: a valid Kazakh plate text (`123ABC01` or `123AB01`), per
  `models.plate_format`.
- `render_plate(text, rng, width=260, degradation=None)`: the plate as a BGR uint8 image, as
  the real plate looks (flag and KZ, condensed bold characters, region box); `Degradation`
  adds perspective, blur, noise, brightness and JPEG effects drawn from `rng`.
- `render_video(path, vehicles, seed, settings)`: a 1280x720 road with `VehicleSpec`s driving
  at the camera, written with OpenCV, plus a JSON sidecar (`RenderedVideo`, `VehiclePass`).
- `python -m models.synth video OUT.mp4 --vehicles N --seed S` (and `plates DIR`).
- `python -m models.synth kz-set OUT --count 1000 --seed 7`: the evaluation set of the plates a
  Kazakh road sees (Kazakh, Russian, Kyrgyz, Uzbek; one- and two-line) in road scenes, drawn by
  `models.synth.layouts` in the stroke typeface of `models.synth.glyphs` (no font file), with
  the camera's effects of `models.synth.kzset`; annotated as `python -m models.evaluate` reads.

Needs Pillow (for the bundled FreeType font) and OpenCV.
"""

from models.synth.plates import (
    NO_DEGRADATION,
    Degradation,
    degrade,
    display_text,
    draw_plate,
    parse_plate,
    random_plate_text,
    random_text_in_format,
    render_plate,
)
from models.synth.scene import (
    RenderedVideo,
    SceneSettings,
    VehiclePass,
    VehicleSpec,
    load_sidecar,
    random_vehicles,
    render_frames,
    render_video,
    sidecar_path,
)

__all__ = [
    "NO_DEGRADATION",
    "Degradation",
    "RenderedVideo",
    "SceneSettings",
    "VehiclePass",
    "VehicleSpec",
    "degrade",
    "display_text",
    "draw_plate",
    "load_sidecar",
    "parse_plate",
    "random_plate_text",
    "random_text_in_format",
    "random_vehicles",
    "render_frames",
    "render_plate",
    "render_video",
    "sidecar_path",
]
