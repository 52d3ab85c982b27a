"""The pure event core: one event per vehicle, bounded delay, repeats suppressed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from edge.video.events import EventSettings, RepeatSuppressor, VehicleEvent, VehicleEvents
from edge.video.geometry import BBox
from edge.video.tracker import Detection, ReportReason, TrackerSettings

FPS = 25


def detection(frame: int, x: int, text: str, confidence: float = 0.9, y: int = 300) -> Detection:
    return Detection(frame, frame / FPS, BBox(x, y, 120, 30), text, confidence, "kz_person")


def drive(
    core: VehicleEvents, frames: range, plates: list[tuple[str, int, int]]
) -> list[VehicleEvent]:
    """Each plate (text, start x, speed in px per frame) is read on every frame of `frames`."""
    events: list[VehicleEvent] = []
    for frame in frames:
        found = [
            detection(frame, start + speed * frame, text, y=300 + 100 * n)
            for n, (text, start, speed) in enumerate(plates)
        ]
        events += core.observe(frame, found)
    return events


def settings(**overrides: Any) -> EventSettings:
    base = EventSettings(camera_id="cam-almaty-01", tracker=TrackerSettings(max_missed=3))
    return replace(base, **overrides)


def test_one_event_per_vehicle_with_the_voted_text_when_its_track_ends() -> None:
    core = VehicleEvents(settings())
    misreads = {3: "123ABO01", 7: "I23ABC01", 8: "123ABO01"}
    events: list[VehicleEvent] = []
    for frame in range(20):
        text = misreads.get(frame, "123ABC01")
        confidence = 0.95 if frame == 12 else 0.8
        events += core.observe(frame, [detection(frame, 100 + 12 * frame, text, confidence)])
    assert events == []
    for frame in range(20, 24):
        events += core.observe(frame, [])
    assert len(events) == 1
    event = events[0]
    assert event.text == "123ABC01"
    assert event.camera_id == "cam-almaty-01"
    assert event.reason is ReportReason.TRACK_ENDED
    assert event.best_frame_index == 12
    assert event.plate_box == BBox(100 + 12 * 12, 300, 120, 30)
    assert (event.first_frame_index, event.last_frame_index) == (0, 19)
    assert (event.supporting_reads, event.total_reads) == (17, 20)
    assert core.finish() == []


def test_two_vehicles_in_view_give_two_events() -> None:
    core = VehicleEvents(settings())
    events = drive(core, range(15), [("123ABC01", 100, 10), ("777KZA02", 600, -10)])
    events += core.finish()
    assert sorted(event.text for event in events) == ["123ABC01", "777KZA02"]
    assert {event.reason for event in events} == {ReportReason.END_OF_STREAM}


def test_a_vehicle_that_stays_in_view_is_reported_after_the_bounded_delay() -> None:
    core = VehicleEvents(settings(tracker=TrackerSettings(max_track_age=50)))
    events = drive(core, range(49), [("123ABC01", 300, 0)])
    assert events == []
    events = drive(core, range(49, 200), [("123ABC01", 300, 0)])
    assert [(event.text, event.reason) for event in events] == [("123ABC01", ReportReason.MAX_AGE)]
    assert core.finish() == []


def test_frames_without_detection_still_bring_the_bounded_delay() -> None:
    core = VehicleEvents(settings(tracker=TrackerSettings(max_track_age=50)))
    drive(core, range(3), [("123ABC01", 300, 0)])
    assert core.skip(49) == []
    assert [event.reason for event in core.skip(50)] == [ReportReason.MAX_AGE]


def test_the_same_plate_again_within_the_window_is_suppressed() -> None:
    """A track broken by a long occlusion yields a second track of the same plate."""
    core = VehicleEvents(settings(repeat_window_s=30.0))
    events = drive(core, range(10), [("123ABC01", 100, 10)])
    events += drive(core, range(10, 15), [])
    events += drive(core, range(15, 25), [("123ABC01", 100, 10)])  # 0.6 s later
    events += core.finish()
    assert [event.text for event in events] == ["123ABC01"]
    assert core.stats.repeats_suppressed == 1


def test_the_same_plate_after_the_window_is_reported_again() -> None:
    core = VehicleEvents(settings(repeat_window_s=0.5))
    events = drive(core, range(10), [("123ABC01", 100, 10)])
    events += drive(core, range(10, 15), [])
    events += drive(core, range(40, 50), [("123ABC01", 100, 10)])  # 1.6 s later
    events += core.finish()
    assert [event.text for event in events] == ["123ABC01", "123ABC01"]


def test_a_single_read_is_not_an_event() -> None:
    core = VehicleEvents(settings())
    core.observe(0, [detection(0, 100, "STOP01")])
    assert core.finish() == []
    assert core.stats.too_few_reads == 1


def test_low_confidence_votes_are_not_events() -> None:
    core = VehicleEvents(settings(min_confidence=0.5))
    for frame in range(5):
        core.observe(frame, [detection(frame, 100 + frame, "123ABC01", confidence=0.2)])
    assert core.finish() == []
    assert core.stats.low_confidence == 1


def test_repeat_suppression_is_per_camera_and_per_plate() -> None:
    repeats = RepeatSuppressor(window_s=10.0)
    assert repeats.admit("cam-1", "123ABC01", 0.0)
    assert not repeats.admit("cam-1", "123ABC01", 9.9)
    assert repeats.admit("cam-2", "123ABC01", 1.0)
    assert repeats.admit("cam-1", "777KZA02", 1.0)
    assert repeats.admit("cam-1", "123ABC01", 10.0)
