"""The driver's copy on the car's ESC/POS printer (python-escpos over serial), printed the way
the payment receipt is (``terminal.receipt``): each line as text in a code page of the
printer's profile or as a raster image (``terminal.paper``), the headings bold and centred,
then the QR code of the driver's case link and the cut."""

from __future__ import annotations

from typing import Protocol

from escpos.printer import Serial  # type: ignore[import-untyped]

from i18n import Language, Text, translator
from terminal.paper import PaperLine, PaperProfile, load_profile, paper_lines
from terminal.receipt import ESC_INIT, PrinterUnavailable
from terminal.roadside.paper_copy import HEADING_LINES, ProtocolCopy, protocol_lines


class CopyPrinter(Protocol):
    def print_copy(self, copy: ProtocolCopy, language: Language) -> None: ...


class EscposProtocolPrinter:
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

    def paper_lines(self, copy: ProtocolCopy, language: Language) -> list[PaperLine]:
        lines = protocol_lines(copy, translator("terminal", language))
        try:
            return paper_lines(lines, self.paper, headings=HEADING_LINES)
        except OSError as exc:  # the font of the image lines
            raise PrinterUnavailable(
                Text(
                    "The protocol's copy could not be drawn (%(problem)s): the protocol is"
                    " kept; install the font and print the copy again.",
                    problem=str(exc),
                )
            ) from exc

    def print_copy(self, copy: ProtocolCopy, language: Language) -> None:
        lines = self.paper_lines(copy, language)
        printer = Serial(
            devfile=self._device,
            baudrate=self._baudrate,
            timeout=2,
            dsrdtr=False,
            profile=self.paper.name,
        )
        try:
            printer.open()
            printer._raw(ESC_INIT)
            printer.set(align="center", bold=True)
            for index, line in enumerate(lines):
                if index == HEADING_LINES:
                    printer.set(align="left", bold=False)
                printer._raw(line.command())
            printer.qr(copy.case_url, native=self.paper.native_qr, size=4)
            printer.cut()
        except Exception as exc:  # python-escpos raises serial and its own errors alike
            raise PrinterUnavailable(
                Text(
                    "The printer on %(device)s did not answer: the protocol is kept; check the"
                    " paper and print the copy again.",
                    device=self._device,
                )
            ) from exc
        finally:
            printer.close()
