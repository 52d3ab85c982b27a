"""NMEA sentences a GPS receiver prints, with and without a fix (rendered by pynmea2)."""

from __future__ import annotations

from datetime import datetime

import pynmea2  # type: ignore[import-untyped]


def _degrees_minutes(value: float, width: int) -> str:
    degrees = int(abs(value))
    minutes = (abs(value) - degrees) * 60
    return f"{degrees:0{width}d}{minutes:07.4f}"


def fix_sentences(lat: float, lon: float, satellites: int, at: datetime) -> list[str]:
    hhmmss = at.strftime("%H%M%S.%f")[:9]
    lat_text, ns = _degrees_minutes(lat, 2), "N" if lat >= 0 else "S"
    lon_text, ew = _degrees_minutes(lon, 3), "E" if lon >= 0 else "W"
    rmc = pynmea2.RMC(
        "GP",
        "RMC",
        (hhmmss, "A", lat_text, ns, lon_text, ew, "0.0", "0.0", at.strftime("%d%m%y"), "", ""),
    )
    gga = pynmea2.GGA(
        "GP",
        "GGA",
        (
            hhmmss,
            lat_text,
            ns,
            lon_text,
            ew,
            "1",
            f"{satellites:02d}",
            "0.9",
            "350.0",
            "M",
            "0.0",
            "M",
            "",
            "",
        ),
    )
    return [str(rmc.render()), str(gga.render())]


def no_fix_sentences(at: datetime) -> list[str]:
    hhmmss = at.strftime("%H%M%S.%f")[:9]
    rmc = pynmea2.RMC(
        "GP", "RMC", (hhmmss, "V", "", "", "", "", "", "", at.strftime("%d%m%y"), "", "")
    )
    gga = pynmea2.GGA(
        "GP", "GGA", (hhmmss, "", "", "", "", "0", "00", "", "", "M", "", "M", "", "")
    )
    return [str(rmc.render()), str(gga.render())]
