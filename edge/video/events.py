"""One event per vehicle: tracking, voting and repeat suppression, with no images or I/O.

`VehicleEvents` is the pure core of the video pipeline. It is fed each frame's plate detections
(or told that a frame went by without detection) and answers with the vehicle events that are
due: a track's reads voted into one text, once per track, with repeats of the same plate on the
same camera inside `repeat_window_s` dropped (a car stopping and starting again in view, or a
track broken by a long occlusion, must not yield a second fixation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge.video.geometry import BBox
from edge.video.tracker import Detection, ReadyTrack, ReportReason, Tracker, TrackerSettings
from edge.video.voting import DEFAULT_MIN_SIMILARITY, Read, vote


@dataclass(frozen=True)
class EventSettings:
    camera_id: str
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    min_reads: int = 2  # a single read is too often a sign, a sticker or a reflection
    min_confidence: float = 0.3
    repeat_window_s: float = 60.0
    min_similarity: float = DEFAULT_MIN_SIMILARITY


@dataclass(frozen=True)
class VehicleEvent:
    camera_id: str
    track_id: int
    text: str
    confidence: float
    format: str
    best_frame_index: int
    best_timestamp: float
    plate_box: BBox  # in the best frame
    first_frame_index: int
    last_frame_index: int
    supporting_reads: int
    total_reads: int
    reason: ReportReason


class RepeatSuppressor:
    """Remembers when each plate was last reported per camera, for `window_s` seconds."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._last_seen: dict[tuple[str, str], float] = {}

    def admit(self, camera_id: str, text: str, timestamp: float) -> bool:
        """True if this plate was not reported on this camera within the window before
        `timestamp`; an admitted report opens a new window."""
        self._last_seen = {
            key: seen for key, seen in self._last_seen.items() if timestamp - seen < self.window_s
        }
        key = (camera_id, text)
        if key in self._last_seen:
            return False
        self._last_seen[key] = timestamp
        return True


@dataclass
class EventStats:
    tracks_reported: int = 0
    too_few_reads: int = 0
    low_confidence: int = 0
    repeats_suppressed: int = 0
    events: int = 0


class VehicleEvents:
    def __init__(self, settings: EventSettings) -> None:
        self.settings = settings
        self.tracker = Tracker(settings.tracker)
        self.stats = EventStats()
        self._repeats = RepeatSuppressor(settings.repeat_window_s)

    def observe(self, frame_index: int, detections: list[Detection]) -> list[VehicleEvent]:
        """A frame on which the detector ran (`detections` may be empty)."""
        return self._events(self.tracker.update(frame_index, detections).ready)

    def skip(self, frame_index: int) -> list[VehicleEvent]:
        """A frame on which the detector did not run (sampled out or no motion): tracks do
        not miss a read, but long-lived ones still fall due."""
        return self._events(self.tracker.due(frame_index))

    def finish(self) -> list[VehicleEvent]:
        """The stream ended: every track still open is reported."""
        return self._events(self.tracker.drain())

    def _events(self, ready: list[ReadyTrack]) -> list[VehicleEvent]:
        events = []
        for item in ready:
            event = self._event(item)
            if event is not None:
                events.append(event)
        return events

    def _event(self, item: ReadyTrack) -> VehicleEvent | None:
        self.stats.tracks_reported += 1
        track = item.track
        if len(track.detections) < self.settings.min_reads:
            self.stats.too_few_reads += 1
            return None
        voted = vote(
            [Read(d.text, d.confidence, d.format) for d in track.detections],
            self.settings.min_similarity,
        )
        if voted is None or voted.confidence < self.settings.min_confidence:
            self.stats.low_confidence += 1
            return None
        best = track.best
        if not self._repeats.admit(self.settings.camera_id, voted.text, best.timestamp):
            self.stats.repeats_suppressed += 1
            return None
        self.stats.events += 1
        return VehicleEvent(
            camera_id=self.settings.camera_id,
            track_id=track.track_id,
            text=voted.text,
            confidence=voted.confidence,
            format=voted.format,
            best_frame_index=best.frame_index,
            best_timestamp=best.timestamp,
            plate_box=best.box,
            first_frame_index=track.first_frame_index,
            last_frame_index=track.last.frame_index,
            supporting_reads=voted.supporting_reads,
            total_reads=voted.total_reads,
            reason=item.reason,
        )
