"""The recorder process: video in, signed fixations in the durable outbox out.

Two threads. The video thread reads frames (a file played in real time, a USB camera or an RTSP
stream), runs the plate pipeline and hands vehicle events over; a camera that drops out is
reconnected by the source while the main thread carries on. The main thread joins events with
the bridge's sensor readings (``ViolationJoiner``), records each violation with its evidence in
one durable step (``Outbox.record_fixation``) and keeps the box state current for the sender's
health report (camera alive, illuminator wanted)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from contract import DeviceKey, PlateRead, Position, now_utc
from edge.box.config import BoxConfig
from edge.box.join import Settled, Sighting, Violation, ViolationJoiner
from edge.box.journal import SensorJournal
from edge.store import EvidenceImage, Outbox, StorageFull
from edge.video import (
    LiveSource,
    VideoEvent,
    VideoFileSource,
    VideoFrame,
    VideoPipeline,
)
from edge.violations import build_fixation

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.2
STATE_INTERVAL_S = 1.0
# Mean grey level (0-255) of the scene: the illuminator goes on below DARK, off above LIGHT.
DARK, LIGHT = 50.0, 80.0
RETRY_LIMIT = 100
FIRST_FRAME_LOG = "first frame read"
WARM_UP_LOG = "plate reader warmed up"


@dataclass
class RecorderCounters:
    frames: int = 0
    dropped_frames: int = 0  # real-time playback: frames the box could not keep up with
    vehicles: int = 0
    fixations: int = 0
    not_recorded_disk_full: int = 0


def paced(frames: Iterable[VideoFrame], counters: RecorderCounters) -> Iterator[VideoFrame]:
    """A file's frames at the pace a live camera delivers them: late frames are dropped. The
    clock starts when the first frame arrives (after the box's warm-up, which reads it)."""
    started: float | None = None
    for frame in frames:
        if started is None:
            started = time.monotonic() - frame.timestamp
        lag = time.monotonic() - started - frame.timestamp
        if lag > 0.1:
            counters.dropped_frames += 1
            continue
        if lag < 0:
            time.sleep(-lag)
        yield frame


def _brightness(frame: VideoFrame) -> float:
    return float(np.mean(frame.image[::16, ::16]))


class Recorder:
    def __init__(
        self,
        config: BoxConfig,
        key: DeviceKey,
        outbox: Outbox,
        journal: SensorJournal,
        pipeline: VideoPipeline,
        source: VideoFileSource | LiveSource,
    ) -> None:
        self.config = config
        self.counters = RecorderCounters()
        self.joiner: ViolationJoiner[VideoEvent] = ViolationJoiner(config.rules, config.join)
        self._key = key
        self._outbox = outbox
        self._journal = journal
        self._pipeline = pipeline
        self._source = source
        self._events: queue.Queue[list[VideoEvent] | BaseException | None] = queue.Queue()
        self._stop = threading.Event()
        self._last_frame_at: float | None = None
        self._illuminator: bool | None = None
        self._retry: list[Violation[VideoEvent]] = []
        self._cursor = 0

    def stop(self) -> None:
        self._stop.set()
        if isinstance(self._source, LiveSource):
            self._source.stop()

    def run(self) -> RecorderCounters:
        """Record until the source ends (a file) or ``stop()``; then judge the vehicles still
        waiting for their join window and return."""
        swept = self._outbox.sweep_orphans()
        if swept:
            log.warning("removed %d evidence file(s) a crash left without a fixation", swept)
        self._cursor = self._journal.cursor_since(now_utc() - self.joiner.keep_readings)
        video = threading.Thread(target=self._video, name="recorder-video", daemon=True)
        video.start()
        failure: BaseException | None = None
        next_state_at = 0.0
        video_done = False
        while not video_done:
            try:
                item = self._events.get(timeout=POLL_INTERVAL_S)
            except queue.Empty:
                item = []
            if item is None:
                video_done = True
            elif isinstance(item, BaseException):
                failure, video_done = item, True
            else:
                self._add_sightings(item)
            self._judge(now_utc())
            if time.monotonic() >= next_state_at:
                next_state_at = time.monotonic() + STATE_INTERVAL_S
                self._write_state()
        self._drain_after_video()
        if failure is not None:
            raise failure
        return self.counters

    # --- video thread ----------------------------------------------------------------------

    def _video(self) -> None:
        try:
            frames: Iterable[VideoFrame] = self._warmed_up()
            if isinstance(self._source, VideoFileSource) and self.config.video.realtime:
                frames = paced(frames, self.counters)
            for frame in frames:
                if self._stop.is_set():
                    break
                self.counters.frames += 1
                if self._last_frame_at is None:
                    log.info("%s: %s", FIRST_FRAME_LOG, self.config.video.source)
                self._last_frame_at = time.time()
                self._want_illuminator(_brightness(frame))
                events = self._pipeline.process(frame)
                if events:
                    self._events.put(events)
            self._events.put(self._pipeline.finish())
            self._events.put(None)
        except BaseException as error:  # handed to the main thread, which reports and exits
            self._events.put(error)

    def _warmed_up(self) -> Iterator[VideoFrame]:
        """The source's frames, the first read before going live: the pipeline plans the
        shapes of the camera's frame size and the motion regions first (WARM_UP_LOG)."""
        frames = iter(self._source)
        first = next(frames, None)
        if first is None:
            return
        if isinstance(self._source, VideoFileSource):
            # A file's frames are stamped from when its reading starts: played again from
            # the start after the warm-up, so that the warm-up does not age them (their times
            # are joined with the radar's).
            close = getattr(frames, "close", None)
            if close is not None:
                close()
            self._warm_up(first)
            yield from self._source
            return
        self._warm_up(first)
        yield first
        yield from frames

    def _warm_up(self, first: VideoFrame) -> None:
        started = time.monotonic()
        sizes = self._pipeline.warm_up(first.image.shape)
        log.info(
            "%s: %d image sizes for %dx%d frames in %.1f s",
            WARM_UP_LOG,
            len(sizes),
            first.image.shape[1],
            first.image.shape[0],
            time.monotonic() - started,
        )

    def _want_illuminator(self, brightness: float) -> None:
        if brightness < DARK and self._illuminator is not True:
            self._illuminator = True
        elif brightness > LIGHT and self._illuminator is not False:
            self._illuminator = False

    # --- main thread -----------------------------------------------------------------------

    def _add_sightings(self, events: list[VideoEvent]) -> None:
        for event in events:
            self.counters.vehicles += 1
            vehicle = event.vehicle
            width = event.evidence.full_frame.width
            centre = (vehicle.plate_box.x + vehicle.plate_box.w / 2) / max(1, width)
            plate = PlateRead(
                text=vehicle.text,
                confidence=round(min(1.0, max(0.0, vehicle.confidence)), 4),
                format=vehicle.format or "generic",
                box=vehicle.plate_box.as_tuple(),
            )
            log.info(
                "vehicle %s (confidence %.2f, %d of %d reads agree)",
                vehicle.text,
                vehicle.confidence,
                vehicle.supporting_reads,
                vehicle.total_reads,
            )
            self.joiner.add_sighting(
                Sighting(event, plate, self.config.video.lane_at(centre), event.captured_at)
            )

    def _judge(self, now: datetime) -> None:
        while True:
            self._cursor, readings = self._journal.after(self._cursor)
            for reading in readings:
                self.joiner.add_reading(reading)
            if not readings:
                break
        settled = self.joiner.settle(now)
        self._report(settled)
        pending, self._retry = self._retry + settled.violations, []
        for violation in pending:
            self._record(violation)

    def _report(self, settled: Settled[VideoEvent]) -> None:
        for sighting in settled.compliant:
            log.info("no violation by %s", sighting.plate.text)
        for reading in settled.unread:
            log.warning("a violation was measured but no plate was read near it: %s", reading)

    def _record(self, violation: Violation[VideoEvent]) -> None:
        sighting, event = violation.sighting, violation.sighting.token
        fixation = build_fixation(
            rules=self.config.rules,
            decision=violation.decision,
            plate=sighting.plate,
            captured_at=sighting.seen_at,
            clock_source=self.config.clock_source,
            position=self._position(),
            evidence=event.evidence.refs,
            sequence=0,  # the outbox assigns the camera's next sequence number
        ).fixation
        images = [
            EvidenceImage(image.ref, image.data)
            for image in (event.evidence.full_frame, event.evidence.plate_crop)
        ]
        try:
            recorded = self._outbox.record_fixation(
                fixation, images, self.config.device_id, self._key
            )
        except StorageFull:
            if len(self._retry) < RETRY_LIMIT:
                self._retry.append(violation)
            else:
                self.counters.not_recorded_disk_full += 1
            return
        self.counters.fixations += 1
        log.info(
            "fixation #%d %s: %s %s",
            recorded.sequence,
            recorded.message_id,
            violation.decision.violation.value,
            sighting.plate.text,
        )

    def _position(self) -> Position | None:
        """The bridge's last validated fix, if it is recent enough to stand for this place."""
        state = self._journal.state()
        if state.position is None or state.position_at is None:
            return None
        if time.time() - state.position_at > self.config.health.gps_max_age_s:
            return None
        return state.position

    def _write_state(self) -> None:
        camera_error = None
        if isinstance(self._source, LiveSource) and self._last_frame_at is None:
            camera_error = "no frame from the camera yet"
        self._journal.update_state(
            camera_frame_at=self._last_frame_at,
            camera_error=camera_error,
            illuminator_wanted=self._illuminator,
        )

    def _drain_after_video(self) -> None:
        """A file has ended (or we were stopped): wait out the join window of the last
        vehicles so their readings can still arrive, then judge them."""
        deadline = time.monotonic() + self.joiner.settle_after.total_seconds() + 0.5
        while time.monotonic() < deadline and self.joiner.pending_sightings:
            time.sleep(POLL_INTERVAL_S)
            self._judge(now_utc())
        self._judge(now_utc() + timedelta(days=1))
        self._write_state()
