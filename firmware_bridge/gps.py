"""GPS position gating: NMEA sentences in, a position out only when it can be trusted.

A receiver keeps printing sentences while it has no fix, with the last or a zero position in
them. A fixation must never carry such a position, so a position is offered only when the
latest RMC says "A" (valid), the latest GGA has a fix quality of at least 1 and enough
satellites, both have checksums that match, and both are recent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pynmea2  # type: ignore[import-untyped]

from contract import Position

MIN_SATELLITES = 4
MAX_AGE_S = 3.0


@dataclass(frozen=True, slots=True)
class GpsReading:
    """What the tracker knows now: a validated position, or the reason there is none."""

    position: Position | None
    reason: str | None
    utc: datetime | None = None
    """Time of the fix from RMC, when it is valid; usable as a GPS clock source."""


@dataclass
class _Rmc:
    valid: bool
    utc: datetime | None
    received_at: float


@dataclass
class _Gga:
    quality: int
    satellites: int
    lat: float
    lon: float
    received_at: float


class GpsTracker:
    def __init__(self, *, min_satellites: int = MIN_SATELLITES, max_age_s: float = MAX_AGE_S):
        self.min_satellites = min_satellites
        self.max_age_s = max_age_s
        self._rmc: _Rmc | None = None
        self._gga: _Gga | None = None
        self.rejected_sentences = 0

    def feed(self, sentence: str, now: float) -> None:
        """Take one NMEA sentence; malformed ones and bad checksums are counted and ignored."""
        try:
            parsed = pynmea2.parse(sentence.strip(), check=True)
            if isinstance(parsed, pynmea2.RMC):
                utc = parsed.datetime if parsed.status == "A" else None
                self._rmc = _Rmc(parsed.status == "A", utc, now)
            elif isinstance(parsed, pynmea2.GGA):
                self._gga = _Gga(
                    quality=int(parsed.gps_qual or 0),
                    satellites=int(parsed.num_sats or 0),
                    lat=float(parsed.latitude),
                    lon=float(parsed.longitude),
                    received_at=now,
                )
        except (pynmea2.ParseError, ValueError, TypeError, AttributeError):
            # pynmea2 raises AttributeError/TypeError for sentences with missing fields.
            self.rejected_sentences += 1

    def reading(self, now: float) -> GpsReading:
        rmc, gga = self._rmc, self._gga
        if rmc is None or gga is None:
            return GpsReading(None, "no RMC and GGA sentences received yet")
        if now - rmc.received_at > self.max_age_s or now - gga.received_at > self.max_age_s:
            return GpsReading(None, "GPS sentences are stale: the receiver stopped talking")
        if not rmc.valid:
            return GpsReading(None, "RMC status is V: the receiver has no valid fix")
        if gga.quality < 1:
            return GpsReading(None, "GGA fix quality is 0: no fix")
        if gga.satellites < self.min_satellites:
            return GpsReading(
                None, f"only {gga.satellites} satellites in use, {self.min_satellites} needed"
            )
        position = Position(
            lat=gga.lat, lon=gga.lon, fix_quality=gga.quality, satellites=gga.satellites
        )
        return GpsReading(position, None, rmc.utc)
