"""The payer's receipt: the layout is pure (``receipt_lines``); ``EscposReceiptPrinter`` sends
it to an ESC/POS printer over serial with python-escpos."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from escpos.printer import Serial  # type: ignore[import-untyped]

from terminal.money import format_kzt

ASTANA = timezone(timedelta(hours=5), "UTC+5")  # one time zone for all Kazakhstan since 2024
ESC_INIT = b"\x1b@"  # python-escpos does not reset the printer on open


@dataclass(frozen=True)
class ReceiptData:
    agency: str
    terminal_id: str
    paid_at: datetime  # UTC
    masked_pan: str
    scheme: str
    aid: str
    amount_minor: int
    approval_code: str
    rrn: str
    stan: str
    case_number: str
    legal_basis: str
    full_minor: int
    discounted_minor: int
    case_url: str

    @property
    def discount_applied(self) -> bool:
        return self.amount_minor < self.full_minor


def receipt_lines(data: ReceiptData) -> list[str]:
    local = data.paid_at.astimezone(ASTANA)
    lines = [
        data.agency,
        "PAYMENT OF AN ADMINISTRATIVE FINE",
        f"Terminal: {data.terminal_id}",
        f"Time: {local:%d.%m.%Y %H:%M:%S} (UTC+5)",
        f"Case: {data.case_number}",
        f"Legal basis: {data.legal_basis}",
        f"Full fine: {format_kzt(data.full_minor)}",
    ]
    if data.discount_applied:
        lines.append(f"Discounted fine: {format_kzt(data.discounted_minor)}")
    lines += [
        f"PAID: {format_kzt(data.amount_minor)}",
        f"Card: {data.scheme.upper()} {data.masked_pan}",
        f"AID: {data.aid}",
        f"Approval code: {data.approval_code}",
        f"RRN: {data.rrn}",
        f"STAN: {data.stan}",
        "Scan to see the case:",
    ]
    return lines


class ReceiptPrinter(Protocol):
    def print_receipt(self, data: ReceiptData) -> None: ...


class PrinterUnavailable(Exception):
    """The receipt could not be printed; the payment itself stands."""


class EscposReceiptPrinter:
    def __init__(self, device: str, baudrate: int = 9600) -> None:
        self._device = device
        self._baudrate = baudrate

    def print_receipt(self, data: ReceiptData) -> None:
        printer = Serial(devfile=self._device, baudrate=self._baudrate, timeout=2, dsrdtr=False)
        try:
            printer.open()
            printer._raw(ESC_INIT)
            printer.set(align="center", bold=True)
            printer.textln(data.agency)
            printer.set(align="left", bold=False)
            for line in receipt_lines(data)[1:]:
                printer.textln(line)
            printer.qr(data.case_url, native=True, size=4)
            printer.cut()
        except Exception as exc:  # python-escpos raises serial and its own errors alike
            raise PrinterUnavailable(
                f"The receipt printer on {self._device} did not answer: the payment is"
                " recorded; check the printer and print the receipt again."
            ) from exc
        finally:
            printer.close()
