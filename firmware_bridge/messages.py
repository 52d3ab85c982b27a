"""Typed messages carried in frame payloads, and their versioned binary encoding.

Every payload starts with a one-byte payload version (``PAYLOAD_VERSION``); the rest is
``struct``-packed little-endian. A receiver refuses a version it does not know rather than
guessing. Times from the microcontroller are UTC milliseconds since the Unix epoch read from
its real-time clock, with a byte saying what disciplines that clock.

======  =================  =========  ====================================================
type    name               direction  payload after the version byte
======  =================  =========  ====================================================
0x01    ACK                both       none (the frame's sequence number is the one acked)
0x02    NAK                both       none (ask for an immediate retransmission)
0x10    HELLO              both       protocol uint8, firmware version (ASCII, rest)
0x11    HEARTBEAT          MCU->host  uptime_ms uint32, temperature_dc int16 (0.1 degC)
0x20    RADAR_SPEED        MCU->host  speed uint16 (0.1 km/h), direction uint8, lane uint8,
                                      time_ms uint64, clock uint8
0x21    LOOP_CROSSING      MCU->host  lane uint8, loop kind uint8, time_ms uint64, clock uint8
0x22    LIGHT_PHASE        MCU->host  phase uint8, time_ms uint64, clock uint8
0x23    TAMPER             MCU->host  open uint8 (0/1), time_ms uint64, clock uint8
0x24    GPS_NMEA           MCU->host  one NMEA 0183 sentence, ASCII, without CR LF
0x40    ILLUMINATOR        host->MCU  on uint8 (0/1)
======  =================  =========  ====================================================
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import ClassVar, TypeVar

from contract import ClockSource

PAYLOAD_VERSION = 1
_E = TypeVar("_E", bound=IntEnum)


class MessageType(IntEnum):
    ACK = 0x01
    NAK = 0x02
    HELLO = 0x10
    HEARTBEAT = 0x11
    RADAR_SPEED = 0x20
    LOOP_CROSSING = 0x21
    LIGHT_PHASE = 0x22
    TAMPER = 0x23
    GPS_NMEA = 0x24
    ILLUMINATOR = 0x40


LINK_CONTROL = frozenset({MessageType.ACK, MessageType.NAK})


class PayloadError(ValueError):
    """A frame arrived intact but its payload is not one this host understands."""


class Direction(IntEnum):
    APPROACHING = 1
    RECEDING = 2


class LoopKind(IntEnum):
    TRIGGER_LOOP = 1
    STOP_LINE = 2


class LightPhase(IntEnum):
    GREEN = 1
    AMBER = 2
    RED = 3


_CLOCK_CODES: dict[ClockSource, int] = {ClockSource.RTC: 1, ClockSource.GPS: 2, ClockSource.NTP: 3}
_CLOCK_BY_CODE = {code: source for source, code in _CLOCK_CODES.items()}


def _time_to_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _ms_to_time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _clock(code: int) -> ClockSource:
    try:
        return _CLOCK_BY_CODE[code]
    except KeyError:
        raise PayloadError(f"unknown clock source code {code}") from None


def _enum(kind: type[_E], code: int) -> _E:
    try:
        return kind(code)
    except ValueError:
        raise PayloadError(f"unknown {kind.__name__} code {code}") from None


class _Fixed:
    """Mixin for messages with a fixed struct layout after the version byte."""

    TYPE: ClassVar[MessageType]
    LAYOUT: ClassVar[struct.Struct]

    @classmethod
    def _fields(cls, payload: bytes) -> tuple[int, ...]:
        if len(payload) != 1 + cls.LAYOUT.size:
            raise PayloadError(
                f"{cls.TYPE.name} payload has {len(payload)} bytes, expected {1 + cls.LAYOUT.size}"
            )
        return tuple(cls.LAYOUT.unpack_from(payload, 1))

    @classmethod
    def _pack(cls, *values: int) -> bytes:
        return bytes([PAYLOAD_VERSION]) + cls.LAYOUT.pack(*values)


@dataclass(frozen=True, slots=True)
class Hello:
    """Sent by each side when it starts, so the other notices a reboot at once."""

    firmware: str
    protocol: int = 1
    TYPE: ClassVar[MessageType] = MessageType.HELLO

    def encode(self) -> bytes:
        return bytes([PAYLOAD_VERSION, self.protocol]) + self.firmware.encode("ascii")

    @classmethod
    def decode(cls, payload: bytes) -> Hello:
        if len(payload) < 2:
            raise PayloadError("HELLO payload is too short")
        try:
            return cls(firmware=payload[2:].decode("ascii"), protocol=payload[1])
        except UnicodeDecodeError:
            raise PayloadError("HELLO firmware version is not ASCII") from None


@dataclass(frozen=True, slots=True)
class Heartbeat(_Fixed):
    uptime_ms: int
    temperature_c: float
    TYPE: ClassVar[MessageType] = MessageType.HEARTBEAT
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<Ih")

    def encode(self) -> bytes:
        return self._pack(self.uptime_ms, round(self.temperature_c * 10))

    @classmethod
    def decode(cls, payload: bytes) -> Heartbeat:
        uptime, temp = cls._fields(payload)
        return cls(uptime_ms=uptime, temperature_c=temp / 10)


@dataclass(frozen=True, slots=True)
class RadarSpeed(_Fixed):
    speed_kmh: float
    direction: Direction
    lane: int
    at: datetime
    clock: ClockSource
    TYPE: ClassVar[MessageType] = MessageType.RADAR_SPEED
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<HBBQB")

    def encode(self) -> bytes:
        return self._pack(
            round(self.speed_kmh * 10),
            self.direction,
            self.lane,
            _time_to_ms(self.at),
            _CLOCK_CODES[self.clock],
        )

    @classmethod
    def decode(cls, payload: bytes) -> RadarSpeed:
        speed, direction, lane, ms, clock = cls._fields(payload)
        return cls(speed / 10, _enum(Direction, direction), lane, _ms_to_time(ms), _clock(clock))


@dataclass(frozen=True, slots=True)
class LoopCrossing(_Fixed):
    lane: int
    loop: LoopKind
    at: datetime
    clock: ClockSource
    TYPE: ClassVar[MessageType] = MessageType.LOOP_CROSSING
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<BBQB")

    def encode(self) -> bytes:
        return self._pack(self.lane, self.loop, _time_to_ms(self.at), _CLOCK_CODES[self.clock])

    @classmethod
    def decode(cls, payload: bytes) -> LoopCrossing:
        lane, loop, ms, clock = cls._fields(payload)
        return cls(lane, _enum(LoopKind, loop), _ms_to_time(ms), _clock(clock))


@dataclass(frozen=True, slots=True)
class LightPhaseChange(_Fixed):
    phase: LightPhase
    at: datetime
    clock: ClockSource
    TYPE: ClassVar[MessageType] = MessageType.LIGHT_PHASE
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<BQB")

    def encode(self) -> bytes:
        return self._pack(self.phase, _time_to_ms(self.at), _CLOCK_CODES[self.clock])

    @classmethod
    def decode(cls, payload: bytes) -> LightPhaseChange:
        phase, ms, clock = cls._fields(payload)
        return cls(_enum(LightPhase, phase), _ms_to_time(ms), _clock(clock))


@dataclass(frozen=True, slots=True)
class Tamper(_Fixed):
    open: bool
    at: datetime
    clock: ClockSource
    TYPE: ClassVar[MessageType] = MessageType.TAMPER
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<BQB")

    def encode(self) -> bytes:
        return self._pack(int(self.open), _time_to_ms(self.at), _CLOCK_CODES[self.clock])

    @classmethod
    def decode(cls, payload: bytes) -> Tamper:
        is_open, ms, clock = cls._fields(payload)
        if is_open not in (0, 1):
            raise PayloadError(f"TAMPER state {is_open} is neither 0 nor 1")
        return cls(bool(is_open), _ms_to_time(ms), _clock(clock))


@dataclass(frozen=True, slots=True)
class GpsSentence:
    """One raw NMEA sentence from the box's GPS receiver; ``firmware_bridge.gps`` parses it."""

    sentence: str
    TYPE: ClassVar[MessageType] = MessageType.GPS_NMEA

    def encode(self) -> bytes:
        return bytes([PAYLOAD_VERSION]) + self.sentence.encode("ascii")

    @classmethod
    def decode(cls, payload: bytes) -> GpsSentence:
        try:
            return cls(payload[1:].decode("ascii"))
        except UnicodeDecodeError:
            raise PayloadError("GPS sentence is not ASCII") from None


@dataclass(frozen=True, slots=True)
class IlluminatorCommand(_Fixed):
    on: bool
    TYPE: ClassVar[MessageType] = MessageType.ILLUMINATOR
    LAYOUT: ClassVar[struct.Struct] = struct.Struct("<B")

    def encode(self) -> bytes:
        return self._pack(int(self.on))

    @classmethod
    def decode(cls, payload: bytes) -> IlluminatorCommand:
        (on,) = cls._fields(payload)
        if on not in (0, 1):
            raise PayloadError(f"ILLUMINATOR state {on} is neither 0 nor 1")
        return cls(bool(on))


Message = (
    Hello
    | Heartbeat
    | RadarSpeed
    | LoopCrossing
    | LightPhaseChange
    | Tamper
    | GpsSentence
    | IlluminatorCommand
)

_DECODERS: dict[int, type[Message]] = {
    kind.TYPE: kind
    for kind in (
        Hello,
        Heartbeat,
        RadarSpeed,
        LoopCrossing,
        LightPhaseChange,
        Tamper,
        GpsSentence,
        IlluminatorCommand,
    )
}


def decode_message(message_type: int, payload: bytes) -> Message:
    """Decode a data frame's payload. Raises ``PayloadError`` for unknown types or versions."""
    kind = _DECODERS.get(message_type)
    if kind is None:
        raise PayloadError(f"unknown message type 0x{message_type:02x}")
    if not payload or payload[0] != PAYLOAD_VERSION:
        version = payload[0] if payload else None
        raise PayloadError(f"{kind.TYPE.name} payload version {version} is not supported")
    return kind.decode(payload)
