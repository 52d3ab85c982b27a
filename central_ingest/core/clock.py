"""Time as the registry stores it: UTC, ISO 8601 with microseconds and an explicit +00:00, so
that text comparison in SQL orders correctly. Local time (UTC+5) is for display only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

KAZAKHSTAN_TIME = timezone(timedelta(hours=5), "UTC+5")


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are refused: the registry stores UTC only")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment.astimezone(UTC)


def local(moment: datetime) -> datetime:
    return moment.astimezone(KAZAKHSTAN_TIME)
