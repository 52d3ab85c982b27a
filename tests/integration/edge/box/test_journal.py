"""The sensor journal between the box's processes (real SQLite files)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contract import ClockSource, Position
from edge.box.journal import SensorJournal
from edge.box.readings import PhaseChange, RadarReading, StopLineCrossing, reading_from_message
from firmware_bridge import Direction, LightPhase, LoopCrossing, LoopKind, RadarSpeed, Tamper

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_readings_written_by_one_process_are_read_by_another_in_order(tmp_path: Path) -> None:
    writer, reader = SensorJournal(tmp_path / "s.sqlite3"), SensorJournal(tmp_path / "s.sqlite3")
    readings = [
        RadarReading(97.5, Direction.APPROACHING, 2, T0, ClockSource.GPS),
        StopLineCrossing(1, T0 + timedelta(seconds=1), ClockSource.NTP),
        PhaseChange(LightPhase.RED, T0 + timedelta(seconds=2)),
    ]
    for reading in readings:
        writer.append(reading)
    cursor, got = reader.after(0)
    assert got == readings
    assert reader.after(cursor) == (cursor, [])
    writer.append(readings[0])
    assert reader.after(cursor)[1] == [readings[0]]


def test_a_restarting_recorder_resumes_at_recent_readings_and_old_ones_are_pruned(
    tmp_path: Path,
) -> None:
    journal = SensorJournal(tmp_path / "s.sqlite3", retention_s=60)
    for seconds in (0, 30, 90):
        journal.append(PhaseChange(LightPhase.GREEN, T0 + timedelta(seconds=seconds)))
    _, recent = journal.after(journal.cursor_since(T0 + timedelta(seconds=20)))
    assert [r.at for r in recent] == [T0 + timedelta(seconds=30), T0 + timedelta(seconds=90)]
    assert journal.after(journal.cursor_since(T0 + timedelta(seconds=100)))[1] == []
    assert journal.prune(T0 + timedelta(seconds=100)) == 2
    assert len(journal.after(0)[1]) == 1


def test_box_state_fields_are_updated_independently(tmp_path: Path) -> None:
    bridge, sender = SensorJournal(tmp_path / "s.sqlite3"), SensorJournal(tmp_path / "s.sqlite3")
    position = Position(lat=51.1283, lon=71.4305, fix_quality=1, satellites=9)
    bridge.update_state(tamper_open=True, position=position, position_at=5.0)
    bridge.update_state(mcu_heard_at=7.0)
    state = sender.state()
    assert state.tamper_open and state.position == position and state.mcu_heard_at == 7.0
    assert state.camera_frame_at is None
    with pytest.raises(ValueError, match="not box state fields"):
        bridge.update_state(tampered=True)


def test_only_traffic_messages_become_readings() -> None:
    radar = RadarSpeed(88.0, Direction.RECEDING, 1, T0, ClockSource.GPS)
    assert reading_from_message(radar) == RadarReading(
        88.0, Direction.RECEDING, 1, T0, ClockSource.GPS
    )
    stop = LoopCrossing(2, LoopKind.STOP_LINE, T0, ClockSource.GPS)
    assert reading_from_message(stop) == StopLineCrossing(2, T0, ClockSource.GPS)
    assert reading_from_message(LoopCrossing(2, LoopKind.TRIGGER_LOOP, T0, ClockSource.GPS)) is None
    assert reading_from_message(Tamper(True, T0, ClockSource.GPS)) is None
