"""The EMV contact/contactless kernel, as far as an online-only terminal needs it: application
selection (PPSE, PSE, then the terminal's AID list), GET PROCESSING OPTIONS with the PDOL,
READ RECORD per AFL, processing restrictions, the CVM list, terminal risk management (always
online), the first GENERATE AC for an ARQC with CDOL1, and the second GENERATE AC with the
issuer's answer (CDOL2).

It talks to the card through ``ApduChannel`` only, so the same kernel runs over PC/SC or any
other transport. The full card number and track 2 stay in memory (``SensitiveCardData``); only
the masked number leaves this module in anything that is stored or logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any, Protocol

from i18n.text import Text
from terminal import tlv
from terminal.messages import SpokenError

SW_OK = 0x9000
SW_SELECTED_FILE_INVALIDATED = 0x6283  # the application is blocked
SW_FILE_NOT_FOUND = 0x6A82
PPSE = b"2PAY.SYS.DDF01"
PSE = b"1PAY.SYS.DDF01"

SCHEME_BY_RID = {
    "A000000003": "visa",
    "A000000004": "mastercard",
    "A000000333": "unionpay",
    "A000000658": "mir",
}
DEFAULT_AIDS = ("A0000000031010", "A0000000032010", "A0000000041010", "A0000000043060")

# CVM codes (EMV Book 3, C3): what a terminal without a PIN pad can perform.
CVM_SIGNATURE = 0x1E
CVM_NO_CVM = 0x1F
SUPPORTED_CVMS = frozenset({CVM_SIGNATURE, CVM_NO_CVM})
CVM_APPLY_NEXT_IF_UNSUCCESSFUL = 0x40
# TVR byte 4, bit 4: merchant forced the transaction online. This terminal always goes online.
TVR_FORCED_ONLINE = bytes.fromhex("0000000800")


class CardError(SpokenError):
    """The card refused or broke off; the message is for the officer."""


class CardRemoved(CardError):
    """Raised by a transport when the card leaves the reader. After the bank has approved, the
    payment flow turns this into a reversal and says so instead."""

    def __init__(self) -> None:
        super().__init__(
            Text(
                "The card was removed before the payment finished: insert or tap it again."
                " Nothing was charged."
            )
        )


class ApduChannel(Protocol):
    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Send one command APDU; the response data and the status word."""


class Cryptogram(Enum):
    AAC = 0x00  # declined by the card
    TC = 0x40  # approved by the card
    ARQC = 0x80  # the card asks to go online


@dataclass(frozen=True)
class TerminalParams:
    country_code: str = "0398"  # ISO 3166 numeric, n3 in two bytes
    currency_code: str = "0398"  # ISO 4217 numeric
    terminal_type: str = "22"  # attended, online only, operated by the merchant
    capabilities: str = "E02800"  # manual/IC entry; signature and no CVM; no PIN pad
    aids: tuple[str, ...] = DEFAULT_AIDS


@dataclass(frozen=True)
class Application:
    aid: str
    label: str
    priority: int

    @property
    def scheme(self) -> str:
        return SCHEME_BY_RID.get(self.aid[:10], "card")


@dataclass(frozen=True, repr=False)
class SensitiveCardData:
    """The full card number and track 2: only ever in memory and on the wire to the acquirer."""

    pan: str
    track2: str

    def __repr__(self) -> str:
        return f"SensitiveCardData(pan={mask_pan(self.pan)})"


@dataclass(frozen=True)
class FirstAc:
    application: Application
    masked_pan: str
    pan_sequence: str | None
    expiry: str  # YYMM
    cryptogram: Cryptogram
    chip_data: bytes  # the TLVs for ISO 8583 DE55: no card number, no track data
    sensitive: SensitiveCardData = field(repr=False)


def mask_pan(pan: str) -> str:
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def _apdu(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: bool = True) -> bytes:
    body = bytes([len(data)]) + data if data else b""
    return bytes([cla, ins, p1, p2]) + body + (b"\x00" if le else b"")


def _bcd_date(day: date) -> bytes:
    return bytes.fromhex(day.strftime("%y%m%d"))


class EmvKernel:
    """One card transaction: ``first_ac`` then, after the acquirer answers, ``second_ac``."""

    def __init__(self, channel: ApduChannel, params: TerminalParams | None = None) -> None:
        self._channel = channel
        self._params = params or TerminalParams()
        self._card: dict[str, bytes] = {}
        self._terminal: dict[str, bytes] = {}

    # --- transport ---------------------------------------------------------------------------

    def _command(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw = self._channel.transmit(apdu)
        if sw >> 8 == 0x61:  # T=0: more data waiting
            more, sw = self._channel.transmit(_apdu(0x00, 0xC0, 0, 0)[:-1] + bytes([sw & 0xFF]))
            data += more
        elif sw >> 8 == 0x6C:  # wrong Le: repeat with the length the card asked for
            data, sw = self._channel.transmit(apdu[:-1] + bytes([sw & 0xFF]))
        return data, sw

    def _select(self, name: bytes) -> tuple[bytes, int]:
        return self._command(_apdu(0x00, 0xA4, 0x04, 0x00, name))

    # --- application selection ---------------------------------------------------------------

    def _candidates(self) -> list[Application]:
        for directory in (PPSE, PSE):
            data, sw = self._select(directory)
            if sw != SW_OK:
                continue
            entries = self._directory_entries(directory, data)
            if entries:
                return entries
        found: list[Application] = []
        for aid in self._params.aids:  # no directory: try the terminal's own list
            data, sw = self._select(bytes.fromhex(aid))
            if sw == SW_OK:
                fci = tlv.decode(data)
                found.append(_application(aid, tlv.find(fci, "50"), tlv.find(fci, "87")))
            elif sw == SW_SELECTED_FILE_INVALIDATED:
                found.append(Application(aid=aid, label="", priority=15))
        return found

    def _directory_entries(self, directory: bytes, fci: bytes) -> list[Application]:
        tree = tlv.decode(fci)
        if directory == PPSE:
            templates = tlv.find_raw(fci, "BF0C")
            records = [templates] if templates else []
        else:
            sfi = tlv.find(tree, "88")
            records = self._read_directory_records(sfi[0]) if sfi else []
        apps: list[Application] = []
        for record in records:
            for tag, value in tlv.split(record):
                if tag != "61":
                    continue
                entry = tlv.decode(value)
                aid = tlv.find(entry, "4F")
                if aid is None:
                    continue
                apps.append(
                    _application(aid.hex().upper(), tlv.find(entry, "50"), tlv.find(entry, "87"))
                )
        return apps

    def _read_directory_records(self, sfi: int) -> list[bytes]:
        records: list[bytes] = []
        for number in range(1, 17):
            data, sw = self._command(_apdu(0x00, 0xB2, number, (sfi << 3) | 4))
            if sw != SW_OK:
                break
            inner = tlv.find_raw(data, "70")
            if inner:
                records.append(inner)
        return records

    def _supported(self, aid: str) -> bool:
        return any(aid.startswith(known) for known in self._params.aids)

    def select_application(self) -> tuple[Application, dict[str, Any]]:
        candidates = sorted(
            (app for app in self._candidates() if self._supported(app.aid)),
            key=lambda app: app.priority or 15,
        )
        if not candidates:
            raise CardError(
                Text(
                    "This card has no payment application the terminal accepts:"
                    " ask for another card. Nothing was charged."
                )
            )
        blocked = 0
        for app in candidates:
            data, sw = self._select(bytes.fromhex(app.aid))
            if sw == SW_SELECTED_FILE_INVALIDATED:
                blocked += 1
                continue
            if sw == SW_OK:
                return app, tlv.decode(data)
        if blocked == len(candidates):
            raise CardError(
                Text(
                    "The card's payment application is blocked by its bank: ask for"
                    " another card. Nothing was charged."
                )
            )
        raise CardError(
            Text(
                "The card did not accept the selection of its payment application:"
                " ask for another card. Nothing was charged."
            )
        )

    # --- reading the card --------------------------------------------------------------------

    def _dol(self, dol: bytes | None) -> bytes:
        return tlv.build_dol(dol or b"", self._terminal)

    def _get_processing_options(self, fci: Mapping[str, Any]) -> tuple[bytes, bytes]:
        pdol_data = self._dol(tlv.find(fci, "9F38"))
        data, sw = self._command(_apdu(0x80, 0xA8, 0, 0, tlv.encode({"83": pdol_data})))
        if sw != SW_OK:
            raise CardError(
                Text(
                    "The card refused to start the payment (GET PROCESSING OPTIONS):"
                    " ask for another card. Nothing was charged."
                )
            )
        if data[:1] == b"\x80":  # format 1: AIP then AFL
            value = tlv.find(tlv.decode(data), "80") or b""
            return value[:2], value[2:]
        tree = tlv.decode(data)
        return tlv.find(tree, "82") or b"", tlv.find(tree, "94") or b""

    def _read_records(self, afl: bytes) -> None:
        for offset in range(0, len(afl) - 3, 4):
            sfi, first, last = afl[offset] >> 3, afl[offset + 1], afl[offset + 2]
            for number in range(first, last + 1):
                data, sw = self._command(_apdu(0x00, 0xB2, number, (sfi << 3) | 4))
                if sw != SW_OK:
                    raise CardError(
                        Text(
                            "The card could not be read (READ RECORD): insert or tap"
                            " it again. Nothing was charged."
                        )
                    )
                for tag, value in _flatten(tlv.decode(data)).items():
                    self._card.setdefault(tag, value)

    def _check_restrictions(self, today: date) -> None:
        expiry = self._card.get("5F24")
        if expiry is None or ("5A" not in self._card and "57" not in self._card):
            raise CardError(
                Text(
                    "The card did not give its number and expiry date: ask for"
                    " another card. Nothing was charged."
                )
            )
        if expiry.hex() < today.strftime("%y%m%d"):
            raise CardError(
                Text("The card has expired: ask for another card. Nothing was charged.")
            )
        effective = self._card.get("5F25")
        if effective is not None and effective.hex() > today.strftime("%y%m%d"):
            raise CardError(
                Text("The card is not valid yet: ask for another card. Nothing was charged.")
            )

    def _cardholder_verification(self, amount_minor: int) -> bytes:
        """CVM Results (9F34). A rule the terminal cannot perform (any PIN) without 'apply
        next' fails verification: the card then needs a PIN pad, that is the bank's POS."""
        cvm_list = self._card.get("8E")
        if not cvm_list or len(cvm_list) < 10:
            return bytes.fromhex("3F0000")  # no CVM performed
        amount_x = int.from_bytes(cvm_list[0:4], "big")
        amount_y = int.from_bytes(cvm_list[4:8], "big")
        for offset in range(8, len(cvm_list) - 1, 2):
            code, condition = cvm_list[offset], cvm_list[offset + 1]
            if not _condition_applies(condition, amount_minor, amount_x, amount_y):
                continue
            method = code & 0x3F
            if method in SUPPORTED_CVMS:
                return bytes([code, condition, 0x00 if method == CVM_SIGNATURE else 0x02])
            if not code & CVM_APPLY_NEXT_IF_UNSUCCESSFUL:
                break
        raise CardError(
            Text(
                "This card requires a PIN and this terminal has no PIN pad: take the"
                " payment on the bank's POS terminal. Nothing was charged."
            )
        )

    # --- the two cryptograms -----------------------------------------------------------------

    def _generate_ac(self, requested: Cryptogram, cdol: bytes) -> dict[str, bytes]:
        data, sw = self._command(_apdu(0x80, 0xAE, requested.value, 0, self._dol(cdol)))
        if sw != SW_OK:
            raise CardError(Text("The card refused to sign the payment (GENERATE AC)."))
        if data[:1] == b"\x80":  # format 1: CID, ATC, AC, issuer application data
            value = tlv.find(tlv.decode(data), "80") or b""
            return {"9F27": value[:1], "9F36": value[1:3], "9F26": value[3:11], "9F10": value[11:]}
        return _flatten(tlv.decode(data))

    def first_ac(self, amount_minor: int, today: date, unpredictable: bytes) -> FirstAc:
        """Everything up to the first GENERATE AC; ARQC (go online) or AAC (card declined)."""
        self._card.clear()
        self._terminal = {
            "9F02": bytes.fromhex(f"{amount_minor:012d}"),
            "9F03": bytes(6),
            "9F1A": bytes.fromhex(self._params.country_code),
            "5F2A": bytes.fromhex(self._params.currency_code),
            "9A": _bcd_date(today),
            "9C": b"\x00",
            "9F37": unpredictable,
            "9F35": bytes.fromhex(self._params.terminal_type),
            "9F33": bytes.fromhex(self._params.capabilities),
            "95": TVR_FORCED_ONLINE,
            "9F66": bytes.fromhex("B6000000"),  # contactless: online capable, signature, no PIN
        }
        application, fci = self.select_application()
        aip, afl = self._get_processing_options(fci)
        self._read_records(afl)
        self._check_restrictions(today)
        self._terminal["9F34"] = self._cardholder_verification(amount_minor)
        answer = self._generate_ac(Cryptogram.ARQC, self._card.get("8C", b""))
        cryptogram = _cryptogram(answer.get("9F27", b"\x00"))
        if cryptogram is Cryptogram.TC:
            raise CardError(
                Text(
                    "The card approved offline although the terminal asked to go"
                    " online: the card is faulty. Nothing was charged."
                )
            )
        pan_field = self._card.get("5A")
        pan = (
            pan_field.hex().upper().rstrip("F")
            if pan_field is not None
            else _pan_from_track2(self._card["57"])
        )
        track2 = self._card.get("57", b"").hex().upper().rstrip("F")
        self._card.update(answer)
        self._card["82"] = aip
        chip: dict[str, bytes] = {
            tag: self._card[tag]
            for tag in ("9F26", "9F27", "9F10", "9F36", "82")
            if tag in self._card
        }
        chip.update(
            {
                tag: self._terminal[tag]
                for tag in (
                    "9F02",
                    "9F03",
                    "9F1A",
                    "5F2A",
                    "9A",
                    "9C",
                    "9F37",
                    "95",
                    "9F34",
                    "9F33",
                    "9F35",
                )
            }
        )
        chip["84"] = bytes.fromhex(application.aid)
        psn = self._card.get("5F34")
        if psn is not None:
            chip["5F34"] = psn
        return FirstAc(
            application=application,
            masked_pan=mask_pan(pan),
            pan_sequence=None if psn is None else psn.hex(),
            expiry=self._card["5F24"].hex()[:4],
            cryptogram=cryptogram,
            chip_data=tlv.encode(chip),
            sensitive=SensitiveCardData(pan=pan, track2=track2),
        )

    def second_ac(self, approved: bool, response_code: str, issuer_data: bytes) -> Cryptogram:
        """Give the card the issuer's answer; TC when the card accepts an approval."""
        self._terminal["8A"] = response_code.encode("ascii")
        issuer = _flatten(tlv.decode(issuer_data)) if issuer_data else {}
        if "91" in issuer:
            self._terminal["91"] = issuer["91"]
        requested = Cryptogram.TC if approved else Cryptogram.AAC
        answer = self._generate_ac(requested, self._card.get("8D", b""))
        return _cryptogram(answer.get("9F27", b"\x00"))


def _application(aid: str, label: bytes | None, priority: bytes | None) -> Application:
    """Priority is the low nibble of tag 87; none (or 0) sorts last."""
    return Application(
        aid=aid,
        label=(label or b"").decode("ascii", "replace"),
        priority=(priority[0] & 0x0F) if priority else 15,
    )


def _cryptogram(cid: bytes) -> Cryptogram:
    return Cryptogram(cid[0] & 0xC0) if cid and cid[0] & 0xC0 != 0xC0 else Cryptogram.AAC


def _flatten(tree: Mapping[str, Any]) -> dict[str, bytes]:
    flat: dict[str, bytes] = {}
    for tag, value in tree.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value))
        else:
            flat[tag] = bytes(value)
    return flat


def _pan_from_track2(track2: bytes) -> str:
    return track2.hex().upper().split("D")[0]


def _condition_applies(condition: int, amount: int, amount_x: int, amount_y: int) -> bool:
    """CVM condition codes (EMV Book 3, C3) for an online-only, non-cash purchase."""
    return {
        0x00: True,  # always
        0x01: False,  # unattended cash
        0x02: True,  # not unattended cash, not manual cash, not cashback
        0x03: True,  # if the terminal supports the CVM
        0x06: amount < amount_x,
        0x07: amount > amount_x,
        0x08: amount < amount_y,
        0x09: amount > amount_y,
    }.get(condition, False)
