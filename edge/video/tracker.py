"""Associating plate detections across frames into one track per vehicle.

Each track predicts where its plate will be (last box moved by its smoothed velocity), and
detections are matched to predictions greedily, best pair first: an IoU overlap counts more than
a centre within reach, and a similar text breaks ties, which keeps two crossing vehicles apart.
A track ends after `max_missed` detector runs without a match; a long-lived track (a vehicle
queuing at a red light) is reported after `max_track_age` frames instead of waiting for its end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from edge.video.geometry import BBox, centre_distance, iou
from edge.video.voting import similarity

VELOCITY_SMOOTHING = 0.5  # weight of the newest displacement in the velocity estimate


@dataclass(frozen=True)
class Detection:
    """A plate read in one frame, as the recogniser returned it."""

    frame_index: int
    timestamp: float  # seconds on the source's clock, for repeat windows
    box: BBox
    text: str
    confidence: float
    format: str
    sharpness: float = 0.0  # variance of the Laplacian of the plate crop; higher is sharper

    @property
    def quality(self) -> tuple[float, float]:
        """How good a frame this is as evidence: read confidence first, then sharpness."""
        return (self.confidence, self.sharpness)


@dataclass(frozen=True)
class TrackerSettings:
    min_iou: float = 0.05
    max_centre_distance: float = 2.0  # in diagonals of the predicted plate box
    max_missed: int = 5  # detector runs without a match before the track ends
    max_track_age: int = 150  # frames from the first read until the track is reported anyway
    max_reads: int = 100  # reads kept per track; enough to vote, bounded in memory

    def __post_init__(self) -> None:
        if self.max_missed < 0 or self.max_track_age < 1 or self.max_reads < 3:
            raise ValueError(
                "tracker limits: max_missed >= 0, max_track_age >= 1 and max_reads >= 3"
            )


class ReportReason(StrEnum):
    TRACK_ENDED = "track_ended"
    MAX_AGE = "max_age"
    END_OF_STREAM = "end_of_stream"


@dataclass
class Track:
    track_id: int
    detections: list[Detection]
    missed: int = 0
    reported: bool = False
    velocity: tuple[float, float] = (0.0, 0.0)  # pixels per frame
    best: Detection = field(init=False)

    def __post_init__(self) -> None:
        self.best = max(self.detections, key=lambda detection: detection.quality)

    @property
    def last(self) -> Detection:
        return self.detections[-1]

    @property
    def first_frame_index(self) -> int:
        return self.detections[0].frame_index

    def predicted_box(self, frame_index: int) -> BBox:
        elapsed = frame_index - self.last.frame_index
        return self.last.box.shifted(self.velocity[0] * elapsed, self.velocity[1] * elapsed)

    def add(self, detection: Detection, max_reads: int) -> None:
        elapsed = detection.frame_index - self.last.frame_index
        if elapsed > 0:
            (new_x, new_y), (old_x, old_y) = detection.box.centre, self.last.box.centre
            step = ((new_x - old_x) / elapsed, (new_y - old_y) / elapsed)
            self.velocity = (
                VELOCITY_SMOOTHING * step[0] + (1 - VELOCITY_SMOOTHING) * self.velocity[0],
                VELOCITY_SMOOTHING * step[1] + (1 - VELOCITY_SMOOTHING) * self.velocity[1],
            )
        if len(self.detections) >= max_reads:
            # Keep the first read and the best read; drop the oldest of the others.
            del self.detections[1 if self.detections[1] is not self.best else 2]
        self.detections.append(detection)
        self.missed = 0
        if detection.quality > self.best.quality:
            self.best = detection


@dataclass(frozen=True)
class ReadyTrack:
    """A track whose reads are due for voting, and why now."""

    track: Track
    reason: ReportReason


@dataclass(frozen=True)
class TrackerUpdate:
    assigned: list[tuple[Track, Detection]]
    ready: list[ReadyTrack]


class Tracker:
    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self.settings = settings or TrackerSettings()
        self._tracks: list[Track] = []
        self._next_id = 1

    @property
    def active(self) -> list[Track]:
        return list(self._tracks)

    def _pair_score(self, track: Track, detection: Detection) -> float:
        """Higher is a better match; 0.0 means the pair may not be matched at all."""
        predicted = track.predicted_box(detection.frame_index)
        text_bonus = 0.5 * similarity(track.best.text, detection.text)
        overlap = iou(predicted, detection.box)
        if overlap >= self.settings.min_iou:
            return 2.0 + overlap + text_bonus
        reach = self.settings.max_centre_distance * max(predicted.diagonal, 1.0)
        distance = centre_distance(predicted, detection.box)
        if distance <= reach:
            return 1.0 - distance / reach + text_bonus + 1e-6
        return 0.0

    def update(self, frame_index: int, detections: list[Detection]) -> TrackerUpdate:
        """Feed the detections of one frame on which the detector ran."""
        pairs = [
            (score, track_number, detection_number)
            for track_number, track in enumerate(self._tracks)
            for detection_number, detection in enumerate(detections)
            if (score := self._pair_score(track, detection)) > 0.0
        ]
        matched_tracks: set[int] = set()
        matched_detections: set[int] = set()
        assigned: list[tuple[Track, Detection]] = []
        for _, track_number, detection_number in sorted(pairs, reverse=True):
            if track_number in matched_tracks or detection_number in matched_detections:
                continue
            matched_tracks.add(track_number)
            matched_detections.add(detection_number)
            track, detection = self._tracks[track_number], detections[detection_number]
            track.add(detection, self.settings.max_reads)
            assigned.append((track, detection))

        ready: list[ReadyTrack] = []
        surviving: list[Track] = []
        for track_number, track in enumerate(self._tracks):
            if track_number not in matched_tracks:
                track.missed += 1
            if track.missed > self.settings.max_missed:
                if not track.reported:
                    ready.append(ReadyTrack(track, ReportReason.TRACK_ENDED))
            else:
                surviving.append(track)
        self._tracks = surviving

        for detection_number, detection in enumerate(detections):
            if detection_number not in matched_detections:
                track = Track(self._next_id, [detection])
                self._next_id += 1
                self._tracks.append(track)
                assigned.append((track, detection))

        ready.extend(self.due(frame_index))
        return TrackerUpdate(assigned, ready)

    def due(self, frame_index: int) -> list[ReadyTrack]:
        """Tracks old enough to be reported before they end; each is reported only once."""
        ready = []
        for track in self._tracks:
            if not track.reported and frame_index - track.first_frame_index >= (
                self.settings.max_track_age
            ):
                ready.append(ReadyTrack(track, ReportReason.MAX_AGE))
        for item in ready:
            item.track.reported = True
        return ready

    def drain(self) -> list[ReadyTrack]:
        """End every track (the stream is over); the unreported ones are due."""
        ready = [
            ReadyTrack(track, ReportReason.END_OF_STREAM)
            for track in self._tracks
            if not track.reported
        ]
        self._tracks = []
        return ready
