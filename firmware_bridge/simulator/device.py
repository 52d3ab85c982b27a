"""A simulated microcontroller: the firmware's side of the protocol, driven from Python."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from cobs import cobs  # type: ignore[import-untyped]

from contract import ClockSource
from firmware_bridge.link import LinkEndpoint, PeerReset, Received
from firmware_bridge.messages import (
    Direction,
    GpsSentence,
    Heartbeat,
    Hello,
    IlluminatorCommand,
    LightPhase,
    LightPhaseChange,
    LoopCrossing,
    LoopKind,
    Message,
    MessageType,
    RadarSpeed,
    Tamper,
)
from firmware_bridge.runner import LinkRunner, RunnerEvent
from firmware_bridge.simulator.nmea import fix_sentences, no_fix_sentences
from firmware_bridge.transport import DEFAULT_BAUD, open_port

SIMULATOR_FIRMWARE = "mcu-sim/1.0"


class McuSimulator:
    """Speaks the microcontroller's side over ``port`` (pty path or pyserial URL).

    Like the real firmware it keeps a boot counter (as if in EEPROM), starts every boot with a
    HELLO and sequence number 0, and obeys the illuminator command. Fault injection
    (``drop_next_data_frames``, ``duplicate_next_data_frame``, ``send_garbage``) acts on what it
    writes to the wire, below the link layer."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = DEFAULT_BAUD,
        boot: int = 1,
        ack_timeout_s: float = 0.1,
        max_retries: int = 5,
    ) -> None:
        self.illuminator_on = False
        self.commands: list[Message] = []
        self.host_resets: list[PeerReset] = []
        self._gps_fix: tuple[float, float, int] | None = None
        self._started = time.monotonic()
        self._faults_lock = threading.Lock()
        self._drop_data_frames = 0
        self._duplicate_data_frames = 0
        self.frames_dropped = 0
        self._command_seen = threading.Condition()
        endpoint = LinkEndpoint(boot=boot, ack_timeout_s=ack_timeout_s, max_retries=max_retries)
        self._runner = LinkRunner(
            open_port(port, baudrate),
            endpoint,
            self._on_event,
            name=f"mcu-simulator {port}",
            output_filter=self._inject_faults,
        )

    @property
    def boot(self) -> int:
        return self._runner.endpoint.boot

    @property
    def counters(self) -> dict[str, int]:
        with self._runner.locked():
            return self._runner.endpoint.counters.as_dict()

    def start(self) -> McuSimulator:
        self._runner.start()
        self._runner.send(Hello(firmware=SIMULATOR_FIRMWARE))
        return self

    def close(self) -> None:
        self._runner.stop()

    def __enter__(self) -> McuSimulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the world the sensors see -------------------------------------------------------

    def vehicle(
        self,
        speed_kmh: float,
        lane: int,
        direction: Direction = Direction.APPROACHING,
        at: datetime | None = None,
    ) -> None:
        self.send(RadarSpeed(speed_kmh, direction, lane, _now(at), ClockSource.GPS))

    def crossing(
        self, lane: int, loop: LoopKind = LoopKind.STOP_LINE, at: datetime | None = None
    ) -> None:
        self.send(LoopCrossing(lane, loop, _now(at), ClockSource.GPS))

    def light(self, phase: LightPhase, at: datetime | None = None) -> None:
        self.send(LightPhaseChange(phase, _now(at), ClockSource.GPS))

    def tamper(self, is_open: bool, at: datetime | None = None) -> None:
        self.send(Tamper(is_open, _now(at), ClockSource.GPS))

    def heartbeat(self, uptime_ms: int = 0, temperature_c: float = 35.0) -> None:
        self.send(Heartbeat(uptime_ms, temperature_c))

    def gps_fix(
        self, lat: float, lon: float, satellites: int = 9, at: datetime | None = None
    ) -> None:
        """The receiver has (or keeps) a fix here; ``tick`` repeats it like a receiver would."""
        self._gps_fix = (lat, lon, satellites)
        for sentence in fix_sentences(lat, lon, satellites, _now(at)):
            self.send(GpsSentence(sentence))

    def gps_no_fix(self, at: datetime | None = None) -> None:
        self._gps_fix = None
        for sentence in no_fix_sentences(_now(at)):
            self.send(GpsSentence(sentence))

    def tick(self) -> None:
        """What the firmware sends every second: a heartbeat and the GPS receiver's output."""
        self.heartbeat(uptime_ms=int((time.monotonic() - self._started) * 1000) & 0xFFFFFFFF)
        if self._gps_fix is None:
            self.gps_no_fix()
        else:
            self.gps_fix(*self._gps_fix)

    def send(self, message: Message) -> None:
        self._runner.send(message)

    # --- faults ----------------------------------------------------------------------------

    def reboot(self) -> None:
        """Power cycle: boot counter + 1, sequence numbers from 0, unsent messages lost."""
        with self._runner.locked():
            # Off before the HELLO can go out, so the host's answer to it cannot be overtaken.
            with self._command_seen:
                self.illuminator_on = False
            endpoint = self._runner.endpoint
            endpoint.reset((endpoint.boot + 1) & 0xFFFF)
            endpoint.send(Hello(firmware=SIMULATOR_FIRMWARE), time.monotonic())

    def drop_next_data_frames(self, count: int = 1) -> None:
        """The next ``count`` data frames written (first sends or retransmissions) are lost."""
        with self._faults_lock:
            self._drop_data_frames += count

    def duplicate_next_data_frame(self) -> None:
        with self._faults_lock:
            self._duplicate_data_frames += 1

    def send_garbage(self, data: bytes) -> None:
        self._runner.write_raw(data)

    def wait_for_illuminator(self, on: bool, timeout_s: float) -> bool:
        with self._command_seen:
            return self._command_seen.wait_for(lambda: self.illuminator_on is on, timeout_s)

    def _on_event(self, event: RunnerEvent) -> None:
        if isinstance(event, PeerReset):
            # The host restarted and knows nothing of us: announce ourselves again, as the
            # firmware does, so it learns our boot counter without waiting for a sensor event.
            self.host_resets.append(event)
            self.send(Hello(firmware=SIMULATOR_FIRMWARE))
        if isinstance(event, Received) and isinstance(event.message, IlluminatorCommand):
            with self._command_seen:
                self.commands.append(event.message)
                self.illuminator_on = event.message.on
                self._command_seen.notify_all()

    def _inject_faults(self, output: bytes) -> bytes:
        with self._faults_lock:
            if not (self._drop_data_frames or self._duplicate_data_frames):
                return output
            kept = bytearray()
            for chunk in output.split(b"\x00"):
                if not chunk:
                    continue
                frame = b"\x00" + chunk + b"\x00"
                if _is_data_frame(chunk):
                    if self._drop_data_frames:
                        self._drop_data_frames -= 1
                        self.frames_dropped += 1
                        continue
                    if self._duplicate_data_frames:
                        self._duplicate_data_frames -= 1
                        kept += frame
                kept += frame
            return bytes(kept)


def _is_data_frame(encoded: bytes) -> bool:
    try:
        body = bytes(cobs.decode(encoded))
    except cobs.DecodeError:
        return False
    return len(body) > 1 and body[1] not in (MessageType.ACK, MessageType.NAK)


def _now(at: datetime | None) -> datetime:
    return at if at is not None else datetime.now(UTC)
