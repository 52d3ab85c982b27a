"""The driver's copy on the car's ESC/POS printer (python-escpos over serial), printed the way
the payment receipt is (``terminal.receipt``): each line as text in a code page of the
printer's profile or as a raster image (``terminal.paper``), the headings bold and centred,
then the QR code of the driver's case link and the cut.

A printer with a paper sensor (``paper_sensor``, the [roadside] setting ``printer_paper_sensor``)
is asked for its paper before each copy (DLE EOT 4, Epson's real-time paper status): one that
is out of paper would otherwise take the bytes into its buffer and print nothing, and the
protocol would count as printed. Out of paper, or no answer, is ``PrinterUnavailable``: the
protocol is kept and the copy printed again later.
"""

from __future__ import annotations

from typing import Protocol

from escpos.printer import Serial  # type: ignore[import-untyped]

from i18n import Language, Text, translator
from terminal.paper import PaperLine
from terminal.receipt import EscposPrinter, PrinterUnavailable
from terminal.roadside.paper_copy import HEADING_LINES, ProtocolCopy, protocol_lines

PAPER_STATUS = b"\x10\x04\x04"  # DLE EOT 4: transmit the paper roll sensor's status
PAPER_END = 0x60  # bits 5 and 6: the paper end sensor sees no paper


class CopyPrinter(Protocol):
    def print_copy(self, copy: ProtocolCopy, language: Language) -> None: ...


class EscposProtocolPrinter(EscposPrinter):
    def __init__(
        self,
        device: str,
        baudrate: int = 9600,
        *,
        profile: str = "default",
        width_px: int | None = None,
        paper_sensor: bool = False,
    ) -> None:
        super().__init__(device, baudrate, profile=profile, width_px=width_px)
        self._paper_sensor = paper_sensor

    def paper_lines(self, copy: ProtocolCopy, language: Language) -> list[PaperLine]:
        return self._on_paper(
            protocol_lines(copy, translator("terminal", language)),
            HEADING_LINES,
            lambda problem: Text(
                "The protocol's copy could not be drawn (%(problem)s): the protocol is"
                " kept; install the font and print the copy again.",
                problem=problem,
            ),
        )

    def print_copy(self, copy: ProtocolCopy, language: Language) -> None:
        self._print(
            self.paper_lines(copy, language),
            HEADING_LINES,
            copy.case_url,
            Text(
                "The printer on %(device)s did not answer: the protocol is kept; check the"
                " paper and print the copy again.",
                device=self._device,
            ),
            check=self._check_paper if self._paper_sensor else None,
        )

    def _check_paper(self, printer: Serial) -> None:
        printer.device.reset_input_buffer()
        printer._raw(PAPER_STATUS)
        answer = printer.device.read(1)  # one byte: no waiting for more than the printer sends
        if not answer:
            raise PrinterUnavailable(
                Text(
                    "The printer on %(device)s did not answer: the protocol is kept; check the"
                    " paper and print the copy again.",
                    device=self._device,
                )
            )
        if answer[0] & PAPER_END == PAPER_END:
            raise PrinterUnavailable(
                Text(
                    "The printer on %(device)s is out of paper: the protocol is kept; put in a"
                    " new roll and print the copy again.",
                    device=self._device,
                )
            )
