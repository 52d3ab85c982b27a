"""The bank's certified POS driven over its ECR serial link: how in-car terminals are usually
certified (the POS holds the EMV kernel, the PIN pad and the bank keys; we send the amount).

Wire format (pure functions below): STX, ASCII fields separated by FS, ETX, then an LRC (XOR
of every byte after STX up to and including ETX). Each frame is acknowledged with ACK, or NAK
to ask for it again. Requests:

- ``PUR`` reference, amount in tiyn, currency: a purchase. The reference is our payment id, so
  the POS charges one reference at most once however often it is sent.
- ``STS`` reference: what became of that purchase (after a lost answer).

Answer: ``RES`` reference, result (``00`` approved, ``NF`` unknown reference, other declined),
approval code, RRN, STAN, masked card number, scheme, AID, POS terminal id, text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

import serial

from contract import AcquirerRefs, CardData
from i18n import Message, Text
from terminal.journal import Journal, PaymentState
from terminal.messages import SpokenError
from terminal.payment_device import APPROVED as APPROVED_MESSAGE
from terminal.payment_device import Charge, ChargeRequest

log = logging.getLogger(__name__)

STX, ETX, FS, ACK, NAK = b"\x02", b"\x03", b"\x1c", b"\x06", b"\x15"
APPROVED = "00"
UNKNOWN_REFERENCE = "NF"
MAX_SENDS = 3


class EcrError(SpokenError):
    """The POS did not answer or sent a broken frame."""


def lrc(data: bytes) -> int:
    return reduce(lambda acc, byte: acc ^ byte, data, 0)


def encode_frame(fields: list[str]) -> bytes:
    body = FS.join(field.encode("ascii") for field in fields) + ETX
    return STX + body + bytes([lrc(body)])


def decode_frame(frame: bytes) -> list[str]:
    if len(frame) < 3 or frame[:1] != STX or frame[-2:-1] != ETX:
        raise EcrError(Text("the POS sent a frame without STX/ETX"))
    if lrc(frame[1:-1]) != frame[-1]:
        raise EcrError(Text("the POS sent a frame with a wrong checksum"))
    return [field.decode("ascii") for field in frame[1:-2].split(FS)]


@dataclass(frozen=True)
class PosAnswer:
    reference: str
    result: str
    approval_code: str
    rrn: str
    stan: str
    masked_pan: str
    scheme: str
    aid: str
    pos_terminal_id: str
    text: str

    @classmethod
    def of(cls, fields: list[str]) -> PosAnswer:
        if len(fields) != 11 or fields[0] != "RES":
            raise EcrError(
                Text(
                    "the POS sent an unexpected message %(kind)s", kind=fields[0] if fields else ""
                )
            )
        return cls(*fields[1:])


class EcrLink:
    """Frames over one serial port, with ACK/NAK and resending."""

    def __init__(self, port: serial.Serial) -> None:
        self._port = port

    def _read_frame(self, deadline: float) -> bytes:
        frame = bytearray()
        while time.monotonic() < deadline:
            byte = self._port.read(1)
            if not byte:
                continue
            if not frame and byte != STX:
                continue  # stray ACKs or line noise between frames
            frame += byte
            if len(frame) >= 2 and frame[-2:-1] == ETX:
                return bytes(frame)
        raise EcrError(Text("the bank's POS did not answer in time"))

    def send(self, fields: list[str]) -> None:
        frame = encode_frame(fields)
        for _ in range(MAX_SENDS):
            self._port.write(frame)
            reply = self._port.read(1)
            if reply == ACK:
                return
        raise EcrError(Text("the bank's POS did not acknowledge the request"))

    def receive(self, timeout_s: float) -> list[str]:
        deadline = time.monotonic() + timeout_s
        while True:
            frame = self._read_frame(deadline)
            try:
                fields = decode_frame(frame)
            except EcrError:
                self._port.write(NAK)
                continue
            self._port.write(ACK)
            return fields


class EcrPosDevice:
    """``PaymentDevice`` over the bank's POS. The POS runs the card and the bank dialogue,
    reversals included; after a lost answer we ask it what became of our reference."""

    def __init__(
        self,
        *,
        port_url: str,
        journal: Journal,
        clock: Callable[[], datetime],
        answer_timeout_s: float = 120.0,
        baudrate: int = 115200,
    ) -> None:
        self._port_url = port_url
        self._journal = journal
        self._clock = clock
        self._answer_timeout_s = answer_timeout_s
        self._baudrate = baudrate

    def _exchange(self, fields: list[str]) -> PosAnswer:
        with serial.serial_for_url(self._port_url, baudrate=self._baudrate, timeout=1.0) as port:
            link = EcrLink(port)
            link.send(fields)
            return PosAnswer.of(link.receive(self._answer_timeout_s))

    def charge(self, request: ChargeRequest) -> Charge:
        self._journal.update(request.payment_id, PaymentState.AUTHORISING, self._clock())
        try:
            answer = self._exchange(["PUR", request.payment_id, str(request.amount_minor), "398"])
        except (EcrError, serial.SerialException) as exc:
            log.warning("payment %s: %s", request.payment_id, exc)
            message = Text(
                "No answer from the bank's POS (%(problem)s). The terminal will ask the POS what"
                " became of this payment; do not take it again until then.",
                problem=_problem(exc),
            )
            self._journal.update(
                request.payment_id, PaymentState.AUTHORISING, self._clock(), message=message
            )
            return Charge(False, PaymentState.AUTHORISING, message)
        return self._outcome(request.payment_id, answer)

    def _outcome(self, payment_id: str, answer: PosAnswer) -> Charge:
        if answer.result != APPROVED:
            message = Text(
                "The bank's POS declined the payment (%(result)s: %(reason)s). Nothing was"
                " charged.",
                result=answer.result,
                reason=answer.text,
            )
            self._journal.update(
                payment_id, PaymentState.NOT_CHARGED, self._clock(), message=message
            )
            return Charge(False, PaymentState.NOT_CHARGED, message)
        card = CardData(masked_pan=answer.masked_pan, scheme=answer.scheme, aid=answer.aid or None)
        refs = AcquirerRefs(
            approval_code=answer.approval_code,
            rrn=answer.rrn,
            stan=answer.stan,
            terminal_id=answer.pos_terminal_id,
        )
        self._journal.update(
            payment_id,
            PaymentState.AUTHORISING,
            self._clock(),
            masked_pan=card.masked_pan,
            scheme=card.scheme,
            aid=card.aid,
            approval_code=refs.approval_code,
            rrn=refs.rrn,
            stan=refs.stan,
        )
        return Charge(True, PaymentState.APPROVED, APPROVED_MESSAGE, card, refs)

    def settle_pending(self) -> None:
        """Nothing to do: the POS reverses its own failed authorisations."""

    def resolve(self, payment_id: str) -> Charge:
        """Ask the POS (STS) what became of a purchase whose answer was lost."""
        try:
            answer = self._exchange(["STS", payment_id])
        except (EcrError, serial.SerialException) as exc:
            return Charge(
                False,
                PaymentState.AUTHORISING,
                Text("The bank's POS is silent: %(problem)s", problem=_problem(exc)),
            )
        if answer.result == UNKNOWN_REFERENCE:
            message = Text("The bank's POS never charged this payment. Nothing was charged.")
            self._journal.update(
                payment_id, PaymentState.NOT_CHARGED, self._clock(), message=message
            )
            return Charge(False, PaymentState.NOT_CHARGED, message)
        return self._outcome(payment_id, answer)


def _problem(exc: EcrError | serial.SerialException) -> Message | str:
    """What went wrong on the link, for the officer: our own sentence, or the serial port's
    (the operating system's words, in English)."""
    return exc.text if isinstance(exc, EcrError) else str(exc)
