"""The tracker keeps one track per plate: crossing vehicles, occlusion gaps, track ends."""

from __future__ import annotations

from edge.video.geometry import BBox, iou
from edge.video.tracker import Detection, ReportReason, Tracker, TrackerSettings


def plate(frame: int, x: int, y: int, text: str = "123ABC01", confidence: float = 0.9) -> Detection:
    return Detection(frame, frame / 25, BBox(x, y, 120, 30), text, confidence, "kz_person")


def test_iou_of_identical_disjoint_and_half_overlapping_boxes() -> None:
    box = BBox(0, 0, 10, 10)
    assert iou(box, box) == 1.0
    assert iou(box, BBox(20, 20, 10, 10)) == 0.0
    assert iou(box, BBox(5, 0, 10, 10)) == 50 / 150


def test_a_moving_plate_stays_one_track_and_ends_after_max_missed_runs() -> None:
    tracker = Tracker(TrackerSettings(max_missed=2))
    for frame in range(10):
        update = tracker.update(frame, [plate(frame, 100 + 15 * frame, 300)])
        assert update.ready == []
    assert [track.track_id for track in tracker.active] == [1]
    assert tracker.update(10, []).ready == []
    assert tracker.update(11, []).ready == []
    ended = tracker.update(12, []).ready
    assert [(item.track.track_id, item.reason) for item in ended] == [(1, ReportReason.TRACK_ENDED)]
    assert len(ended[0].track.detections) == 10
    assert tracker.active == []


def test_crossing_vehicles_keep_their_own_tracks() -> None:
    """Two plates drive towards each other on the same row and pass through one another;
    velocity prediction (and their texts) keep each detection on its own track."""
    tracker = Tracker()
    for frame in range(21):
        left_to_right = plate(frame, 100 + 20 * frame, 300, "123ABC01")
        right_to_left = plate(frame, 500 - 20 * frame, 305, "777KZA02")
        tracker.update(frame, [right_to_left, left_to_right])
    tracks = {track.track_id: {d.text for d in track.detections} for track in tracker.active}
    assert tracks == {1: {"777KZA02"}, 2: {"123ABC01"}}


def test_crossing_vehicles_with_identical_reads_are_separated_by_motion() -> None:
    """Even when both plates read the same (text gives no hint), the predicted positions do."""
    tracker = Tracker()
    for frame in range(21):
        tracker.update(
            frame, [plate(frame, 100 + 20 * frame, 300), plate(frame, 500 - 20 * frame, 300)]
        )
    for track in tracker.active:
        xs = [detection.box.x for detection in track.detections]
        assert xs == sorted(xs) or xs == sorted(xs, reverse=True)
        assert len(xs) == 21


def test_an_occlusion_gap_shorter_than_max_missed_keeps_the_track() -> None:
    tracker = Tracker(TrackerSettings(max_missed=4))
    for frame in range(5):
        tracker.update(frame, [plate(frame, 100 + 10 * frame, 300)])
    for frame in range(5, 9):  # hidden behind a lorry for four detector runs
        assert tracker.update(frame, []).ready == []
    tracker.update(9, [plate(9, 190, 300)])
    assert [track.track_id for track in tracker.active] == [1]
    assert len(tracker.active[0].detections) == 6


def test_a_gap_longer_than_max_missed_starts_a_new_track() -> None:
    tracker = Tracker(TrackerSettings(max_missed=1))
    tracker.update(0, [plate(0, 100, 300)])
    tracker.update(1, [plate(1, 110, 300)])
    tracker.update(2, [])
    ended = tracker.update(3, []).ready
    tracker.update(4, [plate(4, 140, 300)])
    assert [item.track.track_id for item in ended] == [1]
    assert [track.track_id for track in tracker.active] == [2]


def test_a_far_away_detection_is_not_associated() -> None:
    tracker = Tracker()
    tracker.update(0, [plate(0, 100, 300)])
    tracker.update(1, [plate(1, 900, 100)])
    assert sorted(track.track_id for track in tracker.active) == [1, 2]


def test_a_long_lived_track_is_reported_once_at_max_age_and_not_again() -> None:
    tracker = Tracker(TrackerSettings(max_track_age=10, max_missed=0))
    reasons = []
    for frame in range(30):  # a car queuing at a red light, plate visible throughout
        reasons += [item.reason for item in tracker.update(frame, [plate(frame, 300, 300)]).ready]
    reasons += [item.reason for item in tracker.update(30, []).ready]
    reasons += [item.reason for item in tracker.drain()]
    assert reasons == [ReportReason.MAX_AGE]


def test_due_reports_old_tracks_on_frames_without_detection() -> None:
    tracker = Tracker(TrackerSettings(max_track_age=5))
    tracker.update(0, [plate(0, 300, 300)])
    assert tracker.due(4) == []
    assert [item.reason for item in tracker.due(5)] == [ReportReason.MAX_AGE]
    assert tracker.due(6) == []


def test_drain_reports_open_tracks_at_end_of_stream() -> None:
    tracker = Tracker()
    tracker.update(0, [plate(0, 100, 300), plate(0, 700, 300, "555XYZ05")])
    drained = tracker.drain()
    assert {item.reason for item in drained} == {ReportReason.END_OF_STREAM}
    assert len(drained) == 2
    assert tracker.active == []


def test_best_read_is_the_most_confident_then_the_sharpest() -> None:
    tracker = Tracker()
    reads = [
        Detection(0, 0.0, BBox(100, 300, 120, 30), "123ABC01", 0.7, "kz_person", 50.0),
        Detection(1, 0.04, BBox(110, 300, 120, 30), "123ABC01", 0.9, "kz_person", 10.0),
        Detection(2, 0.08, BBox(120, 300, 120, 30), "123ABC01", 0.9, "kz_person", 80.0),
        Detection(3, 0.12, BBox(130, 300, 120, 30), "123ABC01", 0.6, "kz_person", 300.0),
    ]
    for detection in reads:
        tracker.update(detection.frame_index, [detection])
    assert tracker.active[0].best.frame_index == 2


def test_reads_kept_per_track_are_bounded_but_keep_the_best() -> None:
    tracker = Tracker(TrackerSettings(max_reads=5, max_track_age=1000))
    tracker.update(0, [plate(0, 100, 300, confidence=0.5)])
    tracker.update(1, [plate(1, 101, 300, confidence=0.99)])
    for frame in range(2, 40):
        tracker.update(frame, [plate(frame, 100 + frame, 300, confidence=0.6)])
    track = tracker.active[0]
    assert len(track.detections) == 5
    assert track.best.frame_index == 1
    assert track.best in track.detections
    assert track.detections[0].frame_index == 0
    assert track.detections[-1].frame_index == 39
