"""The synthetic roadside video read by the real edge pipeline (`python -m edge.video run`,
PP-OCRv6 through models.PlateReader): every vehicle once, with its plate, near its radar point.

This is what the end-to-end demo relies on: the video's sidecar says which plates drive past,
and the camera box must report each of them exactly once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from models.synth import VehicleSpec, load_sidecar, render_video, sidecar_path
from tests.support.paths import REPOSITORY

ROOT = REPOSITORY

# Both lanes, both formats, slow and fast, letters that look like digits (B, O, S, Z, G, I).
VEHICLES = [
    VehicleSpec("108 BOS 02", lane=0, speed_kmh=60.0),
    VehicleSpec("520 ZG 16", lane=1, speed_kmh=105.0),
    VehicleSpec("961 IDK 20", lane=1, speed_kmh=80.0),
]


# Rendering the video, then the pipeline's own 240 s: above both, so that the subprocess
# timeout (with the pipeline's stderr) fires before pyproject's global 120 s would.
@pytest.mark.timeout(330)
def test_every_vehicle_of_the_video_is_read_once_with_its_plate(tmp_path: Path) -> None:
    video = tmp_path / "road.mp4"
    render_video(video, VEHICLES, seed=21)
    sidecar = load_sidecar(sidecar_path(video))
    events_file = tmp_path / "events.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "edge.video", "run", str(video), "--out", str(events_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    read = [event["plate"]["text"] for event in events]
    assert read == [vehicle["plate"] for vehicle in sidecar["vehicles"]], result.stderr
    for event, vehicle in zip(events, sidecar["vehicles"], strict=True):
        assert event["plate"]["format"] == (
            "kz_person" if len(vehicle["plate"]) == 8 else "kz_organisation"
        )
        # The reads belong to this vehicle's pass and go on until its plate leaves the
        # picture, right after the radar point.
        assert vehicle["first_frame"] <= event["first_frame_index"]
        assert event["first_frame_index"] <= event["best_frame_index"] <= vehicle["last_frame"]
        assert abs(event["last_frame_index"] - vehicle["radar_frame"]) <= 3
