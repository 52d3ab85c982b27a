"""Frame layer of the serial link: COBS framing, header, CRC-16, and a stream decoder.

A frame on the wire is ``0x00 | COBS(body) | 0x00``. The leading delimiter matters: line noise
with no zero byte in it would otherwise merge into the next real frame and cost it.

Body layout (little-endian)::

    offset  size  field
    0       1     link protocol version (``LINK_VERSION``)
    1       1     message type (``firmware_bridge.messages.MessageType``)
    2       2     sequence number, uint16, per sender and per boot, wrapping
    4       2     boot counter of the sender, uint16
    6       1     payload length n
    7       n     payload (its own layout and version byte: see ``messages``)
    7+n     2     CRC-16/CCITT-FALSE (IBM-3740) over bytes 0 .. 7+n-1

The explicit length is redundant with COBS on purpose: a flipped bit in a COBS code byte moves
zeros around and changes the decoded length, which the length check catches before the CRC.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cobs import cobs  # type: ignore[import-untyped]
from crc import Calculator, Crc16

LINK_VERSION = 1
DELIMITER = b"\x00"
MAX_PAYLOAD = 250
_HEADER = struct.Struct("<BBHHB")
_CRC = struct.Struct("<H")
MAX_BODY = _HEADER.size + MAX_PAYLOAD + _CRC.size
# COBS adds one byte per 254 plus one; anything longer without a delimiter is garbage.
MAX_ENCODED = MAX_BODY + MAX_BODY // 254 + 2

_crc16 = Calculator(Crc16.IBM_3740, optimized=True)  # type: ignore[arg-type]


def crc16(data: bytes) -> int:
    return int(_crc16.checksum(data))


@dataclass(frozen=True, slots=True)
class Frame:
    type: int
    seq: int
    boot: int
    payload: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.type <= 0xFF:
            raise ValueError(f"message type {self.type} does not fit in one byte")
        if not 0 <= self.seq <= 0xFFFF or not 0 <= self.boot <= 0xFFFF:
            raise ValueError("sequence number and boot counter must fit in 16 bits")
        if len(self.payload) > MAX_PAYLOAD:
            raise ValueError(f"payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD}")


def encode_frame(frame: Frame) -> bytes:
    """The frame as written to the wire, delimiters on both sides included."""
    head = _HEADER.pack(LINK_VERSION, frame.type, frame.seq, frame.boot, len(frame.payload))
    body = head + frame.payload
    body += _CRC.pack(crc16(body))
    return DELIMITER + bytes(cobs.encode(body)) + DELIMITER


@dataclass
class DecoderCounters:
    frames_ok: int = 0
    crc_errors: int = 0
    malformed: int = 0
    """Chunks that were not a frame at all: bad COBS, wrong length or version, oversize."""
    resyncs: int = 0
    """Times the decoder threw bytes away and waited for the next delimiter."""


class FrameDecoder:
    """Turns an arbitrary byte stream into frames. Never raises on input: whatever does not
    decode to a frame with a matching length and CRC is counted and dropped, and decoding
    resumes at the next 0x00."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._overflowed = False
        self.counters = DecoderCounters()
        self._crc_failed = False

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        start = 0
        while start < len(data):
            zero = data.find(0, start)
            if zero < 0:
                self._append(data[start:])
                break
            self._append(data[start:zero])
            frame = self._finish_chunk()
            if frame is not None:
                frames.append(frame)
            start = zero + 1
        return frames

    def take_crc_failure(self) -> bool:
        """Whether a well-formed chunk failed its CRC since the last call (the link answers
        that with a NAK); clears the flag."""
        failed, self._crc_failed = self._crc_failed, False
        return failed

    def _append(self, data: bytes) -> None:
        if self._overflowed:
            return
        self._buffer += data
        if len(self._buffer) > MAX_ENCODED:
            self._buffer.clear()
            self._overflowed = True

    def _finish_chunk(self) -> Frame | None:
        if self._overflowed:
            self._overflowed = False
            self._reject(crc=False)
            return None
        if not self._buffer:
            return None  # two delimiters in a row: the normal gap between frames
        encoded = bytes(self._buffer)
        self._buffer.clear()
        try:
            body = bytes(cobs.decode(encoded))
        except cobs.DecodeError:
            self._reject(crc=False)
            return None
        if len(body) < _HEADER.size + _CRC.size:
            self._reject(crc=False)
            return None
        version, msg_type, seq, boot, length = _HEADER.unpack_from(body)
        if (
            version != LINK_VERSION
            or length > MAX_PAYLOAD
            or len(body) != _HEADER.size + length + _CRC.size
        ):
            self._reject(crc=False)
            return None
        (received_crc,) = _CRC.unpack_from(body, len(body) - _CRC.size)
        if crc16(body[: -_CRC.size]) != received_crc:
            self._reject(crc=True)
            return None
        self.counters.frames_ok += 1
        return Frame(msg_type, seq, boot, body[_HEADER.size : -_CRC.size])

    def _reject(self, *, crc: bool) -> None:
        self.counters.resyncs += 1
        if crc:
            self.counters.crc_errors += 1
            self._crc_failed = True
        else:
            self.counters.malformed += 1
