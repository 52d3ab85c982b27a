"""Frame sources over real OpenCV captures: corrupt and truncated files, live reconnection."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.video.sources import Backoff, LiveSource, SourceUnavailable, VideoFileSource, open_source

FRAMES = 40


def write_video(path: Path, frames: int = FRAMES) -> Path:
    """An MJPEG AVI of a bright box moving right; every frame is its own JPEG in the file."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25, (320, 240))
    for index in range(frames):
        image = np.full((240, 320, 3), 80, np.uint8)
        cv2.rectangle(image, (index * 5, 100), (index * 5 + 60, 130), (255, 255, 255), -1)
        writer.write(image)
    writer.release()
    return path


def frame_chunks(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of each frame's JPEG inside the AVI 'movi' list."""
    chunks = []
    position = data.find(b"movi")
    end = data.find(b"idx1")
    while (position := data.find(b"00dc", position + 4)) != -1 and position < end:
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        chunks.append((position + 8, size))
    return chunks


def corrupt_frames(path: Path, frame_numbers: list[int]) -> None:
    """Overwrite whole JPEG payloads with garbage: those frames cannot be decoded."""
    data = bytearray(path.read_bytes())
    chunks = frame_chunks(bytes(data))
    garbage = np.random.default_rng(1)
    for number in frame_numbers:
        offset, size = chunks[number]
        data[offset : offset + size] = garbage.integers(0, 256, size, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def test_a_clean_file_yields_every_frame_in_order(tmp_path: Path) -> None:
    source = VideoFileSource(write_video(tmp_path / "clean.avi"))
    frames = list(source)
    assert [frame.index for frame in frames] == list(range(FRAMES))
    assert frames[10].timestamp == pytest.approx(10 / 25)
    assert frames[0].image.shape == (240, 320, 3)
    assert (source.stats.frames, source.stats.corrupt, source.stats.missing_at_end) == (
        FRAMES,
        0,
        0,
    )


def test_corrupt_frames_are_skipped_and_counted(tmp_path: Path) -> None:
    path = write_video(tmp_path / "corrupt.avi")
    corrupt_frames(path, [5, 17, 18, 30])
    source = VideoFileSource(path)
    frames = list(source)
    assert source.stats.corrupt == 4
    assert source.stats.frames == FRAMES - 4
    indices = [frame.index for frame in frames]
    assert 5 not in indices and 17 not in indices and 30 not in indices
    assert indices[-1] == FRAMES - 1  # the file is read to its end past the damage


def test_a_truncated_file_ends_early_without_an_error(tmp_path: Path) -> None:
    path = write_video(tmp_path / "truncated.avi")
    data = path.read_bytes()
    cut = frame_chunks(data)[20][0]
    path.write_bytes(data[:cut])
    source = VideoFileSource(path, max_consecutive_failures=5)
    frames = list(source)
    assert 15 <= len(frames) <= 20
    assert source.stats.missing_at_end == FRAMES - len(frames)
    assert source.stats.corrupt == 0


def test_a_file_that_is_not_a_video_is_refused_with_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "notes.avi"
    path.write_bytes(b"this is not a video" * 100)
    with pytest.raises(SourceUnavailable, match="cannot be opened"):
        list(VideoFileSource(path))
    with pytest.raises(SourceUnavailable, match="does not exist"):
        list(VideoFileSource(tmp_path / "missing.avi"))


def test_a_live_source_reconnects_when_the_stream_drops(tmp_path: Path) -> None:
    """A file opened as a 'live' target ends like a dropped stream: the source reopens it."""
    path = write_video(tmp_path / "stream.avi", frames=10)
    source = LiveSource(str(path), max_consecutive_failures=1, sleep=lambda _: None)
    frames = []
    for frame in source:
        frames.append(frame)
        if len(frames) == 25:
            source.stop()
    assert source.stats.reconnects == 2
    assert source.stats.failed_reads == 2
    assert [frame.index for frame in frames] == list(range(25))  # indices keep counting up


def test_a_live_source_backs_off_between_failed_opens_then_recovers(tmp_path: Path) -> None:
    path = write_video(tmp_path / "camera.avi", frames=5)
    attempts: list[str] = []

    def flaky_camera(target: int | str) -> cv2.VideoCapture:
        attempts.append(str(target))
        # The camera is unreachable for the first three attempts.
        return cv2.VideoCapture(
            str(tmp_path / "offline.avi") if len(attempts) <= 3 else str(target)
        )

    waits: list[float] = []
    source = LiveSource(
        str(path), opener=flaky_camera, sleep=waits.append, backoff=Backoff(0.5, 1.5)
    )
    frames = []
    for frame in source:
        frames.append(frame)
        if len(frames) == 5:
            source.stop()
    assert waits == [0.5, 1.0, 1.5]
    assert source.stats.failed_opens == 3
    assert len(frames) == 5


def test_a_camera_that_never_answers_gives_up_after_max_attempts(tmp_path: Path) -> None:
    waits: list[float] = []
    source = LiveSource(str(tmp_path / "offline.avi"), max_open_attempts=3, sleep=waits.append)
    with pytest.raises(SourceUnavailable, match="could not be opened \\(3 attempts\\)"):
        list(source)
    assert waits == [0.5, 1.0]


def test_open_source_tells_files_cameras_and_urls_apart(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.avi", frames=2)
    assert isinstance(open_source(str(path)), VideoFileSource)
    camera = open_source("0")
    assert isinstance(camera, LiveSource) and camera.target == 0
    stream = open_source("rtsp://10.0.0.5/stream1")
    assert isinstance(stream, LiveSource) and stream.target == "rtsp://10.0.0.5/stream1"
    assert isinstance(open_source(str(tmp_path / "mistyped.avi")), VideoFileSource)
