"""The whole plate pipeline on real ONNX models, and `python -m models.evaluate` end to end.

The photos are synthetic scenes drawn here (a car-coloured block with a white plate); the
shared evaluation photos are never copied into the repository.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from models import pipeline
from models.ocr import Box, TextBox, TextDetector
from models.pipeline import PlateReader
from models.plate_format import FormatFamily
from models.regions import SURROUNDINGS_SIZES, enlarged_surroundings, on_canvas

PLATE_X, PLATE_Y, PLATE_W, PLATE_H = 360, 300, 270, 60


def street_scene(plate_text: str) -> npt.NDArray[np.uint8]:
    scene = np.full((540, 960, 3), 90, np.uint8)
    cv2.rectangle(scene, (100, 150), (860, 480), (60, 60, 140), -1)
    corner, far_corner = (PLATE_X, PLATE_Y), (PLATE_X + PLATE_W, PLATE_Y + PLATE_H)
    cv2.rectangle(scene, corner, far_corner, (255, 255, 255), -1)
    cv2.rectangle(scene, corner, far_corner, (0, 0, 0), 2)
    cv2.putText(
        scene,
        plate_text,
        (PLATE_X + 12, PLATE_Y + 45),
        cv2.FONT_HERSHEY_SIMPLEX,
        1.3,
        (0, 0, 0),
        3,
        cv2.LINE_AA,
    )
    return scene


def write_sample(folder: Path, name: str, drawn: str, annotated: str) -> None:
    cv2.imwrite(str(folder / f"{name}.jpg"), street_scene(drawn))
    (folder / f"{name}.txt").write_text(
        f"{name}.jpg\t{PLATE_X}\t{PLATE_Y}\t{PLATE_W}\t{PLATE_H}\t{annotated}\n"
    )


def rungs_searched(ladder: PlateReader, frame_shape: tuple[int, ...]) -> list[int | None]:
    """The detector sides at which `ladder` goes on to search whole frames of `frame_shape`,
    in order (a second look comes on its own canvas and is not counted)."""
    searched: list[int | None] = []
    detect = ladder._detector.detect

    def counting_detect(image: npt.NDArray[np.uint8], side: int | None = None) -> list[TextBox]:
        if image.shape[:2] == frame_shape[:2]:
            searched.append(side)
        return detect(image, side)

    ladder._detector.detect = counting_detect  # type: ignore[method-assign]
    return searched


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader(expected=(FormatFamily.KZ,), detector_side=640)


def test_reads_a_kazakh_plate_with_its_format_and_box(reader: PlateReader) -> None:
    reading = reader.read(street_scene("123ABC01"))
    assert reading is not None
    assert (reading.text, reading.format) == ("123ABC01", "kz_person")
    assert reading.confidence > 0.5
    assert abs(reading.box.x - PLATE_X) < 30 and abs(reading.box.y - PLATE_Y) < 30


def test_a_coarse_first_search_reads_the_same_plate() -> None:
    coarse = PlateReader(
        expected=(FormatFamily.KZ,), detector_side=960, coarse_side=480, fine_sides=(1920, 640)
    )
    assert coarse.sides == (480, 960, 1920)  # smallest first; a "fine" rung below 960 dropped
    reading = coarse.read(street_scene("123ABC01"))
    assert reading is not None and reading.text == "123ABC01"


def test_a_plate_found_on_a_finer_rung_is_read_and_the_rungs_are_tried_in_order() -> None:
    # The whole scene at 40 % in a 1080p frame: its plate text is 12 px high. Whichever rung
    # reads it (that depends on the CPU's rounding and the model), the ladder reads it, after
    # trying the rungs smallest first and stopping at the first confident plate.
    small = cv2.resize(street_scene("123ABC01"), None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    frame[600 : 600 + small.shape[0], 900 : 900 + small.shape[1]] = small
    ladder = PlateReader(expected=(FormatFamily.KZ,), detector_side=640, fine_sides=(1920,))
    searched = rungs_searched(ladder, frame.shape)
    reading = ladder.read(frame)
    assert reading is not None and reading.text == "123ABC01"
    assert searched in ([640], [640, 1920])


@pytest.mark.parametrize(
    ("drawn", "ladder_climbed"), [("123ABC01", False), ("TAXI2417", True), ("AB2417", True)]
)
def test_a_plate_of_a_known_layout_read_alike_twice_ends_the_search(
    drawn: str, ladder_climbed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No reading is confident enough to end the search by its score alone here: what ends it
    # at the first rung is the second look reading a Kazakh layout's text again. Text of no
    # fixed layout read twice alike goes on up the ladder (and to the contrast-equalised look).
    monkeypatch.setattr(pipeline, "ACCEPT_SCORE", 2.0)
    frame = np.full((720, 1280, 3), 90, np.uint8)
    frame[100:640, 200:1160] = street_scene(drawn)
    ladder = PlateReader(expected=(FormatFamily.KZ,), detector_side=640, fine_sides=(1280,))
    searched = rungs_searched(ladder, frame.shape)
    reading = ladder.read(frame)
    assert reading is not None and reading.text == drawn
    assert reading.refined and reading.confirmed
    assert searched == ([640, 1280, 640] if ladder_climbed else [640])


@pytest.mark.parametrize(("drawn", "equalised"), [("123ABC01", False), ("TAXI2417", True)])
def test_the_contrast_equalised_look_is_for_frames_without_a_plate_of_a_known_layout(
    drawn: str, equalised: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing ends the search early here: every rung is searched. A Kazakh plate read on them
    # shows the detector saw the plate, and the frame is not searched again equalised; text
    # of no known layout (a taxi's roof sign, say) is no such evidence.
    monkeypatch.setattr(pipeline, "ACCEPT_SCORE", 2.0)
    monkeypatch.setattr(pipeline, "CONFIRMED_ACCEPT_SCORE", 2.0)
    ladder = PlateReader(expected=(FormatFamily.KZ,), detector_side=640, fine_sides=(960,))
    searched = rungs_searched(ladder, (540, 960))
    reading = ladder.read(street_scene(drawn))
    assert reading is not None and reading.text == drawn
    assert searched == ([640, 960, 640] if equalised else [640, 960])


@pytest.mark.parametrize(("drawn", "looked_again"), [("TAXI2417", True), ("123ABC01", False)])
def test_a_small_plate_is_read_again_enlarged_unless_read_for_sure(
    reader: PlateReader, drawn: str, looked_again: bool
) -> None:
    # Text of no fixed layout gets the second look and keeps its first box; a confident
    # Kazakh plate, which no longer plate could have been read short as, does not.
    small = cv2.resize(street_scene(drawn), None, fx=0.5, fy=0.5)
    (first,) = sorted(
        reader._read_lines(small, reader._detector.detect(small)),
        key=lambda reading: -reading.score,
    )[:1]
    assert first.box.h < 64
    reading = reader.read(small)
    assert reading is not None and reading.text == drawn
    assert reading.refined is looked_again
    assert reading.box == first.box
    large = replace(first, box=replace(first.box, h=80))
    assert reader.refine(small, large) is large  # tall enough: no second look


def test_reading_only_the_best_plate_skips_text_that_cannot_win(reader: PlateReader) -> None:
    scene = street_scene("123ABC01")
    for row, words in enumerate(("AB12CD", "SALE 45", "TAXI 7")):
        cv2.putText(
            scene, words, (120, 190 + 30 * row), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1
        )
    every = sorted(reader.candidates(scene), key=lambda reading: -reading.score)
    pruned = reader.candidates(scene, only_best=True)
    assert len(pruned) < len(every)  # the small lines were never read
    best = max(pruned, key=lambda reading: reading.score)
    assert best.text == every[0].text == "123ABC01"
    assert best.box == every[0].box


def test_frame_without_text_yields_no_plate(reader: PlateReader) -> None:
    # A plate read off an even grey frame would be a false fixation, not a better reader.
    assert reader.read(np.full((480, 640, 3), 120, np.uint8)) is None


def run_evaluate(folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "models.evaluate", str(folder), "--detector-side", "640", *options],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_evaluate_scores_a_folder_and_ends_with_one_json_line(tmp_path: Path) -> None:
    write_sample(tmp_path, "read_right", "ABC1234", "abc-1234")
    write_sample(tmp_path, "annotated_other", "ABC1234", "XYZ9876")
    write_sample(tmp_path, "kazakh", "777AB02", "777 AB 02")
    cv2.imwrite(str(tmp_path / "no_annotation.jpg"), street_scene("QQQ1111"))
    (tmp_path / "notes.txt").write_text("not an annotation of any image\n")

    result = run_evaluate(tmp_path, "--verbose")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert {
        "images",
        "plates",
        "exact",
        "detected",
        "median_ms",
        "p95_ms",
        "max_ms",
        "stages_median_ms",
        "peak_rss_mb",
        "runtime",
        "precision",
        "model_precisions",
        "cpu_flags",
        "settings",
        "overrides",
    } <= set(summary)
    assert summary["runtime"] == "openvino"
    assert summary["median_ms"] <= summary["p95_ms"] <= summary["max_ms"]
    assert set(summary["stages_median_ms"]) == {"load", "detect", "recognise", "decode"}
    assert summary["stages_median_ms"]["detect"] > 0
    assert summary["peak_rss_mb"] > 50
    assert summary["model_precisions"]["text_detector"]["hint"] == "f32"  # never bfloat16
    assert summary["overrides"] == ["detector_side"]
    assert "override: video.detector_side = 640" in result.stderr
    assert (summary["images"], summary["plates"]) == (3, 3)
    assert summary["exact"] == pytest.approx(2 / 3, abs=1e-3)
    assert summary["detected"] == 1.0
    assert summary["median_ms"] > 0
    per_image = "\n".join(lines[:-1])
    assert "MISS annotated_other.jpg: expected XYZ9876 read ABC1234" in per_image
    assert "ok   kazakh.jpg: expected 777AB02 read 777AB02" in per_image


BOX_CONFIG = """device_id = "cam-ast-0001"
key_file = "/etc/erap/keys/cam.pem"
data_dir = "/var/lib/erap-box"
[registry]
url = "https://registry.erap.kz"
[video]
source = "0"
max_plates_per_frame = {max_plates}
[serial]
port = "/dev/ttyAMA0"
[rules]
zone = "Astana"
[rules.speeding]
limit_kmh = 60
"""


def test_evaluate_reads_as_many_plates_as_the_box_is_configured_to(tmp_path: Path) -> None:
    """Two cars in one photo: the box's default reads both; a box set to one plate per frame
    reads one, and the score says so."""
    photos = tmp_path / "photos"
    photos.mkdir()
    cv2.imwrite(
        str(photos / "two.jpg"), np.vstack([street_scene("123ABC01"), street_scene("777AB02")])
    )
    (photos / "two.txt").write_text(
        f"two.jpg\t{PLATE_X}\t{PLATE_Y}\t{PLATE_W}\t{PLATE_H}\t123ABC01\n"
        f"two.jpg\t{PLATE_X}\t{PLATE_Y + 540}\t{PLATE_W}\t{PLATE_H}\t777AB02\n"
    )
    one_plate = tmp_path / "box.toml"
    one_plate.write_text(BOX_CONFIG.format(max_plates=1), encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(BOX_CONFIG.format(max_plates=0), encoding="utf-8")

    by_default = run_evaluate(photos)
    configured = run_evaluate(photos, "--config", str(one_plate))
    refused = run_evaluate(photos, "--config", str(bad))

    assert by_default.returncode == 0, by_default.stderr
    assert json.loads(by_default.stdout.splitlines()[-1])["detected"] == 1.0
    assert configured.returncode == 0, configured.stderr
    assert json.loads(configured.stdout.splitlines()[-1])["detected"] == 0.5
    assert refused.returncode == 1
    assert "video.max_plates_per_frame" in refused.stderr


def test_evaluate_refuses_a_corrupt_photo_with_a_clear_message(tmp_path: Path) -> None:
    write_sample(tmp_path, "good", "ABC1234", "ABC1234")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (tmp_path / "broken.txt").write_text("broken.jpg\t1\t1\t10\t10\tABC1234\n")

    result = run_evaluate(tmp_path)

    assert result.returncode == 1
    assert "broken.jpg is not a readable JPEG image" in result.stderr


def test_evaluate_refuses_a_folder_without_annotated_photos(tmp_path: Path) -> None:
    result = run_evaluate(tmp_path)
    assert result.returncode != 0
    assert "holds no <name>.jpg with a <name>.txt" in result.stderr


def test_a_plate_faint_as_at_dusk_is_read(reader: PlateReader) -> None:
    # The whole scene squeezed into ten grey levels, as at dusk: white 70, black 60. Today's
    # detector sees nothing in it and the contrast-equalised look reads it; a detector that
    # sees it directly passes too (when that look runs: the tests of `_seen_by_the_detector`).
    faint = (60 + street_scene("123ABC01").astype(np.float32) * (10 / 255)).astype(np.uint8)
    reading = reader.read(faint)
    assert reading is not None and reading.text == "123ABC01"
    assert abs(reading.box.x - PLATE_X) < 30 and abs(reading.box.y - PLATE_Y) < 30


def test_rungs_the_frame_is_too_small_for_are_not_searched_again() -> None:
    ladder = PlateReader(expected=(FormatFamily.KZ,), detector_side=640, fine_sides=(960, 1920))
    searched = rungs_searched(ladder, (480, 640))
    # A frame with nothing on it sends the search up every rung whatever the models can read
    # (text that no rung reads as a plate did too, until a better reader read it as one).
    ladder.read(np.full((480, 640, 3), 120, np.uint8))
    # 960 and 1920 would see the 640x480 frame at 640x480 again; the last search is the
    # contrast-equalised one.
    assert searched == [640, 640]


def test_a_line_read_on_a_smaller_rung_is_not_read_again(reader: PlateReader) -> None:
    scene = street_scene("123ABC01")
    boxes = reader._detector.detect(scene)
    first = reader._read_lines(scene, boxes)
    assert any(reading.text == "123ABC01" for reading in first)
    again = reader._read_lines(scene, boxes, known=first)
    assert again == []


@pytest.mark.parametrize("height", [8, 15, 21, 22, 30, 45, 63, 64, 100])
@pytest.mark.parametrize("aspect", [1.5, 3.0, 5.0, 8.0])
def test_the_second_looks_regions_come_in_the_sizes_warmed_up(height: int, aspect: float) -> None:
    frame = np.zeros((720, 1280, 3), np.uint8)
    box = Box(500, 300, round(aspect * height), height)
    region, origin, zoom = enlarged_surroundings(frame, box)
    canvas, side = on_canvas(region)
    assert TextDetector.input_size(canvas.shape, side) in SURROUNDINGS_SIZES
    assert (canvas[: region.shape[0], : region.shape[1]] == region).all()
    assert origin == (box.x - round(0.6 * height), box.y - round(0.4 * height))
    assert round(box.h * zoom) == min(64, 3 * height)


def test_a_reader_warmed_up_reads_as_before(reader: PlateReader) -> None:
    scene = street_scene("123ABC01")
    before = reader.read(scene)
    reader.warm_up(scene.shape)
    assert reader.read(scene) == before


def evaluation_settings(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert result.returncode == 0, result.stderr
    summary: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return summary


def test_evaluate_runs_the_boxs_video_settings_and_prints_what_the_options_override(
    tmp_path: Path,
) -> None:
    from edge.box.config import VideoSettings

    photos = tmp_path / "photos"
    photos.mkdir()
    write_sample(photos, "one", "ABC1234", "ABC1234")
    box = tmp_path / "box.toml"
    box.write_text(
        BOX_CONFIG.format(max_plates=2).replace(
            'source = "0"\n',
            'source = "0"\ndetector_side = 800\ncoarse_side = 480\nfine_sides = [1280]\n'
            'formats = ["br"]\nprecision = "f32"\nruntime = "onnxruntime"\nthreads = 1\n',
        ),
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "models.evaluate", str(photos)]

    def run(*options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *options], capture_output=True, text=True, timeout=120, check=False
        )

    as_the_box = evaluation_settings(run("--config", str(box)))
    overridden = run("--config", str(box), "--formats", "us", "--coarse-side", "0")
    defaults = evaluation_settings(run())
    refused = run("--config", str(box), "--detector-side", "100")

    assert as_the_box["settings"] == {
        "detector_side": 800,
        "coarse_side": 480,
        "fine_sides": [1280],
        "max_plates_per_frame": 2,
        "formats": ["br"],
        "runtime": "onnxruntime",
        "precision": "f32",
        "threads": 1,
    }
    assert (as_the_box["runtime"], as_the_box["precision"]) == ("onnxruntime", "f32")
    assert as_the_box["overrides"] == []
    changed = evaluation_settings(overridden)["settings"]
    assert changed["formats"] == ["us"] and changed["coarse_side"] is None  # type: ignore[index]
    assert changed["detector_side"] == 800  # type: ignore[index]
    assert 'override: video.formats = ["us"]' in overridden.stderr
    assert "override: video.coarse_side = null" in overridden.stderr
    # Without a file: the box's own defaults, the one source of them.
    box_defaults = VideoSettings(source="0")
    assert defaults["settings"] == {
        key: box_defaults.model_dump(mode="json")[key]
        for key in as_the_box["settings"]  # type: ignore[union-attr]
    }
    assert refused.returncode == 1
    assert "video.detector_side" in refused.stderr
