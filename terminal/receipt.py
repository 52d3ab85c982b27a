"""The payer's receipt: the layout is pure (``receipt_lines``, in the receipt's language);
``EscposReceiptPrinter`` sends it to an ESC/POS printer over serial with python-escpos, each
line as text in a code page of the printer's profile or, where none holds it, as a raster
image (``terminal.paper``).

The receipt's language is the payer's choice at the terminal (Kazakh or Russian), the
terminal's configured language otherwise. Amounts are written with the ISO code
(``terminal.money.paper_money``: ``10 812,50 KZT``), times in Astana time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from escpos.printer import Serial  # type: ignore[import-untyped]

from i18n import FALLBACK_LANGUAGE, Language, Message, Text, Translator, translator
from terminal.messages import SpokenError
from terminal.money import paper_money
from terminal.paper import PaperLine, PaperProfile, load_profile, paper_lines

ESC_INIT = b"\x1b@"  # python-escpos does not reset the printer on open
HEADING_LINES = 2  # the agency and the title: bold, centred

# The agency's name: one for every receipt, or one per language (the configuration's table).
Agency = str | Mapping[Language, str]


def agency_name(agency: Agency, language: Language) -> str:
    """The name in ``language``; else in Russian, else any given."""
    if isinstance(agency, str):
        return agency
    return agency.get(language) or agency.get(FALLBACK_LANGUAGE) or next(iter(agency.values()))


@dataclass(frozen=True)
class ReceiptData:
    agency: Agency
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
    legal_basis: Message  # the article and part, cited in the receipt's language
    full_minor: int
    discounted_minor: int
    case_url: str

    @property
    def discount_applied(self) -> bool:
        return self.amount_minor < self.full_minor


def receipt_lines(data: ReceiptData, t: Translator) -> list[str]:
    """The receipt's lines in ``t``'s language; the first ``HEADING_LINES`` are its heading."""

    def money(amount_minor: int) -> str:
        return paper_money(amount_minor, t.language)

    lines = [
        agency_name(data.agency, t.language),
        t.text(Text("PAYMENT OF AN ADMINISTRATIVE FINE")),
        t.text(Text("Terminal: %(terminal)s", terminal=data.terminal_id)),
        t.text(Text("Time: %(time)s (Astana time)", time=t.date_time(data.paid_at, seconds=True))),
        t.text(Text("Case: %(case)s", case=data.case_number)),
        t.text(Text("Legal basis: %(basis)s", basis=data.legal_basis)),
        t.text(Text("Full fine: %(amount)s", amount=money(data.full_minor))),
    ]
    if data.discount_applied:
        lines.append(
            t.text(Text("Discounted fine: %(amount)s", amount=money(data.discounted_minor)))
        )
    lines += [
        t.text(Text("PAID: %(amount)s", amount=money(data.amount_minor))),
        t.text(Text("Card: %(scheme)s %(pan)s", scheme=data.scheme.upper(), pan=data.masked_pan)),
        t.text(Text("AID: %(aid)s", aid=data.aid)),
        t.text(Text("Approval code: %(code)s", code=data.approval_code)),
        t.text(Text("RRN: %(rrn)s", rrn=data.rrn)),
        t.text(Text("STAN: %(stan)s", stan=data.stan)),
        t.text(Text("Scan to see the case:")),
    ]
    return lines


class ReceiptPrinter(Protocol):
    def print_receipt(self, data: ReceiptData, language: Language) -> None: ...


class PrinterUnavailable(SpokenError):
    """The receipt could not be printed; the payment itself stands."""


def open_serial_printer(device: str, baudrate: int, paper: PaperProfile) -> Serial:
    """The ESC/POS printer on a serial line, opened (python-escpos's ``Serial``)."""
    printer = Serial(devfile=device, baudrate=baudrate, timeout=2, dsrdtr=False, profile=paper.name)
    printer.open()
    return printer


def write_paper(
    printer: Serial, lines: list[PaperLine], headings: int, qr_url: str, paper: PaperProfile
) -> None:
    """One document as the terminal prints them all (receipt, roadside copy): the printer reset,
    the first ``headings`` lines bold and centred, the rest left, the QR code of the case's link,
    the cut."""
    printer._raw(ESC_INIT)
    printer.set(align="center", bold=True)
    for index, line in enumerate(lines):
        if index == headings:
            printer.set(align="left", bold=False)
        printer._raw(line.command())
    printer.qr(qr_url, native=paper.native_qr, size=4)
    printer.cut()


class EscposPrinter:
    """An ESC/POS printer on a serial line, printing the terminal's documents alike (the
    receipt here, the roadside protocol's copy in ``terminal.roadside.printer``). ``profile``:
    the printer's model in python-escpos's capabilities database (its code pages, paper width
    and features); ``width_px`` overrides the paper width it gives."""

    def __init__(
        self,
        device: str,
        baudrate: int = 9600,
        *,
        profile: str = "default",
        width_px: int | None = None,
    ) -> None:
        self._device = device
        self._baudrate = baudrate
        self.paper: PaperProfile = load_profile(profile, width_px)

    def _on_paper(
        self, lines: list[str], headings: int, cannot_draw: Callable[[str], Message]
    ) -> list[PaperLine]:
        """What goes on paper, line by line: text in a code page, or an image; a font that
        cannot draw the image lines is ``PrinterUnavailable`` with ``cannot_draw(problem)``."""
        try:
            return paper_lines(lines, self.paper, headings=headings)
        except OSError as exc:  # the font of the image lines
            raise PrinterUnavailable(cannot_draw(str(exc))) from exc

    def _print(
        self,
        lines: list[PaperLine],
        headings: int,
        qr_url: str,
        no_answer: Message,
        check: Callable[[Serial], None] | None = None,
    ) -> None:
        """Open the printer, ``check`` it (its paper, say), print, close; any fault of the line
        or the printer is ``PrinterUnavailable`` with ``no_answer`` (a check's own one kept)."""
        printer: Serial | None = None
        try:
            printer = open_serial_printer(self._device, self._baudrate, self.paper)
            if check is not None:
                check(printer)
            write_paper(printer, lines, headings, qr_url, self.paper)
        except PrinterUnavailable:
            raise
        except Exception as exc:  # python-escpos raises serial and its own errors alike
            raise PrinterUnavailable(no_answer) from exc
        finally:
            if printer is not None:
                printer.close()


class EscposReceiptPrinter(EscposPrinter):
    def paper_lines(self, data: ReceiptData, language: Language) -> list[PaperLine]:
        """What goes on paper, line by line: text in a code page, or an image."""
        return self._on_paper(
            receipt_lines(data, translator("terminal", language)),
            HEADING_LINES,
            lambda problem: Text(
                "The receipt could not be drawn (%(problem)s): the payment is recorded;"
                " install the font and print the receipt again.",
                problem=problem,
            ),
        )

    def print_receipt(self, data: ReceiptData, language: Language) -> None:
        self._print(
            self.paper_lines(data, language),
            HEADING_LINES,
            data.case_url,
            Text(
                "The receipt printer on %(device)s did not answer: the payment is"
                " recorded; check the printer and print the receipt again.",
                device=self._device,
            ),
        )
