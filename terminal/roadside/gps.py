"""The car's GPS receiver: NMEA 0183 over a serial port, read on a thread and judged by the
camera box's own rules (``firmware_bridge.gps.GpsTracker``: a position only when RMC is valid,
GGA has a fix and enough satellites, both recent and with good checksums).

With no usable fix the protocol's place is the address the officer types, flagged as typed
(``terminal.roadside.drafting.protocol_place``); the reason there is no fix is shown to him.
"""

from __future__ import annotations

import logging
import threading
import time

import serial

from firmware_bridge.gps import GpsTracker
from terminal.roadside.drafting import GpsFix

log = logging.getLogger(__name__)


class SerialGps:
    """``port``: a device (``/dev/ttyUSB1``) or a pyserial URL."""

    def __init__(self, port: str, baudrate: int = 9600, *, max_age_s: float = 3.0) -> None:
        self._port = port
        self._baudrate = baudrate
        self._tracker = GpsTracker(max_age_s=max_age_s)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def start(self) -> SerialGps:
        self._thread = threading.Thread(target=self._run, name="gps", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with serial.serial_for_url(self._port, self._baudrate, timeout=0.2) as link:
                    self.error = None
                    self._read(link)
            except (serial.SerialException, OSError) as exc:
                # The receiver unplugged or the port missing: no fix until it is back.
                self.error = f"GPS port {self._port}: {exc}"
                log.warning("%s", self.error)
                self._stop.wait(1.0)

    def _read(self, link: serial.SerialBase) -> None:
        pending = b""
        while not self._stop.is_set():
            pending += link.read(256)
            *lines, pending = pending.split(b"\n")
            for line in lines:
                sentence = line.decode("ascii", errors="replace").strip()
                if sentence:
                    with self._lock:
                        self._tracker.feed(sentence, time.monotonic())

    def fix(self) -> tuple[GpsFix | None, str | None]:
        """The car's position now, or None and the reason there is none."""
        with self._lock:
            reading = self._tracker.reading(time.monotonic())
        if reading.position is None:
            return None, self.error or reading.reason
        return GpsFix(reading.position.lat, reading.position.lon), None
