"""A Visa/Mastercard-like EMV test card that plugs into vpcd (vsmartcard's virtual reader).

vpcd's wire protocol: every frame is a 2-byte big-endian length and a payload; a 1-byte payload
is a control code (0 power off, 1 power on, 2 reset, 4 send ATR), anything else a command APDU
answered with data + SW1 SW2. The card connects to vpcd (it is the TCP client).

Scenarios: approve (default), decline (AAC at the first GENERATE AC), blocked application,
several applications, PIN required (CVM list without a fallback), refuse the second GENERATE AC
after an approval, and the card pulled out at any step.
"""

from __future__ import annotations

import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from enum import StrEnum

import typer

from terminal import tlv
from terminal.sim import test_issuer

ATR = bytes.fromhex("3B80800101")  # T=1
SW_OK = b"\x90\x00"
PPSE = b"2PAY.SYS.DDF01"
PSE = b"1PAY.SYS.DDF01"
PDOL = bytes.fromhex("9F66049F02069F1A025F2A029A039C019F3704")
CDOL1 = bytes.fromhex("9F02069F03069F1A0295055F2A029A039C019F37049F35019F3403")
CDOL2 = bytes.fromhex("8A02910A9F3704")
TEST_PAN = "4761739001010010"  # a published Visa test card number
TEST_PAN_SEQUENCE = "01"
CVM_NO_CVM_OR_SIGNATURE = bytes.fromhex("00000000000000005E031F03")
CVM_ONLINE_PIN_ONLY = bytes.fromhex("000000000000000002030000")  # no fallback


class Step(StrEnum):
    SELECT = "select"
    GPO = "gpo"
    READ = "read"
    FIRST_AC = "first_ac"
    SECOND_AC = "second_ac"


class Directory(StrEnum):
    """How the card lists its applications."""

    PPSE = "ppse"  # contactless: the proximity directory in the FCI
    PSE = "pse"  # contact: the payment system directory in records of its own SFI
    NONE = "none"  # no directory: the terminal must try its own AID list


DIRECTORY_SFI = 3


@dataclass(frozen=True)
class CardApp:
    aid: str
    label: str
    priority: int


@dataclass
class Scenario:
    decline: bool = False
    blocked: bool = False
    several_applications: bool = False
    pin_required: bool = False
    refuse_second_ac: bool = False
    pull_at: Step | None = None
    directory: Directory = Directory.PPSE


class CardPulled(Exception):
    """The scenario takes the card out of the reader now."""


@dataclass
class VirtualEmvCard:
    scenario: Scenario
    pan: str = TEST_PAN
    pan_sequence: str = TEST_PAN_SEQUENCE
    atc: int = 0
    selected: str | None = None
    aip: bytes = bytes.fromhex("1980")
    last_first_ac: dict[str, bytes] = field(default_factory=dict)

    @property
    def applications(self) -> list[CardApp]:
        apps = [CardApp("A0000000031010", "VISA CREDIT", 1)]
        if self.scenario.several_applications:
            apps.insert(0, CardApp("A0000000032010", "VISA ELECTRON", 2))
        return apps

    def reset(self) -> None:
        self.selected = None
        self.last_first_ac = {}

    def _maybe_pull(self, step: Step) -> None:
        if self.scenario.pull_at is step:
            raise CardPulled

    def answer(self, apdu: bytes) -> bytes:
        cla, ins, p1, p2 = apdu[:4]
        data = apdu[5 : 5 + apdu[4]] if len(apdu) > 5 else b""
        if ins == 0xA4:
            self._maybe_pull(Step.SELECT)
            return self._select(data)
        if ins == 0xA8 and cla == 0x80:
            self._maybe_pull(Step.GPO)
            return self._gpo()
        if ins == 0xB2:
            self._maybe_pull(Step.READ)
            return self._read_record(p1, p2 >> 3)
        if ins == 0xAE and cla == 0x80:
            if self.last_first_ac:
                self._maybe_pull(Step.SECOND_AC)
                return self._second_ac(p1, data)
            self._maybe_pull(Step.FIRST_AC)
            return self._first_ac(p1, data)
        return b"\x6d\x00"

    def _directory_entries(self) -> bytes:
        return b"".join(
            tlv.encode(
                {
                    "61": {
                        "4F": bytes.fromhex(app.aid),
                        "50": app.label.encode(),
                        "87": bytes([app.priority]),
                    }
                }
            )
            for app in self.applications
        )

    def _select(self, name: bytes) -> bytes:
        if name == PPSE and self.scenario.directory is Directory.PPSE:
            return self._ppse(self._directory_entries())
        if name == PSE and self.scenario.directory is Directory.PSE:
            fci = {"6F": {"84": PSE, "A5": {"88": bytes([DIRECTORY_SFI])}}}
            return tlv.encode(fci) + SW_OK
        for app in self.applications:
            if name == bytes.fromhex(app.aid):
                if self.scenario.blocked:
                    return b"\x62\x83"
                self.selected = app.aid
                return (
                    tlv.encode(
                        {
                            "6F": {
                                "84": name,
                                "A5": {
                                    "50": app.label.encode(),
                                    "87": bytes([app.priority]),
                                    "9F38": PDOL,
                                },
                            }
                        }
                    )
                    + SW_OK
                )
        return b"\x6a\x82"

    def _ppse(self, entries: bytes) -> bytes:
        directory = b"\xbf\x0c" + _length(len(entries)) + entries
        proprietary = b"\xa5" + _length(len(directory)) + directory
        body = tlv.encode({"84": PPSE}) + proprietary
        return b"\x6f" + _length(len(body)) + body + SW_OK

    def _gpo(self) -> bytes:
        if self.selected is None:
            return b"\x69\x85"
        afl = bytes.fromhex("0801010010010100")  # SFI 1 record 1, SFI 2 record 1
        return tlv.encode({"77": {"82": self.aip, "94": afl}}) + SW_OK

    def _read_record(self, number: int, sfi: int) -> bytes:
        if sfi == DIRECTORY_SFI and self.scenario.directory is Directory.PSE:
            if number != 1:
                return b"\x6a\x83"  # record not found: the end of the directory
            entries = self._directory_entries()
            return b"\x70" + _length(len(entries)) + entries + SW_OK
        if self.selected is None or number != 1:
            return b"\x6a\x83"
        if sfi == 1:
            track2 = bytes.fromhex(self.pan + "D3112201" + "0000000000" + "F" * (len(self.pan) % 2))
            record = {
                "57": track2,
                "5A": bytes.fromhex(self.pan),
                "5F24": bytes.fromhex("311231"),
                "5F34": bytes.fromhex(self.pan_sequence),
            }
        elif sfi == 2:
            cvm = CVM_ONLINE_PIN_ONLY if self.scenario.pin_required else CVM_NO_CVM_OR_SIGNATURE
            record = {"8C": CDOL1, "8D": CDOL2, "8E": cvm, "5F28": bytes.fromhex("0398")}
        else:
            return b"\x6a\x83"
        return tlv.encode({"70": record}) + SW_OK

    def _first_ac(self, p1: int, data: bytes) -> bytes:
        values = _dol_values(CDOL1, data)
        self.atc += 1
        values["82"] = self.aip
        values["9F36"] = self.atc.to_bytes(2, "big")
        cid = 0x00 if self.scenario.decline or p1 & 0xC0 == 0x00 else 0x80
        key = test_issuer.session_key(self.pan, self.pan_sequence, values["9F36"])
        values["9F26"] = test_issuer.cryptogram(key, values)
        self.last_first_ac = values
        return self._ac_response(cid, values)

    def _second_ac(self, p1: int, data: bytes) -> bytes:
        values = _dol_values(CDOL2, data)
        first = self.last_first_ac
        key = test_issuer.session_key(self.pan, self.pan_sequence, first["9F36"])
        response_code = values["8A"].decode("ascii", "replace")
        issuer_ok = values["91"][:8] == test_issuer.response_cryptogram(
            key, first["9F26"], response_code
        )
        approve = p1 & 0xC0 == 0x40 and issuer_ok and not self.scenario.refuse_second_ac
        answer = dict(first)
        answer["9F26"] = test_issuer.cryptogram(key, {**first, "9C": b"\x00"})
        self.last_first_ac = {}
        return self._ac_response(0x40 if approve else 0x00, answer)

    def _ac_response(self, cid: int, values: dict[str, bytes]) -> bytes:
        return (
            tlv.encode(
                {
                    "77": {
                        "9F27": bytes([cid]),
                        "9F36": values["9F36"],
                        "9F26": values["9F26"],
                        "9F10": bytes.fromhex("06010A03A00000"),
                    }
                }
            )
            + SW_OK
        )


def _length(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else bytes([0x81, n])


def _dol_values(dol: bytes, data: bytes) -> dict[str, bytes]:
    values: dict[str, bytes] = {}
    offset = 0
    for tag, length in tlv.parse_dol(dol):
        values[tag] = data[offset : offset + length]
        offset += length
    return values


def _receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        # vpcd writes the length and the APDU separately without TCP_NODELAY: acknowledge at
        # once, or Nagle holds the APDU for our delayed ACK (40 ms per command).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        data += chunk
    return data


def serve(card: VirtualEmvCard, host: str, port: int, connect_timeout: float) -> None:
    deadline = time.monotonic() + connect_timeout
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    sock.settimeout(None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print("card inserted", flush=True)
    with sock:
        while True:
            (size,) = struct.unpack(">H", _receive(sock, 2))
            payload = _receive(sock, size)
            if size == 1:
                if payload[0] in (0, 1, 2):
                    card.reset()
                    continue
                reply = ATR if payload[0] == 4 else b""
            else:
                try:
                    reply = card.answer(payload)
                except CardPulled:
                    print("card pulled", flush=True)
                    return
            if reply:
                sock.sendall(struct.pack(">H", len(reply)) + reply)


def main(
    port: int = typer.Option(35963, help="vpcd's port for this reader"),
    host: str = typer.Option("127.0.0.1", help="where vpcd listens"),
    decline: bool = typer.Option(False, help="answer the first GENERATE AC with an AAC"),
    blocked: bool = typer.Option(False, help="the payment application is blocked"),
    several_applications: bool = typer.Option(False, help="offer two applications"),
    pin_required: bool = typer.Option(False, help="the CVM list demands online PIN only"),
    refuse_second_ac: bool = typer.Option(False, help="AAC at the second GENERATE AC"),
    pull_at: Step | None = typer.Option(None, help="leave the reader at this step"),
    directory: Directory = typer.Option(Directory.PPSE, help="how the card lists its apps"),
    connect_timeout: float = typer.Option(10.0, help="seconds to wait for vpcd"),
) -> None:
    """Insert a virtual EMV test card into vpcd and answer the terminal until pulled."""
    scenario = Scenario(
        decline, blocked, several_applications, pin_required, refuse_second_ac, pull_at, directory
    )
    try:
        serve(VirtualEmvCard(scenario), host, port, connect_timeout)
    except ConnectionError:
        sys.exit(0)


if __name__ == "__main__":
    typer.run(main)
