"""Message payloads: each round-trips, and unknown versions, types or codes are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contract import ClockSource
from firmware_bridge.messages import (
    PAYLOAD_VERSION,
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
    PayloadError,
    RadarSpeed,
    Tamper,
    decode_message,
)

AT = datetime(2026, 3, 1, 6, 30, 15, 123_000, tzinfo=UTC)

EXAMPLES: list[Message] = [
    Hello(firmware="mcu/2.4.1"),
    Heartbeat(uptime_ms=86_400_000, temperature_c=-12.5),
    RadarSpeed(97.3, Direction.APPROACHING, 2, AT, ClockSource.GPS),
    RadarSpeed(0.0, Direction.RECEDING, 1, AT, ClockSource.RTC),
    LoopCrossing(3, LoopKind.STOP_LINE, AT, ClockSource.GPS),
    LightPhaseChange(LightPhase.RED, AT, ClockSource.NTP),
    Tamper(True, AT, ClockSource.RTC),
    GpsSentence("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"),
    IlluminatorCommand(on=True),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips(message: Message) -> None:
    payload = message.encode()
    assert payload[0] == PAYLOAD_VERSION
    assert decode_message(message.TYPE, payload) == message


def test_radar_layout_is_little_endian_tenths_of_km_h() -> None:
    payload = RadarSpeed(97.3, Direction.APPROACHING, 2, AT, ClockSource.GPS).encode()
    assert payload[1:3] == (973).to_bytes(2, "little")


def test_a_payload_of_an_unknown_version_is_refused() -> None:
    payload = bytearray(Tamper(False, AT, ClockSource.GPS).encode())
    payload[0] = PAYLOAD_VERSION + 1
    with pytest.raises(PayloadError, match="version 2 is not supported"):
        decode_message(MessageType.TAMPER, bytes(payload))


@pytest.mark.parametrize(
    ("message_type", "payload", "complaint"),
    [
        (0x7E, b"\x01", "unknown message type"),
        (MessageType.RADAR_SPEED, b"\x01\x00", "expected 14"),
        (MessageType.LIGHT_PHASE, bytes([1, 9]) + bytes(8) + b"\x01", "unknown LightPhase"),
        (MessageType.TAMPER, bytes([1, 2]) + bytes(8) + b"\x01", "neither 0 nor 1"),
        (MessageType.TAMPER, bytes([1, 1]) + bytes(8) + b"\x09", "unknown clock source"),
        (MessageType.GPS_NMEA, b"\x01\xff", "not ASCII"),
        (MessageType.HELLO, b"", "version None"),
    ],
)
def test_malformed_payloads_raise_payload_error(
    message_type: int, payload: bytes, complaint: str
) -> None:
    with pytest.raises(PayloadError, match=complaint):
        decode_message(message_type, payload)
