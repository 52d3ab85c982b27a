"""Synthetic roadside video: the file OpenCV reads back, its sidecar, determinism per seed."""

from __future__ import annotations

import json
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from models.synth import (
    SceneSettings,
    VehicleSpec,
    load_sidecar,
    random_vehicles,
    render_frames,
    render_video,
    sidecar_path,
)
from models.synth.cli import app

FAST = [VehicleSpec("123 ABC 01", 0, 110.0), VehicleSpec("777 AB 02", 1, 120.0)]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "road.mp4"
    render_video(path, FAST, seed=11)
    return path


def test_the_video_opens_with_the_stated_size_and_frame_count(rendered: Path) -> None:
    sidecar = load_sidecar(sidecar_path(rendered))
    capture = cv2.VideoCapture(str(rendered))
    try:
        assert capture.isOpened()
        assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == sidecar["frame_count"]
        assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(25.0)
        frames = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            assert frame.shape == (720, 1280, 3)
            frames += 1
    finally:
        capture.release()
    assert frames == sidecar["frame_count"]
    assert (sidecar["width"], sidecar["height"], sidecar["codec"]) == (1280, 720, "mp4v")


def test_the_sidecar_describes_each_vehicle_consistently(rendered: Path) -> None:
    sidecar = json.loads(sidecar_path(rendered).read_text())
    vehicles = sidecar["vehicles"]
    assert [(v["plate"], v["plate_display"], v["lane"], v["speed_kmh"]) for v in vehicles] == [
        ("123ABC01", "123 ABC 01", 0, 110.0),
        ("777AB02", "777 AB 02", 1, 120.0),
    ]
    previous_last = -1
    for vehicle in vehicles:
        assert previous_last < vehicle["first_frame"] - 5  # one after another, with a gap
        assert vehicle["first_frame"] < vehicle["radar_frame"] <= vehicle["last_frame"]
        assert vehicle["last_frame"] < sidecar["frame_count"]
        assert vehicle["radar_time_s"] == pytest.approx(vehicle["radar_frame"] / 25.0)
        x, y, w, h = vehicle["plate_box"]
        assert x >= 0 and y >= 0 and x + w <= 1280 and y + h <= 720  # wholly in view
        assert w == pytest.approx(SceneSettings().plate_width_px, abs=2)
        assert 720 - (y + h) < 30  # the nearest point: near the bottom of the picture
        previous_last = vehicle["last_frame"]
    # Lane 0 is the left one.
    assert vehicles[0]["plate_box"][0] < 640 < vehicles[1]["plate_box"][0]


def test_vehicles_are_visible_exactly_in_their_frame_ranges() -> None:
    passes, frame_count, frame_at = render_frames(FAST, seed=11)
    empty = frame_at(0)
    assert passes[0].first_frame > 0
    for vehicle in passes:
        assert np.array_equal(frame_at(vehicle.first_frame - 1), empty)
        assert not np.array_equal(frame_at(vehicle.first_frame), empty)
        assert not np.array_equal(frame_at(vehicle.last_frame), empty)
        assert np.array_equal(frame_at(vehicle.last_frame + 1), empty)
        # At the radar point the sidecar's plate box holds a white plate with black text.
        x, y, w, h = vehicle.plate_box
        plate = frame_at(vehicle.radar_frame)[y : y + h, x : x + w].mean(axis=2)
        assert np.mean(plate > 170) > 0.4 and np.mean(plate < 80) > 0.1
    assert np.array_equal(frame_at(frame_count - 1), empty)


def test_vehicles_grow_as_they_approach() -> None:
    passes, _, frame_at = render_frames(FAST[:1], seed=2)
    vehicle = passes[0]
    empty = frame_at(0)

    def width(index: int) -> int:
        changed = np.any(frame_at(index) != empty, axis=2)
        columns = np.nonzero(changed.any(axis=0))[0]
        return int(columns.max() - columns.min() + 1)

    quarter = (vehicle.radar_frame - vehicle.first_frame) // 4
    widths = [width(vehicle.first_frame + step * quarter) for step in range(4)]
    widths.append(width(vehicle.radar_frame))
    assert widths == sorted(widths) and widths[-1] > 4 * widths[0]


def test_same_seed_same_frames_other_seed_other_frames() -> None:
    first = render_frames(FAST, seed=5)
    second = render_frames(FAST, seed=5)
    other = render_frames(FAST, seed=6)
    assert first[0] == second[0] and first[1] == second[1]
    radar = first[0][1].radar_frame
    assert np.array_equal(first[2](radar), second[2](radar))
    assert not np.array_equal(first[2](radar), other[2](radar))


def test_random_vehicles_are_distinct_and_deterministic() -> None:
    vehicles = random_vehicles(30, random.Random(4), lanes=2)
    assert vehicles == random_vehicles(30, random.Random(4), lanes=2)
    assert len({v.plate for v in vehicles}) == 30
    assert {v.lane for v in vehicles} == {0, 1}
    assert all(40 <= v.speed_kmh <= 110 for v in vehicles)
    assert {v.lane for v in random_vehicles(10, random.Random(4), lanes=1)} == {0}


@pytest.mark.parametrize(
    ("vehicles", "message"),
    [
        ([VehicleSpec("123ABC01"), VehicleSpec("123 ABC 01")], "twice"),
        ([VehicleSpec("123ABC01", lane=2)], "lane"),
        ([VehicleSpec("123ABC01", speed_kmh=0.0)], "speed"),
        ([VehicleSpec("ABC1D23")], "not a Kazakh plate"),
    ],
)
def test_bad_vehicle_lists_are_refused(vehicles: list[VehicleSpec], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_frames(vehicles)


def test_the_command_writes_video_and_sidecar(tmp_path: Path) -> None:
    out = tmp_path / "clip.avi"
    result = CliRunner().invoke(
        app, ["video", str(out), "--vehicle", "555 KZ 05:1:130", "--seed", "3", "--lanes", "2"]
    )
    assert result.exit_code == 0, result.output
    sidecar = load_sidecar(tmp_path / "clip.json")
    assert sidecar["codec"] == "MJPG" and sidecar["vehicles"][0]["plate"] == "555KZ05"
    capture = cv2.VideoCapture(str(out))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == sidecar["frame_count"]
    capture.release()


def test_the_command_explains_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["video", "--help"]).exit_code == 0
    result = runner.invoke(app, ["video", str(tmp_path / "x.mp4"), "--vehicle", "nonsense"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["video", str(tmp_path / "x.mkv"), "--vehicles", "1"])
    assert result.exit_code == 2
