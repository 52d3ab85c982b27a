"""The pause rules of signing in, without a database: how long each failure count waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from central_ingest.core.sign_in_throttle import (
    FAILED_LOGIN_LIMIT,
    LONGEST_PAUSE,
    TooManyAttempts,
    pair_key,
    pause_after,
    refuse_if_paused,
    source_key,
    user_key_prefix,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_pause_starts_at_the_limit_doubles_and_stops_at_the_cap() -> None:
    pauses = [pause_after(n, FAILED_LOGIN_LIMIT) for n in range(FAILED_LOGIN_LIMIT + 8)]
    minutes = [None if p is None else p / timedelta(minutes=1) for p in pauses]
    assert minutes == [None] * FAILED_LOGIN_LIMIT + [1, 2, 4, 8, 15, 15, 15, 15]
    assert pause_after(10_000, FAILED_LOGIN_LIMIT) == LONGEST_PAUSE


def test_the_refusal_tells_the_seconds_left_and_whole_minutes_rounded_up() -> None:
    latest = NOW - timedelta(seconds=50)  # a one-minute pause with 10 s left
    with pytest.raises(TooManyAttempts) as refused:
        refuse_if_paused(
            FAILED_LOGIN_LIMIT, latest, limit=FAILED_LOGIN_LIMIT, from_source=False, now=NOW
        )
    assert refused.value.retry_after_seconds == 10
    assert "try again in 1 minute or ask an administrator" in refused.value.message
    # Paused no more once the pause has passed, and never below the limit.
    refuse_if_paused(
        FAILED_LOGIN_LIMIT,
        NOW - timedelta(minutes=1),
        limit=FAILED_LOGIN_LIMIT,
        from_source=False,
        now=NOW,
    )
    refuse_if_paused(
        FAILED_LOGIN_LIMIT - 1, NOW, limit=FAILED_LOGIN_LIMIT, from_source=False, now=NOW
    )


def test_a_source_pause_says_it_is_about_the_computer() -> None:
    with pytest.raises(TooManyAttempts) as refused:
        refuse_if_paused(30, NOW, limit=25, from_source=True, now=NOW)
    assert refused.value.retry_after_seconds == 15 * 60
    assert refused.value.message == (
        "Too many failed sign-ins from this computer: try again in 15 minutes."
    )


def test_no_typed_name_can_make_the_key_of_a_source_or_of_another_users_pair() -> None:
    assert not pair_key("source:10.0.0.1", "10.0.0.2").startswith("source:")
    assert pair_key("alice@10.0.0.1", "10.0.0.2") != pair_key("alice", "10.0.0.1")
    assert pair_key("alice", "10.0.0.1").startswith(user_key_prefix("alice"))
    assert not pair_key("alicia", "10.0.0.1").startswith(user_key_prefix("ali"))
    assert source_key("10.0.0.1") == "source:10.0.0.1"
