"""The receipt in Kazakh and Russian as the printer receives it: printed by the terminal's own
printer adapter to a pty (a serial cable with nothing to buy), the bytes read back.

- Russian: the CP866 table is selected (``ESC t 17`` on Epson's numbering) and the lines decode
  from CP866.
- Kazakh on a printer whose profile has KZ-1048 (the database's ``default``, Epson TM-T88V):
  ``ESC t 53`` and the lines decode from KZ-1048.
- Kazakh on a printer without it (Epson TM-T88IV): every line with a Kazakh letter is a
  ``GS v 0`` raster image. Its header is checked against its data, the image decoded and
  compared dot for dot with the line drawn in DejaVu Sans, and shown to differ from the same
  line with each Kazakh letter replaced by its Russian look-alike: a printer (or a code path)
  that dropped Ә or Қ would fail here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import ImageFont

from terminal.paper import (
    FONT_SIZE_PX,
    REGULAR_FONT,
    load_profile,
    paper_lines,
    raster_command,
    render_line,
)
from terminal.receipt import Agency, EscposReceiptPrinter, ReceiptData
from terminal.sim.escpos_reader import PrintedRaster, PrintedText, commands, read_paper
from terminal.sim.harness import PrinterPty
from tests.support.receipts import AGENCY, CASE_URL, sample_receipt
from tests.support.receipts import KAZAKH_LINES as KAZAKH
from tests.support.receipts import RUSSIAN_LINES as RUSSIAN

KAZAKH_UPPER = "ӘҒҚҢӨҰҮҺІ"
KAZAKH_LOWER = "әғқңөұүһі"
# The Russian letters a careless font or code page would print instead.
LOOKALIKES = str.maketrans(KAZAKH_UPPER + KAZAKH_LOWER, "АГКНОУУХИ" + "агкноуухи")
# Letters no character table of the profile holds: the TM-T88IV's only Cyrillic table is
# CP866; the POS-5890 also has CP855 and CP1251, which hold І and і.
MISSING_ON = {"TM-T88IV": KAZAKH_UPPER + KAZAKH_LOWER, "POS-5890": "ӘҒҚҢӨҰҮҺәғқңөұүһ"}


def as_images_on(profile: str) -> list[str]:
    return [line for line in KAZAKH if any(ch in MISSING_ON[profile] for ch in line)]


HEADINGS = 2  # drawn bold and centred


def receipt(agency: Agency = AGENCY) -> ReceiptData:
    return sample_receipt(agency=agency)


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[PrinterPty]:
    pty = PrinterPty(tmp_path).start()
    yield pty
    pty.stop()


def printed(
    printer: PrinterPty, profile: str, language: str, data: ReceiptData | None = None
) -> bytes:
    adapter = EscposReceiptPrinter(str(printer.device), profile=profile)
    adapter.print_receipt(data or receipt(), language)  # type: ignore[arg-type]
    return printer.take_receipt(cut=adapter.paper.name != "POS-5890")


def text_of(paper_items: list[PrintedText | PrintedRaster]) -> list[str]:
    """The receipt's own lines: up to the QR code (python-escpos feeds blank lines after)."""
    return [item.text for item in paper_items if isinstance(item, PrintedText) and item.text]


def test_russian_is_printed_as_text_in_cp866(printer: PrinterPty) -> None:
    data = printed(printer, "default", "ru")

    selections = [c for c in commands(data) if c.name == "ESC t"]
    assert [c.params for c in selections] == [bytes([17])]  # CP866, once, before any Cyrillic
    assert data.index(b"\x1bt\x11") < data.index("Департамент".encode("cp866"))
    for line in RUSSIAN:
        assert line.encode("cp866") + b"\n" in data, line
    assert not any(c.name == "GS v 0" for c in commands(data))

    paper = read_paper(data, load_profile("default"))
    assert text_of(paper.items) == RUSSIAN
    lines = [i for i in paper.items if isinstance(i, PrintedText) and i.text]
    assert all(i.code_page == "CP866" for i in lines if not i.text.isascii())
    assert paper.qr_codes == [CASE_URL] and paper.cut


def test_kazakh_is_printed_as_text_where_the_profile_has_kz_1048(printer: PrinterPty) -> None:
    data = printed(printer, "default", "kk")

    assert [c.params for c in commands(data) if c.name == "ESC t"] == [bytes([53])]
    assert "ӘҚБтК 592-бабының".encode("kz1048") in data
    assert not any(c.name == "GS v 0" for c in commands(data))
    paper = read_paper(data, load_profile("default"))
    assert text_of(paper.items) == KAZAKH
    assert paper.rasters == [] and paper.qr_codes == [CASE_URL]
    kazakh_lines = [i for i in paper.items if isinstance(i, PrintedText) and i.text]
    assert all(i.code_page == "RK1048" for i in kazakh_lines if not i.text.isascii())


def _row_height() -> int:
    ascent, descent = ImageFont.truetype(str(REGULAR_FONT), FONT_SIZE_PX).getmetrics()
    return int(ascent + descent)


def _check_raster_headers(data: bytes, width_px: int) -> int:
    """Each GS v 0 command: 1D 76 30 m xL xH yL yH, then exactly xL+256*xH times yL+256*yH
    bytes; the walk over the commands resumes right after them and reaches the cut, so no
    byte is left over or missing. The number of them."""
    rasters = [c for c in commands(data) if c.name == "GS v 0"]
    for command in rasters:
        header = data[command.start : command.start + 8]
        assert header[:4] == b"\x1dv0\x00"  # normal density
        x_bytes = header[4] + 256 * header[5]
        y_dots = header[6] + 256 * header[7]
        assert x_bytes * 8 == width_px
        assert command.end - command.start - 8 == x_bytes * y_dots
        assert y_dots % _row_height() == 0  # whole rows of text
    return len(rasters)


def test_kazakh_letters_reach_the_paper_as_images_where_no_table_holds_them(
    printer: PrinterPty,
) -> None:
    profile = load_profile("TM-T88IV")  # Epson, 80 mm at 180 dpi: 512 dots
    assert [page.name for page in profile.code_pages if page.holds("Ж")] == ["CP866"]
    data = printed(printer, "TM-T88IV", "kk")

    as_images = as_images_on("TM-T88IV")
    as_text = [line for line in KAZAKH if line not in as_images]
    assert len(as_images) == 9 and _check_raster_headers(data, 512) == len(as_images)

    paper = read_paper(data, profile)
    assert text_of(paper.items) == as_text  # Терминал, Карта, AID ...: CP866 or ASCII
    assert len(paper.rasters) == len(as_images)
    for index, (raster, line) in enumerate(zip(paper.rasters, as_images, strict=True)):
        heading = KAZAKH.index(line) < HEADINGS
        expected = render_line(line, 512, bold=heading, center=heading)
        got = raster.image()
        assert got.size == expected.size and got.tobytes() == expected.tobytes(), line
        assert raster_command(expected) in data  # and so are the bytes on the wire
        lookalike = render_line(line.translate(LOOKALIKES), 512, bold=heading, center=heading)
        assert got.tobytes() != lookalike.tobytes(), f"line {index} reads the same in Russian"
    # the order on paper: each line where the layout put it
    on_paper = [
        "(image)" if isinstance(item, PrintedRaster) else item.text
        for item in paper.items
        if isinstance(item, PrintedRaster) or item.text
    ]
    assert on_paper == ["(image)" if line in as_images else line for line in KAZAKH]


def test_every_kazakh_letter_changes_the_printed_dots(printer: PrinterPty) -> None:
    """An agency name holding the whole Kazakh alphabet's own letters, printed on the TM-T88IV:
    replacing any single one of them by its Russian look-alike changes the image on paper."""
    alphabet = f"Әліппе: {KAZAKH_UPPER} {KAZAKH_LOWER}"
    data = printed(printer, "TM-T88IV", "kk", receipt({"kk": alphabet, "ru": "Алфавит"}))
    heading = read_paper(data, load_profile("TM-T88IV")).rasters[0].image()
    assert heading.tobytes() == render_line(alphabet, 512, bold=True, center=True).tobytes()
    for letter in KAZAKH_UPPER + KAZAKH_LOWER:
        swapped = alphabet.replace(letter, letter.translate(LOOKALIKES))
        assert swapped != alphabet
        other = render_line(swapped, 512, bold=True, center=True)
        assert heading.tobytes() != other.tobytes(), letter


def test_a_58_mm_printer_without_cutter_gets_images_384_dots_wide(printer: PrinterPty) -> None:
    """The Zjiang POS-5890 (58 mm, 384 dots, no cutter, QR codes drawn by python-escpos): the
    receipt ends with a paper feed, the Kazakh lines and the QR code are images."""
    data = printed(printer, "POS-5890", "kk")
    paper = read_paper(data, load_profile("POS-5890"))
    assert not paper.cut and paper.qr_codes == []  # no native QR: it is an image too
    lines = as_images_on("POS-5890")
    assert "Іс: KZ-GP-2026-0000001" in paper.lines  # in CP855, which holds І
    *line_images, qr_image = paper.rasters
    assert len(line_images) == len(lines)
    assert all(r.width_bytes == 384 // 8 for r in line_images)
    assert qr_image.height > 0 and qr_image.width_bytes <= 384 // 8
    first = render_line(lines[0], 384, bold=True, center=True)
    assert line_images[0].image().tobytes() == first.tobytes()


def test_spaces_no_character_table_holds_print_as_plain_spaces() -> None:
    """CLDR's English time has a narrow no-break space before "PM": on paper it is a plain
    space, and the line stays text instead of becoming an image."""
    lines = ["Time: 11/23/26, 12:30:00\u202fAM (Astana time)", "Сумма:\u202f10 812,50"]
    placed = paper_lines(lines, load_profile("default"))
    assert [type(line).__name__ for line in placed] == ["TextLine", "TextLine"]
    assert placed[0].text == "Time: 11/23/26, 12:30:00 AM (Astana time)"
