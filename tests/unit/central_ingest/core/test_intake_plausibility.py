"""The plausibility of a fixation's capture time, with the time of receipt passed in: not
further in the future than the allowed clock skew, not older than the limitation period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from central_ingest.core.intake import (
    CaptureWindow,
    Refused,
    Rejection,
    check_message,
    implausible_capture,
)
from contract import DeviceKind, MessageKind, load_public_key
from tests.support.devices import SimulatedDevice, speeding_fixation
from tests.unit.central_ingest.core.test_intake import FRAME, Identity

RECEIVED = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
WINDOW = CaptureWindow(
    received_at=RECEIVED, clock_skew=timedelta(minutes=5), limitation=timedelta(days=365)
)


@pytest.mark.parametrize(
    ("captured", "reason"),
    [
        (RECEIVED - timedelta(seconds=2), None),
        (RECEIVED + timedelta(minutes=5), None),  # a clock ahead by the whole skew is tolerated
        (RECEIVED + timedelta(minutes=5, seconds=1), Rejection.CAPTURED_IN_FUTURE),
        (RECEIVED + timedelta(days=365), Rejection.CAPTURED_IN_FUTURE),
        (RECEIVED - timedelta(days=365), None),
        (RECEIVED - timedelta(days=365, seconds=1), Rejection.CAPTURED_BEYOND_LIMITATION),
        (RECEIVED - timedelta(days=3 * 365), Rejection.CAPTURED_BEYOND_LIMITATION),
    ],
    ids=[
        "now",
        "at-skew",
        "past-skew",
        "year-ahead",
        "at-limitation",
        "past-limitation",
        "three-years",
    ],
)
def test_capture_time_is_bounded_by_skew_ahead_and_limitation_behind(
    captured: datetime, reason: Rejection | None
) -> None:
    verdict = implausible_capture(captured, WINDOW)

    assert (verdict[0] if verdict else None) is reason


def test_the_refusals_say_how_far_off_the_time_is_and_what_bounds_it() -> None:
    ahead = implausible_capture(RECEIVED + timedelta(days=365), WINDOW)
    minutes = implausible_capture(RECEIVED + timedelta(minutes=42), WINDOW)
    old = implausible_capture(RECEIVED - timedelta(days=400), WINDOW)

    assert ahead is not None and "365 days after" in ahead[1] and "5 minutes" in ahead[1]
    assert minutes is not None and "42 minutes after" in minutes[1]
    assert old is not None and "400 days before" in old[1] and "365 days" in old[1]


def test_a_narrower_skew_refuses_what_a_wider_one_accepts() -> None:
    captured = RECEIVED + timedelta(minutes=3)
    narrow = CaptureWindow(RECEIVED, timedelta(minutes=1), timedelta(days=365))

    assert implausible_capture(captured, WINDOW) is None
    assert implausible_capture(captured, narrow) is not None


def test_a_signed_fixation_from_a_year_ahead_is_refused_and_the_device_is_told() -> None:
    camera = SimulatedDevice("cam-astana-0001", DeviceKind.CAMERA)
    devices = {
        camera.device_id: Identity(
            DeviceKind.CAMERA, True, load_public_key(camera.key.public_key_b64)
        )
    }
    fixation = speeding_fixation(
        camera, captured_at=RECEIVED + timedelta(days=365), evidence=[FRAME]
    )
    raw = camera.seal(MessageKind.FIXATION, fixation)

    # Its evidence is not uploaded either: the time, which no resend can fix, is what it hears.
    verdict = check_message(
        raw,
        max_bytes=64 * 1024,
        topic_claim=None,
        devices=devices,
        evidence_sizes=lambda sha: None,
        capture_window=WINDOW,
    )

    assert isinstance(verdict, Refused)
    assert verdict.reason is Rejection.CAPTURED_IN_FUTURE
    assert verdict.reason.after_signature and not verdict.reason.retryable
    assert verdict.message_id == str(fixation.fixation_id)
