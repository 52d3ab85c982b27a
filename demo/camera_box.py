"""A camera box run as it is deployed, on one machine: the microcontroller simulator on a socat
pty pair, and the box's three processes (``erap-box bridge``, ``recorder``, ``sender``) with
one configuration file. The video is played in real time; the simulated radar measures each
vehicle at the moment the video shows it passing the radar point (from the video's sidecar).

Used by ``make demo`` and by the end-to-end test."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from edge.box.recorder import FIRST_FRAME_LOG
from firmware_bridge import PtyPair

log = logging.getLogger(__name__)

GPS_FIX = "gps fix 51.1283 71.4305 sats=9"


@dataclass(frozen=True)
class RadarPass:
    """When the radar measures a vehicle (seconds from the start of the video), how fast."""

    at_s: float
    speed_kmh: float
    lane: int


def box_config_text(
    *,
    device_id: str,
    key_file: Path,
    data_dir: Path,
    registry_url: str,
    mqtt_port: int,
    video: Path,
    serial_port: Path,
    limit_kmh: int,
    lane_edges: Sequence[float],
) -> str:
    edges = ", ".join(str(edge) for edge in lane_edges)
    return f"""# Written by demo.camera_box: a box on loopback, the video played as a live camera.
device_id = "{device_id}"
key_file = "{key_file}"
data_dir = "{data_dir}"
clock_source = "ntp"

[registry]
url = "{registry_url}"

[mqtt]
host = "127.0.0.1"
port = {mqtt_port}

[video]
source = "{video}"
realtime = true
detector_side = 640          # plates are large in this scene: a smaller input reads more frames
fine_sides = []              # and no larger rungs: a played file must keep its frame rate
lane_edges = [{edges}]

[serial]
port = "{serial_port}"

[rules]
zone = "Demo road, km 12, towards the city"

[rules.speeding]
limit_kmh = {limit_kmh}
tolerance_kmh = 10

[health]
sensor_silence_s = 10.0
camera_silence_s = 10.0

[sender]
receipt_timeout_s = 10.0
status_interval_s = 5.0
reconnect_cap_s = 2.0
"""


class _Process:
    """A child process whose stderr lines are kept and passed to ``on_line``."""

    def __init__(
        self,
        name: str,
        command: list[str],
        on_line: Callable[[str, str], None],
        stdin: int | None = None,
    ) -> None:
        self.name = name
        self.lines: list[str] = []
        self._on_line = on_line
        self.process: subprocess.Popen[str] = subprocess.Popen(
            command, stdin=stdin, stderr=subprocess.PIPE, text=True
        )
        self._reader = threading.Thread(target=self._read, name=f"{name}-log", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip())
            self._on_line(self.name, line.rstrip())

    def stop(self, timeout_s: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=2)
        return self.process.returncode


class CameraBox:
    def __init__(
        self,
        workdir: Path,
        config_text: Callable[[Path], str],
        *,
        on_line: Callable[[str, str], None] = lambda name, line: None,
    ) -> None:
        """``config_text(serial_port)`` gives the box configuration for the host end of the
        simulated serial line."""
        self.workdir = workdir
        self.config_path = workdir / "box.toml"
        self._make_config = config_text
        self._on_line = on_line
        self._pty = PtyPair(workdir)
        self._processes: dict[str, _Process] = {}
        self._first_frame = threading.Event()
        self._video_started_at = 0.0

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> CameraBox:
        self._pty.start()
        self.config_path.write_text(self._make_config(self._pty.host), encoding="utf-8")
        self._spawn(
            "mcu",
            ["-m", "firmware_bridge.simulator", "--port", str(self._pty.mcu), "--stdin"],
            stdin=subprocess.PIPE,
        )
        self.mcu_step(GPS_FIX)
        for role in ("bridge", "sender", "recorder"):
            self._spawn(role, ["-m", "edge.box", role, "--config", str(self.config_path)])
        return self

    def _spawn(self, name: str, args: list[str], stdin: int | None = None) -> None:
        self._processes[name] = _Process(name, [sys.executable, *args], self._line, stdin)

    def _line(self, name: str, line: str) -> None:
        if name == "recorder" and FIRST_FRAME_LOG in line and not self._first_frame.is_set():
            self._video_started_at = time.monotonic()
            self._first_frame.set()
        self._on_line(name, line)

    def mcu_step(self, step: str) -> None:
        """One step of the simulator's script language, e.g. ``vehicle 97 lane=1``."""
        mcu = self._processes["mcu"]
        assert mcu.process.stdin is not None
        try:
            mcu.process.stdin.write(step + "\n")
            mcu.process.stdin.flush()
        except BrokenPipeError:
            raise RuntimeError(
                "the microcontroller simulator has stopped: " + " | ".join(mcu.lines[-5:])
            ) from None

    def drive_radar(self, passes: Sequence[RadarPass], timeout_s: float = 120.0) -> None:
        """Once the recorder has its first frame, measure each vehicle on time."""
        if not self._first_frame.wait(timeout_s):
            raise RuntimeError(
                "the recorder read no frame: " + " | ".join(self.lines("recorder")[-5:])
            )
        for radar in sorted(passes, key=lambda item: item.at_s):
            delay = self._video_started_at + radar.at_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.mcu_step(f"vehicle {radar.speed_kmh:.1f} lane={radar.lane}")

    def wait_recorder(self, timeout_s: float) -> int:
        """The recorder ends with its video file; its exit status."""
        return self._processes["recorder"].process.wait(timeout=timeout_s)

    def lines(self, name: str) -> list[str]:
        return list(self._processes[name].lines)

    def stop(self) -> dict[str, int]:
        """Stop every process (recorder first, sender last) and the pty pair."""
        codes: dict[str, int] = {}
        for name in ("recorder", "bridge", "mcu", "sender"):
            if name in self._processes:
                codes[name] = self._processes[name].stop()
        self._pty.stop()
        return codes
