"""Frame sources over OpenCV `VideoCapture`: a video file, a USB camera, an RTSP stream.

Bad input never ends the process. A frame that fails to decode, or decodes to an image of the
wrong shape, is skipped and counted. A file ends at its last readable frame (a truncated file
just ends early). A live source that stops delivering is closed and opened again, waiting a
little longer after each failed attempt, up to `max_backoff_s`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]

OPEN_TIMEOUT_MS = 5_000
READ_TIMEOUT_MS = 5_000


class SourceUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class VideoFrame:
    index: int  # position in the source, counting skipped frames too
    timestamp: float  # seconds on the source's clock (file position, or since start if live)
    captured_at: datetime
    image: Frame


@dataclass
class SourceStats:
    frames: int = 0  # frames delivered
    corrupt: int = 0  # frames that failed to decode or decoded to a broken image
    failed_reads: int = 0  # live sources: reads that returned nothing (a drop, a timeout)
    reconnects: int = 0
    failed_opens: int = 0
    missing_at_end: int = 0  # frames a file declares but never delivers (truncated file)


def open_capture(target: int | str) -> cv2.VideoCapture:
    """A `VideoCapture` with timeouts, so a dead camera cannot block the box forever."""
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        OPEN_TIMEOUT_MS,
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        READ_TIMEOUT_MS,
    ]
    if isinstance(target, int):
        return cv2.VideoCapture(target, cv2.CAP_ANY, params)
    return cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)


def parse_target(text: str) -> int | str:
    """'0' -> USB camera 0; anything else is a file path or stream URL."""
    return int(text) if text.isdigit() else text


@dataclass
class _ShapeCheck:
    """The first good frame fixes the expected shape; a different one is a broken frame."""

    shape: tuple[int, ...] | None = None

    def ok(self, image: npt.NDArray[Any] | None) -> bool:
        if image is None or image.size == 0 or image.ndim != 3 or image.dtype != np.uint8:
            return False
        if self.shape is None:
            self.shape = image.shape
        return image.shape == self.shape


@dataclass
class VideoFileSource:
    """A recorded video. Timestamps are the file position; `captured_at` is when reading
    started plus that position (a file does not say when it was filmed)."""

    path: Path
    max_consecutive_failures: int = 25
    stats: SourceStats = field(default_factory=SourceStats)

    def __iter__(self) -> Iterator[VideoFrame]:
        if not self.path.is_file():
            raise SourceUnavailable(f"video file {self.path} does not exist")
        capture = open_capture(str(self.path))
        if not capture.isOpened():
            raise SourceUnavailable(
                f"video file {self.path} cannot be opened: not a video, or a format OpenCV "
                "cannot read"
            )
        try:
            yield from self._frames(capture)
        finally:
            capture.release()

    @property
    def declared_frames(self) -> int:
        capture = open_capture(str(self.path))
        try:
            return max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
        finally:
            capture.release()

    def _frames(self, capture: cv2.VideoCapture) -> Iterator[VideoFrame]:
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        started = datetime.now(UTC)
        shape = _ShapeCheck()
        failures = 0
        index = -1
        while True:
            index += 1
            ok, image = capture.read()
            if ok and shape.ok(image):
                failures = 0
                self.stats.frames += 1
                timestamp = index / fps
                yield VideoFrame(
                    index,
                    timestamp,
                    started + timedelta(seconds=timestamp),
                    np.ascontiguousarray(image, dtype=np.uint8),
                )
                continue
            if not ok and (declared <= 0 or index >= declared):
                return  # the end of the file, not a broken frame
            self.stats.corrupt += 1
            failures += 1
            if failures >= self.max_consecutive_failures:
                # Truncated, or unreadable from here on: the run of failures is the missing
                # end of the file, not a few damaged frames.
                self.stats.corrupt -= failures
                self.stats.missing_at_end = max(0, declared - (index + 1 - failures))
                return


@dataclass
class Backoff:
    """Waits between reconnection attempts: `initial_s`, doubling up to `max_s`."""

    initial_s: float = 0.5
    max_s: float = 10.0
    current_s: float = field(init=False, default=0.0)

    def next_wait(self) -> float:
        self.current_s = (
            self.initial_s if self.current_s == 0.0 else min(self.max_s, self.current_s * 2)
        )
        return self.current_s

    def reset(self) -> None:
        self.current_s = 0.0


@dataclass
class LiveSource:
    """A USB camera index or an RTSP/HTTP URL, reopened whenever it stops delivering.

    Iterates until `stop()` is called, or until `max_open_attempts` consecutive attempts to
    open the source have failed (None: keep trying for ever, as a roadside box must).
    """

    target: int | str
    max_consecutive_failures: int = 10
    max_open_attempts: int | None = None
    backoff: Backoff = field(default_factory=Backoff)
    opener: Callable[[int | str], cv2.VideoCapture] = open_capture
    sleep: Callable[[float], None] = time.sleep
    stats: SourceStats = field(default_factory=SourceStats)
    _stopped: bool = field(init=False, default=False)

    def stop(self) -> None:
        self._stopped = True

    def __iter__(self) -> Iterator[VideoFrame]:
        start = time.monotonic()
        index = 0
        opened_before = False
        while not self._stopped:
            capture = self._open()
            if capture is None:
                return
            if opened_before:
                self.stats.reconnects += 1
            opened_before = True
            shape = _ShapeCheck()
            failures = 0
            try:
                while not self._stopped and failures < self.max_consecutive_failures:
                    ok, image = capture.read()
                    if ok and shape.ok(image):
                        failures = 0
                        self.stats.frames += 1
                        yield VideoFrame(
                            index,
                            time.monotonic() - start,
                            datetime.now(UTC),
                            np.ascontiguousarray(image, dtype=np.uint8),
                        )
                        index += 1
                    else:
                        # A camera switched to another resolution also lands here: after
                        # `max_consecutive_failures` the reconnection accepts the new shape.
                        failures += 1
                        if ok:
                            self.stats.corrupt += 1
                            index += 1
                        else:
                            self.stats.failed_reads += 1
            finally:
                capture.release()

    def _open(self) -> cv2.VideoCapture | None:
        attempts = 0
        while not self._stopped:
            capture = self.opener(self.target)
            if capture.isOpened():
                self.backoff.reset()
                return capture
            capture.release()
            self.stats.failed_opens += 1
            attempts += 1
            if self.max_open_attempts is not None and attempts >= self.max_open_attempts:
                plural = "s" if attempts > 1 else ""
                raise SourceUnavailable(
                    f"camera {self.target!r} could not be opened ({attempts} attempt{plural}); "
                    "check its cable or network address"
                )
            self.sleep(self.backoff.next_wait())
        return None


def open_source(spec: str) -> VideoFileSource | LiveSource:
    """A number is a USB camera, anything with a scheme (rtsp://, http://) a stream, the rest a
    video file (so a mistyped file name is reported as a missing file, not a dead camera)."""
    target = parse_target(spec)
    if isinstance(target, int) or "://" in target:
        return LiveSource(target)
    return VideoFileSource(Path(target))
