"""The whole video pipeline with the real plate reader (models.PlateReader, PP-OCR ONNX).

The footage is synthetic, made here with cv2.VideoWriter: cars with plate-like text driving
across a road, an empty road between them, a few misread-looking frames and damaged frames.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from contract.wire import EvidenceRole
from edge.video import (
    EventSettings,
    PipelineSettings,
    ReportReason,
    TrackerSettings,
    VideoEvent,
    VideoFileSource,
    VideoPipeline,
)
from models.pipeline import PlateReader
from tests.support.paths import REPOSITORY

ROOT = REPOSITORY
WIDTH, HEIGHT = 640, 360


def road() -> np.ndarray:
    image = np.full((HEIGHT, WIDTH, 3), (90, 95, 100), np.uint8)
    cv2.rectangle(image, (0, HEIGHT // 2), (WIDTH, HEIGHT), (60, 60, 60), -1)
    return image


def draw_car(image: np.ndarray, plate: str, x: int, y: int = 200) -> None:
    cv2.rectangle(image, (x, y - 70), (x + 260, y + 80), (40, 40, 150), -1)
    cv2.rectangle(image, (x + 30, y), (x + 230, y + 44), (255, 255, 255), -1)
    cv2.rectangle(image, (x + 30, y), (x + 230, y + 44), (0, 0, 0), 2)
    cv2.putText(
        image, plate, (x + 37, y + 34), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 3, cv2.LINE_AA
    )


def write_footage(
    path: Path, scenes: list[tuple[str | None, int]], misread: dict[int, str]
) -> Path:
    """Each scene is (plate or None for an empty road, number of frames); the car drives
    12 px a frame. `misread` replaces the plate's text in some frames."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25, (WIDTH, HEIGHT))
    index = 0
    for plate, frames in scenes:
        for step in range(frames):
            image = road()
            if plate is not None:
                draw_car(image, misread.get(index, plate), 20 + 12 * step)
            writer.write(image)
            index += 1
    writer.release()
    return path


def damage_frames(path: Path, frame_numbers: list[int]) -> None:
    data = bytearray(path.read_bytes())
    chunks: list[tuple[int, int]] = []
    position, end = data.find(b"movi"), data.find(b"idx1")
    while (position := data.find(b"00dc", position + 4)) != -1 and position < end:
        chunks.append((position + 8, int.from_bytes(data[position + 4 : position + 8], "little")))
    for number in frame_numbers:
        offset, size = chunks[number]
        data[offset : offset + size] = bytes([0x5A]) * size
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def reader() -> Iterator[PlateReader]:
    yield PlateReader(detector_side=640)


def run(pipeline: VideoPipeline, source: VideoFileSource) -> list[VideoEvent]:
    events: list[VideoEvent] = []
    for frame in source:
        events += pipeline.process(frame)
    return events + pipeline.finish()


def test_two_cars_give_two_voted_events_with_evidence(tmp_path: Path, reader: PlateReader) -> None:
    # Frames 0-21 first car, 22-31 empty road, 32-53 second car. The first car's plate is
    # drawn as 123ABO01 in two sampled frames; frames 9 and 40 are damaged in the file.
    path = write_footage(
        tmp_path / "street.avi",
        [("123ABC01", 22), (None, 10), ("777KZA02", 22)],
        misread={6: "123ABO01", 12: "123ABO01"},
    )
    damage_frames(path, [9, 40])
    settings = PipelineSettings(
        events=EventSettings(camera_id="cam-test-01", tracker=TrackerSettings(max_missed=3)),
        sample_every=2,
    )
    pipeline = VideoPipeline(reader, settings)
    source = VideoFileSource(path)
    events = run(pipeline, source)

    assert source.stats.corrupt == 2
    assert [event.vehicle.text for event in events] == ["123ABC01", "777KZA02"]
    first, second = (event.vehicle for event in events)
    assert first.reason is ReportReason.TRACK_ENDED
    assert second.reason is ReportReason.END_OF_STREAM
    assert first.total_reads >= 6 and first.supporting_reads < first.total_reads
    assert first.format == "kz_person"
    assert 0 <= first.best_frame_index < 22 and 32 <= second.best_frame_index < 54
    # The empty road did not run the reader; sampling skipped every other frame.
    assert pipeline.stats.without_motion >= 3
    assert pipeline.stats.sampled_out == 26

    for event in events:
        full, crop = event.evidence.full_frame, event.evidence.plate_crop
        assert full.sha256 == hashlib.sha256(full.data).hexdigest()
        assert (full.width, full.height) == (WIDTH, HEIGHT)
        box = event.vehicle.plate_box
        assert 150 <= box.w <= 260 and 30 <= box.h <= 80
        # The crop really shows the plate: mostly white, with dark characters.
        image = cv2.imdecode(np.frombuffer(crop.data, np.uint8), cv2.IMREAD_GRAYSCALE)
        assert image is not None
        assert np.mean(image > 200) > 0.35 and np.mean(image < 60) > 0.05
        record = event.to_json()
        assert record["plate"]["text"] == event.vehicle.text
        assert [ref["role"] for ref in record["evidence"]] == [
            EvidenceRole.FULL_FRAME.value,
            EvidenceRole.PLATE_CROP.value,
        ]


def test_the_command_writes_json_lines_and_evidence_files(tmp_path: Path) -> None:
    video = write_footage(tmp_path / "clip.avi", [("555XYZ05", 16)], misread={})
    events_file, evidence_dir = tmp_path / "events.jsonl", tmp_path / "evidence"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge.video",
            "run",
            str(video),
            "--out",
            str(events_file),
            "--evidence-dir",
            str(evidence_dir),
            "--every",
            "2",
            "--detector-side",
            "640",
            "--camera-id",
            "cam-check",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = events_file.read_text().splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert (event["camera_id"], event["plate"]["text"]) == ("cam-check", "555XYZ05")
    for ref in event["evidence"]:
        saved = (evidence_dir / f"{ref['sha256']}.jpg").read_bytes()
        assert hashlib.sha256(saved).hexdigest() == ref["sha256"]
        assert len(saved) == ref["size_bytes"]
    assert "1 vehicles; 16 frames read, 0 unreadable" in result.stderr


def test_the_command_explains_an_unreadable_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 4096)
    result = subprocess.run(
        [sys.executable, "-m", "edge.video", "run", str(broken)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "cannot be opened" in result.stderr


def test_the_command_gives_up_on_a_camera_that_does_not_answer(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge.video",
            "run",
            "rtsp://127.0.0.1:9/stream1",
            "--open-attempts",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "could not be opened (1 attempt)" in result.stderr


def test_a_car_that_stops_in_view_is_reported_after_the_bounded_delay(
    tmp_path: Path, reader: PlateReader
) -> None:
    """The car drives in, then waits (no motion: the reader stops running); its event comes
    from a gated-out frame, with the evidence frame kept from when it was read."""
    path = tmp_path / "queue.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25, (WIDTH, HEIGHT))
    for index in range(60):
        image = road()
        draw_car(image, "246KMT05", 20 + 12 * min(index, 8))
        writer.write(image)
    writer.release()
    settings = PipelineSettings(
        events=EventSettings(camera_id="cam-test-01", tracker=TrackerSettings(max_track_age=40))
    )
    pipeline = VideoPipeline(reader, settings)
    emitted: list[tuple[VideoEvent, int]] = []
    for frame in VideoFileSource(path):
        emitted += [(event, frame.index) for event in pipeline.process(frame)]
    assert pipeline.finish() == []
    assert len(emitted) == 1
    event, emitted_at = emitted[0]
    assert event.vehicle.text == "246KMT05"
    assert event.vehicle.reason is ReportReason.MAX_AGE
    assert emitted_at == 40
    assert event.vehicle.best_frame_index <= 9
    assert pipeline.stats.without_motion >= 45
