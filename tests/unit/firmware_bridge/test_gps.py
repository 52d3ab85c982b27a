"""GPS gating: a position is offered only with a valid RMC, a GGA fix and enough satellites."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firmware_bridge.gps import GpsTracker
from firmware_bridge.simulator.nmea import fix_sentences, no_fix_sentences

AT = datetime(2026, 3, 1, 6, 30, 15, tzinfo=UTC)


def tracker_with(*sentences: str, now: float = 0.0) -> GpsTracker:
    tracker = GpsTracker()
    for sentence in sentences:
        tracker.feed(sentence, now)
    return tracker


def test_a_valid_fix_gives_the_position_and_the_gps_time() -> None:
    reading = tracker_with(*fix_sentences(51.128, 71.4305, 9, AT)).reading(now=0.5)
    assert reading.reason is None and reading.position is not None
    assert reading.position.lat == pytest.approx(51.128)
    assert reading.position.lon == pytest.approx(71.4305)
    assert (reading.position.fix_quality, reading.position.satellites) == (1, 9)
    assert reading.utc == AT


def test_southern_and_western_hemispheres_are_negative() -> None:
    reading = tracker_with(*fix_sentences(-33.5, -70.25, 7, AT)).reading(now=0.0)
    assert reading.position is not None
    assert (reading.position.lat, reading.position.lon) == pytest.approx((-33.5, -70.25))


def test_no_fix_sentences_give_no_position() -> None:
    reading = tracker_with(*no_fix_sentences(AT)).reading(now=0.0)
    assert reading.position is None
    assert reading.reason == "RMC status is V: the receiver has no valid fix"


def test_rmc_valid_but_gga_quality_zero_gives_no_position() -> None:
    rmc, _ = fix_sentences(51.1, 71.4, 9, AT)
    _, gga_no_fix = no_fix_sentences(AT)
    reading = tracker_with(rmc, gga_no_fix).reading(now=0.0)
    assert reading.position is None and reading.reason == "GGA fix quality is 0: no fix"


def test_too_few_satellites_give_no_position() -> None:
    reading = tracker_with(*fix_sentences(51.1, 71.4, 3, AT)).reading(now=0.0)
    assert reading.position is None
    assert reading.reason == "only 3 satellites in use, 4 needed"


def test_a_fix_that_stopped_updating_is_not_used() -> None:
    tracker = tracker_with(*fix_sentences(51.1, 71.4, 9, AT), now=0.0)
    assert tracker.reading(now=2.9).position is not None
    assert tracker.reading(now=3.1).position is None


def test_losing_the_fix_withdraws_the_position() -> None:
    tracker = tracker_with(*fix_sentences(51.1, 71.4, 9, AT))
    for sentence in no_fix_sentences(AT):
        tracker.feed(sentence, 1.0)
    assert tracker.reading(now=1.0).position is None


@pytest.mark.parametrize(
    "bad",
    [
        "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48",  # wrong checksum
        "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",  # no checksum
        "garbage",
        "",
    ],
)
def test_sentences_that_do_not_parse_are_counted_and_ignored(bad: str) -> None:
    rmc, _ = fix_sentences(51.1, 71.4, 9, AT)
    tracker = tracker_with(rmc, bad)
    assert tracker.rejected_sentences == 1
    assert tracker.reading(now=0.0).reason == "no RMC and GGA sentences received yet"
