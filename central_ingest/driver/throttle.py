"""How fast a case number and plate may be tried, so that cases cannot be found by guessing.

Two sets of token buckets (``api.rate_limit.SourceLimiter``), both in this process's memory:

- per client address (IPv6 per /64): every lookup takes a token, right or wrong; a driver
  needs one or two, a script walking case numbers is stopped after ``lookup_burst``;
- per case number, from every address together: every WRONG pair takes a token from the case
  number it named, whether or not such a case exists, so that many addresses guessing plates
  for one case number are stopped too, and the answer says nothing about the number's
  existence. A right pair is let through only while its case number's bucket is not empty:
  after a guessing attack on it, the owner opens the case from the notice's link, or waits.

A refusal says when to come back (``Retry-After``) and is the same for every case number.

The buckets live in the serving process: a registry served by several processes behind the
reverse proxy multiplies the rates by their number (still a few dozen guesses an hour per case
number against the hundreds of millions of plates), and a restart refills them, at most one
burst more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from central_ingest.api.rate_limit import SourceLimiter, source_key
from central_ingest.config import DriverPageSettings


@dataclass(frozen=True, slots=True)
class Throttled:
    retry_after_s: int


class LookupThrottle:
    def __init__(self, settings: DriverPageSettings, clock: Callable[[], float] | None = None):
        extra = {"clock": clock} if clock is not None else {}
        self._addresses = SourceLimiter(
            rate_per_s=settings.lookups_per_minute / 60,
            burst=settings.lookup_burst,
            max_sources=settings.max_tracked,
            **extra,
        )
        self._cases = SourceLimiter(
            rate_per_s=settings.case_tries_per_hour / 3600,
            burst=settings.case_try_burst,
            max_sources=settings.max_tracked,
            **extra,
        )

    def admit(self, host: str | None, case_number: str) -> Throttled | None:
        """Before the lookup: None when it may go ahead (the address is charged for it)."""
        source = source_key(host)
        wait = self._addresses.retry_after(source)
        if wait is not None:
            return Throttled(wait)
        self._addresses.charge(source)
        wait = self._cases.retry_after(case_number)
        if wait is not None:
            return Throttled(wait)
        return None

    def wrong_pair(self, case_number: str) -> None:
        """After a pair that opened nothing: the case number named is charged."""
        self._cases.charge(case_number)

    @property
    def throttled(self) -> int:
        """Lookups refused since start."""
        return self._addresses.throttled + self._cases.throttled
