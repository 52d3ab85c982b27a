"""The reliable link: a pure state machine, one per side of the serial line.

Time is passed in, bytes come in through ``feed`` and go out through ``take_output``; the
serial-port adapter (``firmware_bridge.runner``) only moves bytes and calls ``poll``.

Reliability: stop-and-wait. One data frame is in flight at a time; the receiver answers every
intact data frame with an ACK carrying its sequence number (duplicates too, since the first ACK
may have been lost) and a CRC failure with a NAK. The sender retransmits on NAK or after
``ack_timeout_s``, at most ``max_retries`` times, then gives the message up and reports it.
At serial speeds a frame takes a few milliseconds, so one in flight keeps up with radar rates.

Duplicate suppression: the receiver remembers the last sequence numbers it delivered from the
peer's current boot. Reset detection: every frame carries its sender's boot counter; a new
value means the peer restarted, so the receiver forgets the old sequence numbers (the peer
starts again from 0) and reports a ``PeerReset``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from firmware_bridge.frame import Frame, FrameDecoder, encode_frame
from firmware_bridge.messages import (
    LINK_CONTROL,
    Message,
    MessageType,
    PayloadError,
    decode_message,
)

_DEDUP_MEMORY = 32


@dataclass(frozen=True, slots=True)
class Received:
    message: Message
    seq: int
    peer_boot: int


@dataclass(frozen=True, slots=True)
class PeerReset:
    previous_boot: int
    boot: int


@dataclass(frozen=True, slots=True)
class SendFailed:
    message: Message
    seq: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Undecodable:
    """An intact frame (CRC good) whose payload this side does not understand."""

    seq: int
    reason: str


LinkEvent = Received | PeerReset | SendFailed | Undecodable


@dataclass
class LinkCounters:
    frames_ok: int = 0
    crc_errors: int = 0
    malformed: int = 0
    resyncs: int = 0
    retransmissions: int = 0
    duplicates_dropped: int = 0
    sends_abandoned: int = 0
    peer_resets: int = 0
    naks_sent: int = 0
    naks_received: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class _InFlight:
    message: Message
    seq: int
    wire: bytes
    deadline: float
    attempts: int = 1


@dataclass
class LinkEndpoint:
    boot: int
    ack_timeout_s: float = 0.25
    max_retries: int = 5
    counters: LinkCounters = field(default_factory=LinkCounters)

    def __post_init__(self) -> None:
        if not 0 <= self.boot <= 0xFFFF:
            raise ValueError("boot counter must fit in 16 bits")
        self._decoder = FrameDecoder()
        self._next_seq = 0
        self._queue: deque[Message] = deque()
        self._in_flight: _InFlight | None = None
        self._output = bytearray()
        self._peer_boot: int | None = None
        self._seen: deque[int] = deque(maxlen=_DEDUP_MEMORY)

    @property
    def peer_boot(self) -> int | None:
        return self._peer_boot

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing waiting for an acknowledgement."""
        return self._in_flight is None and not self._queue

    def send(self, message: Message, now: float) -> None:
        self._queue.append(message)
        self._start_next(now)

    def feed(self, data: bytes, now: float) -> list[LinkEvent]:
        events: list[LinkEvent] = []
        for frame in self._decoder.feed(data):
            events.extend(self._on_frame(frame, now))
        if self._decoder.take_crc_failure():
            self._emit(Frame(MessageType.NAK, 0, self.boot))
            self.counters.naks_sent += 1
        self._sync_decoder_counters()
        return events

    def poll(self, now: float) -> list[LinkEvent]:
        """Retransmit or give up on an unacknowledged frame whose deadline has passed."""
        flight = self._in_flight
        if flight is None or now < flight.deadline:
            return []
        return self._retransmit(flight, now)

    def next_deadline(self) -> float | None:
        return None if self._in_flight is None else self._in_flight.deadline

    def take_output(self) -> bytes:
        data = bytes(self._output)
        self._output.clear()
        return data

    def reset(self, boot: int) -> None:
        """A restart of this side: new boot counter, sequence numbers from 0, queue dropped."""
        self.boot = boot
        self._next_seq = 0
        self._queue.clear()
        self._in_flight = None
        self._output.clear()
        self._peer_boot = None
        self._seen.clear()

    def _on_frame(self, frame: Frame, now: float) -> list[LinkEvent]:
        events: list[LinkEvent] = []
        if self._peer_boot is not None and frame.boot != self._peer_boot:
            self.counters.peer_resets += 1
            self._seen.clear()
            events.append(PeerReset(self._peer_boot, frame.boot))
        self._peer_boot = frame.boot
        if frame.type == MessageType.ACK:
            flight = self._in_flight
            if flight is not None and frame.seq == flight.seq:
                self._in_flight = None
                self._start_next(now)
            return events
        if frame.type == MessageType.NAK:
            self.counters.naks_received += 1
            if self._in_flight is not None:
                events.extend(self._retransmit(self._in_flight, now))
            return events
        self._emit(Frame(MessageType.ACK, frame.seq, self.boot))
        if frame.seq in self._seen:
            self.counters.duplicates_dropped += 1
            return events
        self._seen.append(frame.seq)
        try:
            message = decode_message(frame.type, frame.payload)
        except PayloadError as error:
            events.append(Undecodable(frame.seq, str(error)))
        else:
            events.append(Received(message, frame.seq, frame.boot))
        return events

    def _start_next(self, now: float) -> None:
        if self._in_flight is not None or not self._queue:
            return
        message = self._queue.popleft()
        if message.TYPE in LINK_CONTROL:
            raise ValueError("ACK and NAK are sent by the link itself")
        seq = self._next_seq
        self._next_seq = (seq + 1) & 0xFFFF
        wire = encode_frame(Frame(message.TYPE, seq, self.boot, message.encode()))
        self._in_flight = _InFlight(message, seq, wire, now + self.ack_timeout_s)
        self._output += wire

    def _retransmit(self, flight: _InFlight, now: float) -> list[LinkEvent]:
        if flight.attempts > self.max_retries:
            self.counters.sends_abandoned += 1
            self._in_flight = None
            self._start_next(now)
            return [SendFailed(flight.message, flight.seq, flight.attempts)]
        flight.attempts += 1
        flight.deadline = now + self.ack_timeout_s
        self.counters.retransmissions += 1
        self._output += flight.wire
        return []

    def _emit(self, frame: Frame) -> None:
        self._output += encode_frame(frame)

    def _sync_decoder_counters(self) -> None:
        decoded = self._decoder.counters
        self.counters.frames_ok = decoded.frames_ok
        self.counters.crc_errors = decoded.crc_errors
        self.counters.malformed = decoded.malformed
        self.counters.resyncs = decoded.resyncs
