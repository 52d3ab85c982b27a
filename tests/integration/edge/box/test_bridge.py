"""The box's bridge process core (edge.box.bridge_service) over a real socat pty pair with the
microcontroller simulator: readings to the journal, tamper and GPS to the box state, the
illuminator following the recorder's wish, and a dead serial line ending the service."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from edge.box.bridge_service import BridgeService
from edge.box.journal import SensorJournal
from edge.box.readings import RadarReading
from firmware_bridge import Direction, FirmwareBridge, PtyPair
from firmware_bridge.simulator import McuSimulator


def eventually(condition: Callable[[], bool], what: str, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_the_bridge_journals_readings_and_keeps_box_state(tmp_path: Path) -> None:
    pair = PtyPair(tmp_path).start()
    journal = SensorJournal(tmp_path / "sensors.sqlite3")
    recorder_side = SensorJournal(tmp_path / "sensors.sqlite3")
    stop = threading.Event()
    with (
        FirmwareBridge(str(pair.host), boot=100, ack_timeout_s=0.1) as host,
        McuSimulator(str(pair.mcu), boot=7, ack_timeout_s=0.1) as mcu,
    ):
        service = BridgeService(host, journal)
        result: list[int] = []
        runner = threading.Thread(target=lambda: result.append(service.run(stop)))
        runner.start()
        mcu.vehicle(97.0, 2, Direction.APPROACHING)
        mcu.tamper(True)
        mcu.gps_fix(51.1283, 71.4305, 9)
        eventually(lambda: len(recorder_side.after(0)[1]) == 1, "the radar reading")
        reading = recorder_side.after(0)[1][0]
        assert isinstance(reading, RadarReading)
        assert (reading.speed_kmh, reading.lane) == (97.0, 2)
        eventually(lambda: recorder_side.state().tamper_open, "the tamper state")
        eventually(lambda: recorder_side.state().position is not None, "a validated position")
        assert recorder_side.state().mcu_heard_at is not None

        recorder_side.update_state(illuminator_wanted=True)
        assert mcu.wait_for_illuminator(True, timeout_s=5)
        pair.stop()  # the adapter is unplugged
        runner.join(timeout=5)
    assert result == [1]
    assert "check its cable and power" in str(recorder_side.state().mcu_link_error)
