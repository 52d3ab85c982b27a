"""The link over a hostile channel (hypothesis): whatever the channel loses, duplicates or
corrupts, every message is delivered exactly once and in order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.link import LinkEndpoint, Received
from firmware_bridge.messages import Heartbeat

Fate = str  # "pass", "drop", "duplicate", "flip", "garbage"
fates = st.lists(
    st.sampled_from(["pass", "pass", "pass", "drop", "duplicate", "flip", "garbage"]),
    min_size=1,
    max_size=200,
)


def transmit(data: bytes, fate: Fate, garbage: bytes) -> bytes:
    if not data or fate == "pass":
        return data
    if fate == "drop":
        return b""
    if fate == "duplicate":
        return data + data
    if fate == "flip":
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0x04]) + data[middle + 1 :]
    return garbage + data


CLEAN_EVERY = 10
"""Every tenth exchange passes both ways: without some fairness no link can deliver."""


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 12), fates, fates, st.binary(max_size=40))
def test_exactly_once_in_order_over_a_lossy_duplicating_corrupting_channel(
    count: int, outbound: list[Fate], inbound: list[Fate], garbage: bytes
) -> None:
    sender = LinkEndpoint(boot=1, ack_timeout_s=1.0, max_retries=1_000)
    receiver = LinkEndpoint(boot=2)
    sent = [Heartbeat(uptime_ms=index, temperature_c=20.0) for index in range(count)]
    for message in sent:
        sender.send(message, now=0.0)
    delivered = []
    now = 0.0
    step = 0
    while not sender.idle:
        assert step < 50 * CLEAN_EVERY, "the link stopped making progress"
        clean = step % CLEAN_EVERY == CLEAN_EVERY - 1
        fate_out = "pass" if clean else outbound[step % len(outbound)]
        fate_back = "pass" if clean else inbound[step % len(inbound)]
        step += 1
        for event in receiver.feed(transmit(sender.take_output(), fate_out, garbage), now):
            if isinstance(event, Received):
                delivered.append(event.message)
        sender.feed(transmit(receiver.take_output(), fate_back, garbage), now)
        now += 1.0
        sender.poll(now)
    assert delivered == sent
    assert sender.counters.sends_abandoned == 0
