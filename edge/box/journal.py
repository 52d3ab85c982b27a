"""The sensor journal: how the bridge process hands readings and box state to the recorder and
the sender, through one SQLite file in WAL mode (each process restarts alone; none waits for
another). Readings older than ``retention_s`` are pruned by the bridge."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, fields, replace
from datetime import datetime
from pathlib import Path

from contract import ClockSource, Position
from edge.box.readings import (
    BoxState,
    PhaseChange,
    RadarReading,
    SensorReading,
    StopLineCrossing,
)
from firmware_bridge import Direction, LightPhase
from localdb import open_sqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('radar', 'stop_line', 'phase')),
    at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS readings_at ON readings (at);
CREATE TABLE IF NOT EXISTS state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def _encode(reading: SensorReading) -> tuple[str, str, str]:
    if isinstance(reading, RadarReading):
        body = {
            "speed_kmh": reading.speed_kmh,
            "direction": reading.direction.name,
            "lane": reading.lane,
            "clock": reading.clock.value,
        }
        return "radar", reading.at.isoformat(), json.dumps(body)
    if isinstance(reading, StopLineCrossing):
        body = {"lane": reading.lane, "clock": reading.clock.value}
        return "stop_line", reading.at.isoformat(), json.dumps(body)
    return "phase", reading.at.isoformat(), json.dumps({"phase": reading.phase.name})


def _decode(kind: str, at_text: str, body_text: str) -> SensorReading:
    at = datetime.fromisoformat(at_text)
    body = json.loads(body_text)
    if kind == "radar":
        return RadarReading(
            float(body["speed_kmh"]),
            Direction[body["direction"]],
            int(body["lane"]),
            at,
            ClockSource(body["clock"]),
        )
    if kind == "stop_line":
        return StopLineCrossing(int(body["lane"]), at, ClockSource(body["clock"]))
    return PhaseChange(LightPhase[body["phase"]], at)


class SensorJournal:
    def __init__(self, path: Path, *, retention_s: float = 3600.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.retention_s = retention_s
        self._conn = open_sqlite(path, synchronous="NORMAL")
        self._conn.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- readings ------------------------------------------------------------------------

    def append(self, reading: SensorReading) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO readings (kind, at, body) VALUES (?, ?, ?)", _encode(reading)
            )

    def after(self, cursor: int, limit: int = 1000) -> tuple[int, list[SensorReading]]:
        """Readings appended after ``cursor`` (oldest first) and the new cursor."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, kind, at, body FROM readings WHERE id > ? ORDER BY id LIMIT ?",
                (cursor, limit),
            ).fetchall()
        if not rows:
            return cursor, []
        return int(rows[-1][0]), [_decode(kind, at, body) for _, kind, at, body in rows]

    def cursor_since(self, since: datetime) -> int:
        """The cursor just before the first reading at or after ``since`` (a restarting
        recorder still joins readings of the last few seconds)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT MIN(id) FROM readings WHERE at >= ?", (since.isoformat(),)
            ).fetchone()
            if row[0] is not None:
                return int(row[0]) - 1
            last = self._conn.execute("SELECT MAX(id) FROM readings").fetchone()
        return int(last[0] or 0)

    def prune(self, now: datetime) -> int:
        cutoff = datetime.fromtimestamp(now.timestamp() - self.retention_s, now.tzinfo)
        with self._lock:
            cursor = self._conn.execute("DELETE FROM readings WHERE at < ?", (cutoff.isoformat(),))
        return cursor.rowcount

    # --- box state -------------------------------------------------------------------------

    def update_state(self, **changes: object) -> None:
        """Set some ``BoxState`` fields, leaving the others as they are."""
        known = {field.name for field in fields(BoxState)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"not box state fields: {sorted(unknown)}")
        rows = []
        for name, value in changes.items():
            encoded = value.model_dump(mode="json") if isinstance(value, Position) else value
            rows.append((name, json.dumps(encoded)))
        with self._lock:
            self._conn.executemany(
                "INSERT INTO state (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                rows,
            )

    def state(self) -> BoxState:
        with self._lock:
            rows = self._conn.execute("SELECT name, value FROM state").fetchall()
        values = {name: json.loads(value) for name, value in rows}
        state = BoxState()
        known = asdict(state).keys()
        decoded: dict[str, object] = {}
        for name, value in values.items():
            if name not in known:
                continue
            if name == "position" and value is not None:
                value = Position.model_validate(value)
            decoded[name] = value
        return replace(state, **decoded)  # type: ignore[arg-type]
