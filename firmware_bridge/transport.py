"""Serial ports: opening one (device path or pyserial URL) and a socat pty pair for tests."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Protocol, cast

import serial

DEFAULT_BAUD = 115_200
READ_TIMEOUT_S = 0.01


class SerialPort(Protocol):
    """What the link needs of a pyserial port."""

    @property
    def name(self) -> str | None: ...
    @property
    def in_waiting(self) -> int: ...
    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes, /) -> int | None: ...
    def close(self) -> None: ...


class BridgeError(RuntimeError):
    """A problem with the serial link, worded for the technician at the pole."""


def open_port(port: str, baudrate: int = DEFAULT_BAUD) -> SerialPort:
    """Open a device path (``/dev/ttyUSB0``) or a pyserial URL (``loop://``)."""
    try:
        opened = serial.serial_for_url(port, baudrate=baudrate, timeout=READ_TIMEOUT_S)
        # The stubs type the result as SerialBase, which lacks ``in_waiting``; every concrete
        # port class (posix, loop://, socket://) has it.
        return cast(SerialPort, opened)
    except (serial.SerialException, ValueError, OSError) as error:
        raise BridgeError(
            f"cannot open serial port {port}: {error}. Check that the cable to the "
            "microcontroller is plugged in, that the port name is right and that this user "
            "may open it (group dialout)."
        ) from error


class PtyPair:
    """Two connected pseudo-terminals made by ``socat``, like a null-modem cable.

    ``host`` and ``mcu`` are symlinks to the two ends; whatever is written to one is read from
    the other. Used by the integration tests and by the demo."""

    def __init__(self, directory: Path) -> None:
        self.host = directory / "host-tty"
        self.mcu = directory / "mcu-tty"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 5.0) -> PtyPair:
        socat = shutil.which("socat")
        if socat is None:
            raise BridgeError("socat is not installed: apt-get install socat")
        self._process = subprocess.Popen(
            [
                socat,
                "-d",
                "-d",
                f"pty,raw,echo=0,link={self.host}",
                f"pty,raw,echo=0,link={self.mcu}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert self._process.stderr is not None
        # socat logs "starting data transfer loop" once both ptys exist and are linked.
        for line in self._process.stderr:
            if b"starting data transfer loop" in line:
                break
        else:
            self.stop()
            raise BridgeError("socat exited before creating the pty pair")
        deadline = time.monotonic() + timeout_s
        while not (self.host.exists() and self.mcu.exists()):
            if time.monotonic() > deadline:
                self.stop()
                raise BridgeError("socat did not create the pty links in time")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=5)
            if self._process.stderr is not None:
                self._process.stderr.close()
            self._process = None

    def __enter__(self) -> PtyPair:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
