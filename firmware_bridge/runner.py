"""The thin I/O adapter: a thread that moves bytes between a serial port and a LinkEndpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from firmware_bridge.link import LinkEndpoint, LinkEvent
from firmware_bridge.messages import Message
from firmware_bridge.transport import SerialPort


@dataclass(frozen=True, slots=True)
class LinkDown:
    """The serial port failed (unplugged adapter, closed pty); the runner has stopped."""

    reason: str


RunnerEvent = LinkEvent | LinkDown
OutputFilter = Callable[[bytes], bytes]


class LinkRunner:
    """Runs ``endpoint`` over ``port`` on a background thread.

    Events are handed to ``on_event`` on the runner thread, outside the lock, so a handler may
    call ``send``. ``output_filter`` lets the simulator inject faults into what it writes."""

    def __init__(
        self,
        port: SerialPort,
        endpoint: LinkEndpoint,
        on_event: Callable[[RunnerEvent], None],
        *,
        name: str,
        output_filter: OutputFilter | None = None,
    ) -> None:
        self.port = port
        self.endpoint = endpoint
        self.output_filter = output_filter
        self._on_event = on_event
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=2)
        self.port.close()

    def send(self, message: Message) -> None:
        with self._lock:
            self.endpoint.send(message, time.monotonic())

    def write_raw(self, data: bytes) -> None:
        """Bytes straight to the wire, bypassing the link (fault injection)."""
        with self._lock:
            self.port.write(data)

    def locked(self) -> threading.Lock:
        """The lock guarding the endpoint, for callers that reset or inspect it."""
        return self._lock

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self.port.read(max(1, self.port.in_waiting))
                with self._lock:
                    now = time.monotonic()
                    events = self.endpoint.feed(data, now) if data else []
                    events += self.endpoint.poll(now)
                    output = self.endpoint.take_output()
                    if output and self.output_filter is not None:
                        output = self.output_filter(output)
                    if output:
                        self.port.write(output)
                for event in events:
                    self._on_event(event)
        except (serial.SerialException, OSError, TypeError) as error:
            # pyserial raises TypeError from read() when the port is closed under it.
            if not self._stop.is_set():
                self._on_event(
                    LinkDown(
                        f"serial port {self.port.name} failed: {error}. The link to the "
                        "microcontroller is down; check its cable and power."
                    )
                )
