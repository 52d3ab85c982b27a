"""The paper side of an ESC/POS printer, for the tests and the demo: what a receipt's bytes put
on paper, read as a printer reads them.

- Text bytes are decoded in the character table ``ESC t n`` selected, numbered as the
  printer's profile numbers them (``terminal.paper.load_profile``); after ``ESC @`` the
  profile's table 0.
- ``GS v 0`` raster images come back as images, their header checked against their data.
- The QR code's data (``GS ( k``, function 180) is kept.

A command this reader does not know is refused (``UnreadableReceipt``): a test must not pass
over bytes it did not understand. Only the commands ``terminal.receipt`` and python-escpos send
for a receipt are known.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from PIL import Image

from terminal.paper import CodePage, PaperProfile

ESC, GS, LF = 0x1B, 0x1D, 0x0A
# ESC commands with one parameter byte: E bold, a justification, d feed n lines, ! print
# mode, - underline, M font, t character table, 3 line spacing, J feed n dots.
_ESC_ONE = frozenset(b"Ead!-Mt3J")
_GS_ONE = frozenset(b"!B")  # character size, reverse
CUT_MODES_WITH_FEED = frozenset({65, 66})  # GS V 65/66 n: feed n, then cut


class UnreadableReceipt(ValueError):
    """The bytes hold a command this reader does not know, or a broken one."""


class Incomplete(Exception):
    """The bytes end in the middle of a command: more are on the way."""


@dataclass(frozen=True)
class Command:
    start: int
    end: int  # offset after the command
    name: str  # "text" (one byte), "LF", "ESC E", "GS v 0", "GS ( k", "GS V", ...
    params: bytes = b""  # the parameter bytes (for GS v 0 and GS ( k: everything after the name)


def commands(data: bytes) -> Iterator[Command]:
    """Every command in ``data``, in order. Raises ``Incomplete`` when ``data`` ends inside
    one, ``UnreadableReceipt`` on an unknown command."""
    index = 0
    size = len(data)

    def need(count: int) -> None:
        if index + count > size:
            raise Incomplete

    while index < size:
        byte = data[index]
        if byte == LF:
            yield Command(index, index + 1, "LF")
            index += 1
        elif byte == ESC:
            need(2)
            code = data[index + 1]
            if code == ord("@"):
                yield Command(index, index + 2, "ESC @")
                index += 2
            elif code in _ESC_ONE:
                need(3)
                yield Command(index, index + 3, f"ESC {chr(code)}", data[index + 2 : index + 3])
                index += 3
            elif code == ord("2"):
                yield Command(index, index + 2, "ESC 2")
                index += 2
            else:
                raise UnreadableReceipt(f"unknown command ESC 0x{code:02X} at byte {index}")
        elif byte == GS:
            need(2)
            code = data[index + 1]
            if code == ord("v"):
                need(8)
                if data[index + 2] != ord("0"):
                    raise UnreadableReceipt(f"GS v without 0 at byte {index}")
                width_bytes = int.from_bytes(data[index + 4 : index + 6], "little")
                height = int.from_bytes(data[index + 6 : index + 8], "little")
                end = index + 8 + width_bytes * height
                need(end - index)
                yield Command(index, end, "GS v 0", data[index + 3 : end])
                index = end
            elif code == ord("("):
                need(5)
                if data[index + 2] != ord("k"):
                    raise UnreadableReceipt(f"unknown command GS ( 0x{data[index + 2]:02X}")
                length = int.from_bytes(data[index + 3 : index + 5], "little")
                end = index + 5 + length
                need(end - index)
                yield Command(index, end, "GS ( k", data[index + 5 : end])
                index = end
            elif code == ord("V"):
                need(3)
                mode = data[index + 2]
                end = index + (4 if mode in CUT_MODES_WITH_FEED else 3)
                need(end - index)
                yield Command(index, end, "GS V", data[index + 2 : end])
                index = end
            elif code in _GS_ONE:
                need(3)
                yield Command(index, index + 3, f"GS {chr(code)}", data[index + 2 : index + 3])
                index += 3
            else:
                raise UnreadableReceipt(f"unknown command GS 0x{code:02X} at byte {index}")
        elif byte < 0x20:
            raise UnreadableReceipt(f"control byte 0x{byte:02X} at byte {index}")
        else:
            yield Command(index, index + 1, "text")
            index += 1


def receipt_end(data: bytes, *, cut: bool = True) -> int | None:
    """The offset just after the first whole receipt in ``data`` (its cut, or for a printer
    without a cutter the last paper feed, ``ESC d``), None while it is still arriving. Found by
    walking the commands: a raster image's bytes may hold anything, the cut's included."""
    try:
        for command in commands(data):
            if command.name == ("GS V" if cut else "ESC d"):
                return command.end
    except Incomplete:
        return None
    return None


@dataclass(frozen=True)
class PrintedText:
    text: str
    code_page: str | None  # the table its bytes were decoded in (None: an empty line)


@dataclass(frozen=True)
class PrintedRaster:
    width_bytes: int  # the header's xL xH
    height: int  # the header's yL yH
    density: int  # m
    data: bytes  # width_bytes * height bytes, a set bit a black dot

    def image(self) -> Image.Image:
        """As Pillow's mode "1" (0 black, 1 white), the way ``terminal.paper`` draws lines."""
        inverted = bytes(byte ^ 0xFF for byte in self.data)
        return Image.frombytes("1", (self.width_bytes * 8, self.height), inverted)


@dataclass
class Paper:
    """What came out of the printer, in order."""

    items: list[PrintedText | PrintedRaster] = field(default_factory=list)
    qr_codes: list[str] = field(default_factory=list)
    selections: list[int] = field(default_factory=list)  # every ESC t n, in order
    cut: bool = False

    @property
    def lines(self) -> list[str]:
        return [item.text for item in self.items if isinstance(item, PrintedText)]

    @property
    def rasters(self) -> list[PrintedRaster]:
        return [item for item in self.items if isinstance(item, PrintedRaster)]


def _table(profile: PaperProfile, number: int) -> CodePage | int:
    """The profile's table ``number``; the number alone for a table Python cannot decode
    (python-escpos selects one before an image QR code): text printed in it is refused."""
    return next((page for page in profile.code_pages if page.number == number), number)


def read_paper(data: bytes, profile: PaperProfile) -> Paper:
    """What ``data`` prints on the printer ``profile`` describes."""
    paper = Paper()
    initial = _table(profile, 0)
    table: CodePage | int = initial
    pending = bytearray()

    def line() -> PrintedText:
        if isinstance(table, CodePage):
            return PrintedText(bytes(pending).decode(table.codec), table.name)
        if pending:
            raise UnreadableReceipt(f"text in table {table}, which this reader cannot decode")
        return PrintedText("", None)

    try:
        for command in commands(data):
            if command.name == "text":
                pending.append(data[command.start])
            elif command.name == "LF":
                paper.items.append(line())
                pending.clear()
            elif command.name == "ESC t":
                if pending:
                    raise UnreadableReceipt("a character table switched inside a line")
                table = _table(profile, command.params[0])
                paper.selections.append(command.params[0])
            elif command.name == "ESC @":
                table = initial
            elif command.name == "GS v 0":
                params = command.params
                paper.items.append(
                    PrintedRaster(
                        width_bytes=int.from_bytes(params[1:3], "little"),
                        height=int.from_bytes(params[3:5], "little"),
                        density=params[0],
                        data=bytes(params[5:]),
                    )
                )
            elif command.name == "GS ( k" and command.params[:3] == b"1P0":
                paper.qr_codes.append(command.params[3:].decode("ascii"))
            elif command.name == "GS V":
                paper.cut = True
    except Incomplete:
        raise UnreadableReceipt("the bytes end in the middle of a command") from None
    if pending:
        paper.items.append(line())
    return paper
