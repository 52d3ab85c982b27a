"""The EMV kernel (terminal/emv.py) against the virtual card's APDU model in process."""

from __future__ import annotations

from datetime import date

import pytest

from terminal import tlv
from terminal.emv import CardError, Cryptogram, EmvKernel, mask_pan
from terminal.sim.virtual_card import TEST_PAN, Directory, Scenario, VirtualEmvCard

TODAY = date(2026, 11, 22)
# pyemv's test-issuer cryptography uses two-key triple DES, as EMV does.
pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")


class InProcessCard:
    """The virtual card's APDU model without vpcd, for fast kernel tests."""

    def __init__(self, scenario: Scenario) -> None:
        self.card = VirtualEmvCard(scenario)
        self.commands: list[bytes] = []

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.commands.append(apdu)
        reply = self.card.answer(apdu)
        return reply[:-2], int.from_bytes(reply[-2:], "big")


def test_kernel_reaches_an_arqc_and_keeps_the_card_number_out_of_chip_data() -> None:
    card = InProcessCard(Scenario())
    kernel = EmvKernel(card)
    first = kernel.first_ac(1_081_250, TODAY, bytes.fromhex("01020304"))
    assert first.cryptogram is Cryptogram.ARQC
    assert first.masked_pan == "476173******0010" and first.expiry == "3112"
    assert first.application.scheme == "visa"
    chip = tlv.decode(first.chip_data)
    assert chip["9F02"] == bytes.fromhex("000001081250") and chip["95"][3] & 0x08
    assert "5A" not in chip and "57" not in chip
    assert TEST_PAN not in repr(first) and bytes.fromhex(TEST_PAN) not in first.chip_data
    assert [c[1] for c in card.commands] == [0xA4, 0xA4, 0xA8, 0xB2, 0xB2, 0xAE]


def test_kernel_without_the_issuers_cryptogram_gets_an_aac() -> None:
    kernel = EmvKernel(InProcessCard(Scenario()))
    kernel.first_ac(500_00, TODAY, b"\x00\x00\x00\x01")
    assert kernel.second_ac(True, "00", b"") is Cryptogram.AAC  # no valid ARPC: card declines


def test_pin_only_cvm_list_stops_before_the_bank() -> None:
    card = InProcessCard(Scenario(pin_required=True))
    with pytest.raises(CardError, match="PIN"):
        EmvKernel(card).first_ac(500_00, TODAY, b"\x00\x00\x00\x01")
    assert all(command[1] != 0xAE for command in card.commands)


def test_expired_card_is_refused() -> None:
    with pytest.raises(CardError, match="expired"):
        EmvKernel(InProcessCard(Scenario())).first_ac(100, date(2032, 1, 1), b"\x00" * 4)


def test_mask_pan_keeps_first_six_and_last_four() -> None:
    assert mask_pan(TEST_PAN) == "476173******0010"


@pytest.mark.parametrize(
    ("directory", "first_commands"),
    [
        # PPSE absent, PSE read from its SFI until "record not found", then the AID
        (Directory.PSE, ["A4", "A4", "B2", "B2", "A4"]),
        # neither directory: the terminal tries its own AID list
        (Directory.NONE, ["A4", "A4", "A4", "A4", "A4", "A4", "A4"]),
    ],
)
def test_application_selection_without_a_proximity_directory(
    directory: Directory, first_commands: list[str]
) -> None:
    card = InProcessCard(Scenario(directory=directory, several_applications=True))
    first = EmvKernel(card).first_ac(500_00, TODAY, b"\x00\x00\x00\x01")
    assert first.application.aid == "A0000000031010"  # priority 1 of the two
    assert first.cryptogram is Cryptogram.ARQC
    assert [f"{c[1]:02X}" for c in card.commands[: len(first_commands)]] == first_commands
