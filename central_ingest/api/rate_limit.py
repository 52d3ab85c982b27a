"""Per-source throttling of what strangers may make the registry store.

``POST /v1/messages`` needs no credentials (a message carries its own signature), so anyone can
send junk, and each refusal is a dead letter. Each source address has a token bucket; only
refusals from before the signature check take a token, so a device whose messages verify is
never slowed by its own traffic, however fast it sends. When a source's bucket is empty its
next requests are answered 429 with ``Retry-After`` before their body is read, and nothing of
them is stored.

A source is the client address that uvicorn reports (behind the local reverse proxy, the
address the proxy forwards). IPv6 addresses count per /64, the block one subscriber gets, so
an attacker cannot rotate through a prefix for fresh buckets. At most ``max_sources`` buckets
are kept, the least recently used forgotten first: memory stays bounded however many addresses
call, and a forgotten source starts again with a full bucket, which costs at most one burst.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


def source_key(host: str | None) -> str:
    """The bucket a client address draws from: the address itself, or its /64 for IPv6."""
    if host is None:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class SourceLimiter:
    """Token buckets per source, ``rate_per_s`` tokens a second up to ``burst``."""

    def __init__(
        self,
        *,
        rate_per_s: float,
        burst: int,
        max_sources: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._max_sources = max_sources
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()
        self.throttled = 0
        """Requests answered 429 since start, for /metrics."""

    def _bucket(self, source: str, now: float) -> _Bucket:
        bucket = self._buckets.get(source)
        if bucket is None:
            bucket = _Bucket(self._burst, now)
            self._buckets[source] = bucket
            while len(self._buckets) > self._max_sources:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(source)
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
        return bucket

    def retry_after(self, source: str) -> int | None:
        """None when ``source`` may be heard now, otherwise the whole seconds until it may."""
        with self._lock:
            bucket = self._bucket(source, self._clock())
            if bucket.tokens >= 1:
                return None
            self.throttled += 1
            return max(1, math.ceil((1 - bucket.tokens) / self._rate))

    def charge(self, source: str) -> None:
        """Take a token for a refusal the source caused. May go below zero when several of its
        requests were in flight at once: the source then waits that much longer."""
        with self._lock:
            bucket = self._bucket(source, self._clock())
            bucket.tokens = max(bucket.tokens - 1, -self._burst)

    def sources(self) -> int:
        with self._lock:
            return len(self._buckets)
