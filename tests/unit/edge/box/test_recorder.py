"""A file played as a live camera (edge.box.recorder.paced): late frames are dropped, early
ones wait."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np

from edge.box.recorder import RecorderCounters, paced
from edge.video import VideoFrame

FPS = 50.0


def frames(count: int) -> Iterator[VideoFrame]:
    image = np.zeros((4, 4, 3), np.uint8)
    for index in range(count):
        yield VideoFrame(index, index / FPS, datetime.now(UTC), image)


def test_a_consumer_slower_than_the_frame_rate_gets_the_current_frames_only() -> None:
    counters = RecorderCounters()
    seen = []
    for frame in paced(frames(50), counters):  # one second of video
        seen.append(frame.index)
        time.sleep(0.1)  # five frame periods per frame
    assert 6 <= len(seen) <= 14
    assert counters.dropped_frames == 50 - len(seen)
    assert seen == sorted(seen)


def test_a_fast_consumer_is_held_to_the_frame_rate_and_loses_nothing() -> None:
    counters = RecorderCounters()
    started = time.monotonic()
    seen = [frame.index for frame in paced(frames(25), counters)]
    assert seen == list(range(25)) and counters.dropped_frames == 0
    assert time.monotonic() - started >= 24 / FPS - 0.01
