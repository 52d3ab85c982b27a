"""The per-source token buckets of POST /v1/messages, on a clock the test moves."""

from __future__ import annotations

from central_ingest.api.rate_limit import SourceLimiter, source_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_source_is_heard_until_its_burst_is_spent_then_told_when_to_come_back() -> None:
    clock = Clock()
    limiter = SourceLimiter(rate_per_s=0.5, burst=3, max_sources=10, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("203.0.113.1") is None
        limiter.charge("203.0.113.1")

    assert limiter.retry_after("203.0.113.1") == 2  # one token at 0.5 a second
    assert limiter.retry_after("203.0.113.2") is None  # another source is not affected
    clock.now += 2
    assert limiter.retry_after("203.0.113.1") is None
    assert limiter.throttled == 1


def test_requests_in_flight_together_make_the_source_wait_longer_not_less() -> None:
    clock = Clock()
    limiter = SourceLimiter(rate_per_s=1, burst=2, max_sources=10, clock=clock)
    for _ in range(5):  # all passed the check before any was charged
        limiter.charge("198.51.100.7")
    # Below zero, down to minus the burst: 3 s to one token from -2.
    assert limiter.retry_after("198.51.100.7") == 3
    clock.now += 2
    assert limiter.retry_after("198.51.100.7") == 1
    clock.now += 1
    assert limiter.retry_after("198.51.100.7") is None


def test_memory_is_bounded_the_least_recently_seen_source_forgotten_first() -> None:
    clock = Clock()
    limiter = SourceLimiter(rate_per_s=1, burst=1, max_sources=2, clock=clock)
    limiter.charge("a")
    limiter.charge("b")
    assert limiter.retry_after("a") == 1  # "a" is now the most recent
    limiter.charge("c")  # forgets "b"

    assert limiter.sources() == 2
    assert limiter.retry_after("b") is None  # a forgotten source starts with a full bucket
    assert limiter.retry_after("c") == 1


def test_ipv6_addresses_share_a_bucket_per_64_and_mapped_ipv4_is_ipv4() -> None:
    assert source_key("2001:db8:1:2:aaaa::1") == source_key("2001:db8:1:2:ffff::9")
    assert source_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert source_key("2001:db8:1:3::1") != source_key("2001:db8:1:2::1")
    assert source_key("::ffff:192.0.2.5") == "192.0.2.5" == source_key("192.0.2.5")
    assert source_key(None) == "unknown"
