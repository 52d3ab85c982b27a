"""The host side of the serial link: decoded events out, commands in."""

from __future__ import annotations

import queue
import secrets
import threading
import time
from collections.abc import Callable

from firmware_bridge.gps import GpsReading, GpsTracker
from firmware_bridge.link import LinkEndpoint, PeerReset, Received
from firmware_bridge.messages import GpsSentence, Hello, IlluminatorCommand
from firmware_bridge.runner import LinkRunner, RunnerEvent
from firmware_bridge.transport import DEFAULT_BAUD, BridgeError, open_port

HOST_FIRMWARE = "erap-edge-host/1"
EventHandler = Callable[[RunnerEvent], None]


class FirmwareBridge:
    """Talks to the camera box's microcontroller over ``port`` (device path or pyserial URL).

    Every event (``Received``, ``PeerReset``, ``SendFailed``, ``Undecodable``, ``LinkDown``)
    goes to ``events`` (a queue) and to each subscribed handler, on the bridge's thread. GPS
    sentences also feed ``gps``, which offers a position only once it is validated.

    The host's boot counter defaults to a random 16-bit value: the host has no EEPROM to count
    restarts in, and a fresh random value tells the microcontroller that we restarted."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = DEFAULT_BAUD,
        boot: int | None = None,
        ack_timeout_s: float = 0.25,
        max_retries: int = 5,
    ) -> None:
        self.port_name = port
        self.events: queue.Queue[RunnerEvent] = queue.Queue()
        self.gps = GpsTracker()
        self._gps_lock = threading.Lock()
        self._handlers: list[EventHandler] = []
        self._last_heard: float | None = None
        self._illuminator: bool | None = None
        endpoint = LinkEndpoint(
            boot=secrets.randbelow(0x10000) if boot is None else boot,
            ack_timeout_s=ack_timeout_s,
            max_retries=max_retries,
        )
        self._runner = LinkRunner(
            open_port(port, baudrate), endpoint, self._dispatch, name=f"firmware-bridge {port}"
        )

    def start(self) -> FirmwareBridge:
        self._runner.start()
        self._runner.send(Hello(firmware=HOST_FIRMWARE))
        return self

    def close(self) -> None:
        self._runner.stop()

    def __enter__(self) -> FirmwareBridge:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    def subscribe(self, handler: EventHandler) -> None:
        """Call ``handler`` for every event. Handlers run on the bridge thread: keep them short."""
        self._handlers.append(handler)

    def set_illuminator(self, on: bool) -> None:
        """Command the IR illuminator. The last command is sent again whenever the
        microcontroller restarts, since it boots with the illuminator off."""
        self._illuminator = on
        self._runner.send(IlluminatorCommand(on=on))

    def gps_reading(self) -> GpsReading:
        with self._gps_lock:
            return self.gps.reading(time.monotonic())

    @property
    def counters(self) -> dict[str, int]:
        with self._runner.locked():
            return self._runner.endpoint.counters.as_dict()

    @property
    def mcu_boot(self) -> int | None:
        """The microcontroller's boot counter as last seen, None before it has spoken."""
        with self._runner.locked():
            return self._runner.endpoint.peer_boot

    def silent_for_s(self) -> float | None:
        """Seconds since the microcontroller last sent a message (its heartbeat included);
        None before it has spoken. The box reports long silence as a sensor fault."""
        last = self._last_heard
        return None if last is None else time.monotonic() - last

    def next_event(self, timeout_s: float) -> RunnerEvent:
        try:
            return self.events.get(timeout=timeout_s)
        except queue.Empty:
            raise BridgeError(
                f"no message from the microcontroller on {self.port_name} for {timeout_s:.1f} s"
            ) from None

    def wait_for(self, predicate: Callable[[RunnerEvent], bool], timeout_s: float) -> RunnerEvent:
        """The first event matching ``predicate``; earlier events are consumed."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BridgeError(f"expected event did not arrive within {timeout_s:.1f} s")
            event = self.next_event(remaining)
            if predicate(event):
                return event

    def _dispatch(self, event: RunnerEvent) -> None:
        if isinstance(event, Received):
            self._last_heard = time.monotonic()
        if isinstance(event, PeerReset) and self._illuminator is not None:
            self._runner.send(IlluminatorCommand(on=self._illuminator))
        if isinstance(event, Received) and isinstance(event.message, GpsSentence):
            with self._gps_lock:
                self.gps.feed(event.message.sentence, time.monotonic())
        self.events.put(event)
        for handler in self._handlers:
            handler(event)
