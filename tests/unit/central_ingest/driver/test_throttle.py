"""The lookup form's limits with a hand-moved clock: per client address every lookup counts;
per case number only wrong pairs count, from every address together; both refill with time."""

from __future__ import annotations

from central_ingest.config import DriverPageSettings
from central_ingest.driver.throttle import LookupThrottle

CASE = "KZ-GP-2026-0000001"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_gets_its_burst_then_waits_for_the_rate() -> None:
    clock = Clock()
    throttle = LookupThrottle(
        DriverPageSettings(lookup_burst=3, lookups_per_minute=6, case_try_burst=100), clock
    )
    assert [throttle.admit("10.0.0.1", CASE) for _ in range(3)] == [None, None, None]
    refused = throttle.admit("10.0.0.1", CASE)
    assert refused is not None and refused.retry_after_s == 10  # 6 a minute: one per 10 s
    assert throttle.admit("10.0.0.2", CASE) is None  # another address is heard
    clock.now += 10
    assert throttle.admit("10.0.0.1", CASE) is None
    assert throttle.throttled == 1


def test_an_ipv6_subscriber_counts_as_one_address_whatever_it_rotates() -> None:
    throttle = LookupThrottle(DriverPageSettings(lookup_burst=2, case_try_burst=100), Clock())
    assert throttle.admit("2001:db8:1:2::1", CASE) is None
    assert throttle.admit("2001:db8:1:2::ffff", CASE) is None
    assert throttle.admit("2001:db8:1:2:abcd::9", CASE) is not None


def test_wrong_pairs_from_many_addresses_rest_the_case_number_only() -> None:
    clock = Clock()
    throttle = LookupThrottle(
        DriverPageSettings(case_try_burst=2, case_tries_per_hour=60, lookup_burst=100), clock
    )
    for address in ("10.0.0.1", "10.0.0.2"):
        assert throttle.admit(address, CASE) is None
        throttle.wrong_pair(CASE)
    refused = throttle.admit("10.0.0.3", CASE)
    assert refused is not None and refused.retry_after_s == 60
    assert throttle.admit("10.0.0.3", "KZ-GP-2026-0000002") is None
    # Right pairs take nothing from the case number.
    for _ in range(5):
        assert throttle.admit("10.0.0.4", "KZ-GP-2026-0000002") is None
    clock.now += 60
    assert throttle.admit("10.0.0.3", CASE) is None
