"""Host bridge and microcontroller simulator over a real socat pty pair."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firmware_bridge import (
    FirmwareBridge,
    Heartbeat,
    Hello,
    IlluminatorCommand,
    LightPhase,
    LightPhaseChange,
    LinkDown,
    PeerReset,
    PtyPair,
    RadarSpeed,
    Received,
    RunnerEvent,
    Tamper,
)
from firmware_bridge.simulator import McuSimulator, run_step, steps

TIMEOUT_S = 5.0


def received(kind: type) -> Callable[[RunnerEvent], bool]:
    return lambda event: isinstance(event, Received) and isinstance(event.message, kind)


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[PtyPair]:
    with PtyPair(tmp_path) as pair:
        yield pair


@pytest.fixture
def link(pty_pair: PtyPair) -> Iterator[tuple[FirmwareBridge, McuSimulator]]:
    with (
        FirmwareBridge(str(pty_pair.host), boot=100, ack_timeout_s=0.1) as host,
        McuSimulator(str(pty_pair.mcu), boot=7, ack_timeout_s=0.1) as mcu,
    ):
        host.wait_for(received(Hello), TIMEOUT_S)
        yield host, mcu


def radar_events(host: FirmwareBridge, count: int) -> list[RadarSpeed]:
    found: list[RadarSpeed] = []
    while len(found) < count:
        event = host.wait_for(received(RadarSpeed), TIMEOUT_S)
        assert isinstance(event, Received) and isinstance(event.message, RadarSpeed)
        found.append(event.message)
    return found


def test_a_scripted_scene_arrives_in_order(link: tuple[FirmwareBridge, McuSimulator]) -> None:
    host, mcu = link
    for step in steps("vehicle 97 lane=2; light red; tamper open"):
        run_step(mcu, step)
    speed = host.wait_for(received(RadarSpeed), TIMEOUT_S)
    light = host.wait_for(received(LightPhaseChange), TIMEOUT_S)
    tamper = host.wait_for(received(Tamper), TIMEOUT_S)
    assert isinstance(speed, Received) and isinstance(speed.message, RadarSpeed)
    assert (speed.message.speed_kmh, speed.message.lane) == (97.0, 2)
    assert isinstance(light, Received) and isinstance(light.message, LightPhaseChange)
    assert light.message.phase is LightPhase.RED
    assert isinstance(tamper, Received) and isinstance(tamper.message, Tamper)
    assert tamper.message.open
    assert host.counters["crc_errors"] == 0 and host.counters["retransmissions"] == 0


def test_a_dropped_frame_is_retransmitted(link: tuple[FirmwareBridge, McuSimulator]) -> None:
    host, mcu = link
    mcu.drop_next_data_frames(2)
    mcu.vehicle(97, 2)
    mcu.vehicle(64, 1)
    assert [m.speed_kmh for m in radar_events(host, 2)] == [97.0, 64.0]
    assert mcu.frames_dropped == 2
    assert mcu.counters["retransmissions"] >= 2


def test_a_duplicate_on_the_wire_is_delivered_once(
    link: tuple[FirmwareBridge, McuSimulator],
) -> None:
    host, mcu = link
    mcu.duplicate_next_data_frame()
    mcu.vehicle(97, 2)
    mcu.vehicle(50, 1)
    assert [m.speed_kmh for m in radar_events(host, 2)] == [97.0, 50.0]
    assert host.counters["duplicates_dropped"] == 1


def test_garbage_on_the_line_is_skipped_and_the_next_frame_survives(
    link: tuple[FirmwareBridge, McuSimulator],
) -> None:
    host, mcu = link
    mcu.send_garbage(bytes(range(1, 256)) * 2)  # no 0x00: would merge into the next frame
    mcu.vehicle(88, 3)
    assert [m.speed_kmh for m in radar_events(host, 1)] == [88.0]
    assert host.counters["resyncs"] >= 1
    assert host.counters["retransmissions"] == 0


def test_a_microcontroller_reboot_is_noticed_and_its_new_frames_are_not_duplicates(
    link: tuple[FirmwareBridge, McuSimulator],
) -> None:
    host, mcu = link
    mcu.vehicle(70, 1)
    radar_events(host, 1)
    mcu.reboot()
    reset = host.wait_for(lambda e: isinstance(e, PeerReset), TIMEOUT_S)
    assert reset == PeerReset(previous_boot=7, boot=8)
    mcu.vehicle(71, 1)  # sequence numbers restarted: seq 1 again, yet delivered
    assert [m.speed_kmh for m in radar_events(host, 1)] == [71.0]
    assert host.mcu_boot == 8


def test_a_host_restart_is_noticed_by_the_microcontroller(pty_pair: PtyPair) -> None:
    with McuSimulator(str(pty_pair.mcu), boot=7) as mcu:
        with FirmwareBridge(str(pty_pair.host), boot=100) as host:
            host.wait_for(received(Hello), TIMEOUT_S)
            host.set_illuminator(True)
            assert mcu.wait_for_illuminator(True, TIMEOUT_S)
        with FirmwareBridge(str(pty_pair.host), boot=101) as host:
            # The simulator notices the new boot counter and announces itself again.
            hello = host.wait_for(received(Hello), TIMEOUT_S)
            assert isinstance(hello, Received) and hello.peer_boot == 7
        assert mcu.host_resets == [PeerReset(previous_boot=100, boot=101)]


def test_the_illuminator_command_reaches_the_microcontroller(
    link: tuple[FirmwareBridge, McuSimulator],
) -> None:
    host, mcu = link
    host.set_illuminator(True)
    assert mcu.wait_for_illuminator(True, TIMEOUT_S)
    host.set_illuminator(False)
    assert mcu.wait_for_illuminator(False, TIMEOUT_S)


def test_gps_position_is_offered_only_while_the_fix_is_valid(
    link: tuple[FirmwareBridge, McuSimulator],
) -> None:
    host, mcu = link
    mcu.gps_no_fix()
    mcu.heartbeat()  # queued behind the GPS sentences: once it arrives, they have too
    host.wait_for(received(Heartbeat), TIMEOUT_S)
    assert host.gps_reading().position is None
    mcu.gps_fix(51.1283, 71.4305, satellites=9)
    mcu.heartbeat()
    host.wait_for(received(Heartbeat), TIMEOUT_S)
    position = host.gps_reading().position
    assert position is not None and round(position.lat, 4) == 51.1283
    mcu.gps_fix(51.1283, 71.4305, satellites=2)
    mcu.heartbeat()
    host.wait_for(received(Heartbeat), TIMEOUT_S)
    assert host.gps_reading().reason == "only 2 satellites in use, 4 needed"


def test_the_monitor_cli_shows_what_the_simulator_sends(pty_pair: PtyPair) -> None:
    with McuSimulator(str(pty_pair.mcu), boot=3) as mcu:
        monitor = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "firmware_bridge",
                "monitor",
                "--port",
                str(pty_pair.host),
                "--seconds",
                "3",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        mcu.vehicle(97, 2)
        output, _ = monitor.communicate(timeout=30)
    assert monitor.returncode == 0
    assert "RadarSpeed(speed_kmh=97.0" in output
    assert "frames_ok=" in output


def test_the_simulator_cli_plays_its_script_to_a_bridge(pty_pair: PtyPair) -> None:
    with FirmwareBridge(str(pty_pair.host), boot=100) as host:
        simulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "firmware_bridge.simulator",
                "--port",
                str(pty_pair.mcu),
                "--script",
                "gps fix 51.1283 71.4305 sats=9; light red; vehicle 97 lane=2",
                "--heartbeat-s",
                "0.2",
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            light = host.wait_for(received(LightPhaseChange), 20)
            speed = host.wait_for(received(RadarSpeed), TIMEOUT_S)
            host.wait_for(received(Heartbeat), TIMEOUT_S)
            host.wait_for(received(Heartbeat), TIMEOUT_S)  # the fix, repeated by the tick
            position = host.gps_reading().position
        finally:
            simulator.terminate()
            _, log = simulator.communicate(timeout=10)
    assert isinstance(light, Received) and isinstance(light.message, LightPhaseChange)
    assert isinstance(speed, Received) and isinstance(speed.message, RadarSpeed)
    assert speed.message.speed_kmh == 97.0
    assert "step: vehicle 97 lane=2" in log
    assert position is not None and position.satellites == 9
    assert simulator.returncode == 0


def test_a_vanished_serial_line_is_reported_as_link_down(tmp_path: Path) -> None:
    pair = PtyPair(tmp_path).start()
    with FirmwareBridge(str(pair.host), boot=100) as host:
        assert host.silent_for_s() is None
        pair.stop()
        down = host.wait_for(lambda event: isinstance(event, LinkDown), TIMEOUT_S)
    assert isinstance(down, LinkDown)
    assert "check its cable and power" in down.reason


def test_silence_is_measured_from_the_last_message(
    link: tuple[FirmwareBridge, McuSimulator],
) -> None:
    host, mcu = link
    mcu.heartbeat()
    host.wait_for(received(Heartbeat), TIMEOUT_S)
    silence = host.silent_for_s()
    assert silence is not None and silence < 1.0


def test_the_illuminator_is_switched_on_again_after_a_microcontroller_reboot(
    link: tuple[FirmwareBridge, McuSimulator],
) -> None:
    host, mcu = link
    host.set_illuminator(True)
    assert mcu.wait_for_illuminator(True, TIMEOUT_S)
    mcu.reboot()  # boots with the illuminator off
    assert mcu.wait_for_illuminator(True, TIMEOUT_S)
    assert mcu.commands == [IlluminatorCommand(on=True), IlluminatorCommand(on=True)]
