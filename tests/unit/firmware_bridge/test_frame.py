"""The frame decoder against arbitrary chunking, garbage and bit flips (hypothesis)."""

from __future__ import annotations

from cobs import cobs  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.frame import (
    MAX_ENCODED,
    MAX_PAYLOAD,
    Frame,
    FrameDecoder,
    crc16,
    encode_frame,
)

frames = st.builds(
    Frame,
    type=st.integers(0, 255),
    seq=st.integers(0, 0xFFFF),
    boot=st.integers(0, 0xFFFF),
    payload=st.binary(max_size=MAX_PAYLOAD),
)
frame_lists = st.lists(frames, min_size=1, max_size=8)
non_zero_garbage = st.binary(min_size=1, max_size=300).map(lambda b: b.replace(b"\x00", b"\x7f"))


def feed_in_chunks(decoder: FrameDecoder, stream: bytes, cuts: list[int]) -> list[Frame]:
    out: list[Frame] = []
    start = 0
    for cut in [*sorted({c % (len(stream) + 1) for c in cuts}), len(stream)]:
        out += decoder.feed(stream[start:cut])
        start = cut
    return out


@given(frame_lists, st.lists(st.integers(0, 10_000), max_size=20))
def test_any_chunking_yields_exactly_the_frames_sent(sent: list[Frame], cuts: list[int]) -> None:
    stream = b"".join(encode_frame(f) for f in sent)
    decoder = FrameDecoder()
    assert feed_in_chunks(decoder, stream, cuts) == sent
    assert decoder.counters.resyncs == 0


@given(frame_lists, st.lists(non_zero_garbage, min_size=1, max_size=8), st.data())
def test_garbage_between_frames_costs_no_frame(
    sent: list[Frame], garbage: list[bytes], data: st.DataObject
) -> None:
    # The field-notes trap: garbage without a 0x00 right before a frame must not merge into it.
    stream = b""
    for index, frame in enumerate(sent):
        if index < len(garbage):
            stream += garbage[index]
        stream += encode_frame(frame)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    decoder = FrameDecoder()
    assert feed_in_chunks(decoder, stream, cuts) == sent
    assert decoder.counters.resyncs >= 1


@given(frame_lists, st.binary(min_size=1, max_size=400), st.integers(min_value=0))
def test_arbitrary_garbage_anywhere_never_raises_nor_invents_a_frame(
    sent: list[Frame], garbage: bytes, where: int
) -> None:
    stream = b"".join(encode_frame(f) for f in sent)
    at = where % (len(stream) + 1)
    decoder = FrameDecoder()
    received = decoder.feed(stream[:at] + garbage + stream[at:])
    assert all(frame in sent for frame in received)


@given(frame_lists, st.integers(min_value=0), st.integers(0, 7))
def test_a_flipped_bit_never_yields_a_corrupted_frame(
    sent: list[Frame], where: int, bit: int
) -> None:
    stream = bytearray(b"".join(encode_frame(f) for f in sent))
    stream[where % len(stream)] ^= 1 << bit
    decoder = FrameDecoder()
    received = decoder.feed(bytes(stream))
    assert all(frame in sent for frame in received)
    # Every frame has its own delimiters on both sides, so one flipped bit costs one frame.
    assert len(received) >= len(sent) - 1


@settings(max_examples=30)
@given(st.binary(min_size=MAX_ENCODED + 1, max_size=MAX_ENCODED * 3), frames)
def test_an_endless_run_without_delimiter_is_dropped_and_decoding_resumes(
    noise: bytes, frame: Frame
) -> None:
    decoder = FrameDecoder()
    noise = noise.replace(b"\x00", b"\x01")
    assert decoder.feed(noise) == []
    assert decoder.feed(encode_frame(frame)) == [frame]
    assert decoder.counters.malformed == 1


def test_a_crc_failure_is_counted_as_such_and_asks_for_a_nak() -> None:
    wire = bytearray(encode_frame(Frame(0x20, 7, 3, b"\x01abc")))
    wire[wire.index(b"abc")] ^= 0x10  # a payload byte, not a COBS code byte
    decoder = FrameDecoder()
    assert decoder.feed(bytes(wire)) == []
    assert decoder.counters.crc_errors == 1
    assert decoder.take_crc_failure()
    assert not decoder.take_crc_failure()


def test_an_intact_frame_claiming_an_oversized_payload_is_dropped() -> None:
    body = bytes([1, 0x20, 0, 0, 0, 0, 251]) + bytes(251)
    body += crc16(body).to_bytes(2, "little")
    decoder = FrameDecoder()
    assert decoder.feed(b"\x00" + cobs.encode(body) + b"\x00") == []
    assert decoder.counters.malformed == 1


def test_each_frame_is_wrapped_in_delimiters_and_contains_no_other_zero() -> None:
    wire = encode_frame(Frame(0x00, 0, 0, b"\x00" * 20))
    assert wire[0] == 0 and wire[-1] == 0
    assert 0 not in wire[1:-1]
