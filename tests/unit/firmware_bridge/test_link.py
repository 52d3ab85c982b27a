"""The link state machine with an injected clock: ACK/NAK, retransmission, duplicates, resets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from contract import ClockSource
from firmware_bridge.frame import Frame, encode_frame
from firmware_bridge.link import LinkEndpoint, PeerReset, Received, SendFailed, Undecodable
from firmware_bridge.messages import (
    Direction,
    Hello,
    IlluminatorCommand,
    LightPhase,
    LightPhaseChange,
    MessageType,
    RadarSpeed,
)

AT = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)


def radar(speed: float) -> RadarSpeed:
    return RadarSpeed(speed, Direction.APPROACHING, 1, AT, ClockSource.GPS)


def delivered(events: Sequence[object]) -> list[object]:
    return [e.message for e in events if isinstance(e, Received)]


def test_a_message_is_delivered_once_and_acknowledged() -> None:
    mcu, host = LinkEndpoint(boot=4), LinkEndpoint(boot=9)
    mcu.send(radar(97), now=0.0)
    assert delivered(host.feed(mcu.take_output(), now=0.0)) == [radar(97)]
    mcu.feed(host.take_output(), now=0.01)
    assert mcu.idle
    assert mcu.poll(now=10.0) == []
    assert mcu.take_output() == b""


def test_messages_queue_behind_the_one_in_flight_and_keep_their_order() -> None:
    mcu, host = LinkEndpoint(boot=4), LinkEndpoint(boot=9)
    for speed in (50, 60, 70):
        mcu.send(radar(speed), now=0.0)
    received: list[object] = []
    for _ in range(3):
        received += delivered(host.feed(mcu.take_output(), now=0.0))
        mcu.feed(host.take_output(), now=0.0)
    assert received == [radar(50), radar(60), radar(70)]
    assert mcu.idle


def test_a_lost_frame_is_retransmitted_after_the_timeout() -> None:
    mcu, host = LinkEndpoint(boot=4, ack_timeout_s=0.2), LinkEndpoint(boot=9)
    mcu.send(radar(97), now=0.0)
    mcu.take_output()  # lost on the wire
    assert mcu.poll(now=0.19) == [] and mcu.take_output() == b""
    mcu.poll(now=0.2)
    assert delivered(host.feed(mcu.take_output(), now=0.2)) == [radar(97)]
    assert mcu.counters.retransmissions == 1


def test_a_lost_ack_leads_to_a_duplicate_that_is_acked_but_not_delivered_again() -> None:
    mcu, host = LinkEndpoint(boot=4, ack_timeout_s=0.2), LinkEndpoint(boot=9)
    mcu.send(radar(97), now=0.0)
    first = mcu.take_output()
    assert delivered(host.feed(first, now=0.0)) == [radar(97)]
    host.take_output()  # the ACK is lost
    mcu.poll(now=0.3)
    assert delivered(host.feed(mcu.take_output(), now=0.3)) == []
    assert host.counters.duplicates_dropped == 1
    mcu.feed(host.take_output(), now=0.3)
    assert mcu.idle


def test_sending_is_abandoned_after_the_bounded_retries_and_reported() -> None:
    mcu = LinkEndpoint(boot=4, ack_timeout_s=0.1, max_retries=3)
    mcu.send(IlluminatorCommand(on=True), now=0.0)
    mcu.send(IlluminatorCommand(on=False), now=0.0)
    events: list[object] = []
    for step in range(1, 5):
        events += mcu.poll(now=step * 0.1)
    assert events == [SendFailed(IlluminatorCommand(on=True), seq=0, attempts=4)]
    assert mcu.counters.retransmissions == 3
    assert mcu.counters.sends_abandoned == 1
    assert not mcu.idle  # the next command is now in flight


def test_a_crc_error_is_answered_with_a_nak_that_triggers_an_immediate_retransmission() -> None:
    mcu, host = LinkEndpoint(boot=4, ack_timeout_s=5.0), LinkEndpoint(boot=9)
    mcu.send(LightPhaseChange(LightPhase.RED, AT, ClockSource.GPS), now=0.0)
    wire = bytearray(mcu.take_output())
    wire[-4] ^= 0x01
    assert host.feed(bytes(wire), now=0.0) == []
    assert host.counters.crc_errors == 1 and host.counters.naks_sent == 1
    mcu.feed(host.take_output(), now=0.01)
    assert mcu.counters.naks_received == 1 and mcu.counters.retransmissions == 1
    assert delivered(host.feed(mcu.take_output(), now=0.01)) == [
        LightPhaseChange(LightPhase.RED, AT, ClockSource.GPS)
    ]


def test_a_new_boot_counter_is_reported_and_restarts_duplicate_tracking() -> None:
    host = LinkEndpoint(boot=9)
    before = LinkEndpoint(boot=4)
    before.send(radar(50), now=0.0)
    host.feed(before.take_output(), now=0.0)
    after = LinkEndpoint(boot=5)  # rebooted: sequence numbers start from 0 again
    after.send(Hello(firmware="mcu/1"), now=1.0)
    events = host.feed(after.take_output(), now=1.0)
    assert events[0] == PeerReset(previous_boot=4, boot=5)
    assert delivered(events) == [Hello(firmware="mcu/1")]  # seq 0 again, yet not a duplicate
    assert host.counters.peer_resets == 1


def test_an_intact_frame_with_an_unknown_type_is_acked_and_reported() -> None:
    host = LinkEndpoint(boot=9)
    events = host.feed(encode_frame(Frame(0x7E, 3, 4, b"\x01")), now=0.0)
    assert events == [Undecodable(3, "unknown message type 0x7e")]
    assert host.take_output() == encode_frame(Frame(MessageType.ACK, 3, 9))


def test_reset_of_own_side_starts_sequence_numbers_from_zero_with_the_new_boot() -> None:
    mcu = LinkEndpoint(boot=4)
    mcu.send(radar(50), now=0.0)
    mcu.reset(boot=5)
    assert mcu.idle and mcu.take_output() == b""
    mcu.send(radar(60), now=0.0)
    assert mcu.take_output() == encode_frame(
        Frame(MessageType.RADAR_SPEED, 0, 5, radar(60).encode())
    )
