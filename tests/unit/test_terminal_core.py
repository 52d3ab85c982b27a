"""The terminal's pure core: TLV and data object lists, the EMV kernel against the virtual
card model in process, ISO 8583 messages, ECR frames and the configuration's model. The receipt
and the languages are in test_terminal_language; the journal and other files on disk in
tests/integration/test_terminal_local."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import serial

from terminal import ecr, iso8583, tlv
from terminal.config import TerminalConfig
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


def test_dol_is_built_in_the_cards_order_and_lengths() -> None:
    dol = bytes.fromhex("9F02069F1A029F3704")
    assert tlv.parse_dol(dol) == [("9F02", 6), ("9F1A", 2), ("9F37", 4)]
    built = tlv.build_dol(dol, {"9F02": bytes.fromhex("000000012345"), "9F1A": b"\x03\x98\x00"})
    # a missing value is zeros; a longer one keeps its rightmost bytes
    assert built == bytes.fromhex("000000012345980000000000")


def test_repeated_templates_are_kept_apart() -> None:
    first = tlv.encode({"61": {"4F": bytes.fromhex("A0000000031010")}})
    second = tlv.encode({"61": {"4F": bytes.fromhex("A0000000041010")}})
    directory = (
        tlv.encode({"6F": {"84": b"2PAY.SYS.DDF01"}})[:0]
        + b"\xbf\x0c"
        + bytes([len(first + second)])
        + first
        + second
    )
    values = [value for tag, value in tlv.split(tlv.find_raw(directory, "BF0C") or b"")]
    assert [tlv.find(tlv.decode(v), "4F") for v in values] == [
        bytes.fromhex("A0000000031010"),
        bytes.fromhex("A0000000041010"),
    ]


def test_malformed_tlv_is_a_clear_error() -> None:
    with pytest.raises(tlv.TlvError):
        list(tlv.split(bytes.fromhex("5A08476173")))


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


def test_configuration_needs_the_section_of_the_selected_device(tmp_path: Path) -> None:
    fields = {
        "device_id": "term-patrol-0001",
        "terminal_id": "T0000042",
        "agency": "Police",
        "registry_url": "https://erap.example",
        "data_dir": tmp_path,
        "key_path": tmp_path / "k",
        "printer_device": "/dev/ttyUSB0",
    }
    with pytest.raises(ValueError, match=r"\[ecr\] section is missing"):
        TerminalConfig.model_validate({**fields, "payment_device": "ecr"})
    config = TerminalConfig.model_validate(
        {
            **fields,
            "payment_device": "emv",
            "emv": {
                "reader": "ACS",
                "acquirer_host": "10.0.0.1",
                "acquirer_port": 5000,
                "merchant_id": "ERAPASTANA00001",
                "acquirer_ca_file": "/etc/erap/keys/acquirer-ca.crt",
                "client_cert_file": "/etc/erap/keys/acquirer-client.crt",
                "client_key_file": "/etc/erap/keys/acquirer-client.key",
            },
        }
    )
    assert config.emv is not None and config.emv.acquirer_timeout_s == 30.0
    tls = config.emv.acquirer_tls()
    assert tls is not None and tls.server_name == "10.0.0.1"  # the host, unless named


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
