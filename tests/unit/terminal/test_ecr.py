"""The ECR link to the bank's POS (terminal/ecr.py): frames and the link over a loop port."""

from __future__ import annotations

import pytest
import serial

from terminal import ecr


def test_ecr_frames_round_trip_and_reject_a_bad_checksum() -> None:
    frame = ecr.encode_frame(["PUR", "ref-1", "1081250", "398"])
    assert frame[:1] == ecr.STX and frame[-2:-1] == ecr.ETX
    assert ecr.decode_frame(frame) == ["PUR", "ref-1", "1081250", "398"]
    broken = frame[:-1] + bytes([frame[-1] ^ 0xFF])
    with pytest.raises(ecr.EcrError, match="checksum"):
        ecr.decode_frame(broken)


def test_ecr_link_resends_on_nak_and_acknowledges_what_it_receives() -> None:
    port = serial.serial_for_url("loop://", timeout=0.2)
    link = ecr.EcrLink(port)
    answer = ecr.encode_frame(
        [
            "RES",
            "ref-1",
            "00",
            "1",
            "2",
            "3",
            "476173******0010",
            "visa",
            "A0000000031010",
            "POS1",
            "ok",
        ]
    )
    port.write(b"\x06" + answer)  # loop://: what we write comes back to us
    assert ecr.PosAnswer.of(link.receive(1.0)).result == "00"  # the stray ACK is skipped
    assert port.read(1) == ecr.ACK
