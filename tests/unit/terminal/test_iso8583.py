"""ISO 8583 messages (terminal/iso8583.py): the financial request, the reversal, the answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from terminal import iso8583
from terminal.sim.virtual_card import TEST_PAN

# pyemv's test-issuer cryptography uses two-key triple DES, as EMV does.
pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")


def test_financial_request_carries_chip_data_in_binary_and_the_reversal_no_card() -> None:
    sent = datetime(2026, 11, 22, 6, 30, 5, tzinfo=UTC)
    auth = iso8583.Authorisation(
        stan="000123",
        transmitted_at=sent,
        local_time=sent,
        amount_minor=1_081_250,
        terminal_id="T0000042",
        merchant_id="ERAPASTANA00001",
        pan=TEST_PAN,
        pan_sequence="01",
        expiry="3112",
        track2=TEST_PAN + "D3112201",
        chip_data=b"\x9f\x26\x01\xab",
    )
    frame = iso8583.encode_frame(iso8583.financial_request(auth))
    assert int.from_bytes(frame[:2], "big") == len(frame) - 2
    assert b"\x9f\x26\x01\xab" in frame  # DE55 raw, not hex text
    doc = iso8583.decode(frame[2:])
    assert doc["t"] == "0200" and doc["4"] == "000001081250" and doc["35"] == TEST_PAN + "=3112201"
    reversal = iso8583.encode_frame(
        iso8583.reversal_request(
            stan="000123",
            transmitted_at=sent,
            amount_minor=1_081_250,
            terminal_id="T0000042",
            merchant_id="ERAPASTANA00001",
            reason=iso8583.REVERSAL_REASON_TIMEOUT,
        )
    )
    assert TEST_PAN.encode() not in reversal
    assert iso8583.decode(reversal[2:])["90"].startswith("02000001231122063005")


def test_answer_must_be_an_0210() -> None:
    with pytest.raises(iso8583.Iso8583Error):
        iso8583.authorisation_answer({"t": "0410"})
