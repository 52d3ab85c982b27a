"""How one receipt line reaches the paper of an ESC/POS printer: as text in one of the printer's
code pages, or as a raster image when none of them holds every character of the line.

The printer is described by a profile of python-escpos's capabilities database
(escpos-printer-db, ``escpos.capabilities``): which character table each ``ESC t n`` selects
and the paper's width in dots. Russian fits CP866 (on nearly every profile); the Kazakh letters
Ә Ғ Қ Ң Ө Ұ Ү Һ І are only in KZ-1048 (``RK1048`` in the database, STRK 1048-2002), which Epson's
profiles (and the database's ``default``) number 53. A Kazakh line on a printer without it is
drawn with Pillow in DejaVu Sans (Debian's ``fonts-dejavu-core``) and sent with ``GS v 0``.

Rules, per line:
- printable ASCII only: text, with no page selected (every character table keeps ASCII);
- otherwise the code page in use when it holds the line, else the profile's lowest-numbered one
  that does (``ESC t n``): fewer switches, and the database's order is the maker's;
- otherwise a raster image of the paper's full width, the line word-wrapped in it.

Only single-byte, ASCII-compatible code pages that Python can encode are used: the database
also lists Shift-JIS (CP932) and tables known by name only, which could not be checked here.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from escpos.capabilities import CAPABILITIES  # type: ignore[import-untyped]
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian package fonts-dejavu-core
REGULAR_FONT = FONT_DIR / "DejaVuSans.ttf"
BOLD_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"
# About the height of a printer's font A (12 x 24 dots), so image lines match text lines.
FONT_SIZE_PX = 24
# When neither the configuration nor the profile gives the width: 58 mm paper. A receipt laid
# out for 384 dots prints on 80 mm paper too; one laid out for 576 is cut off on 58 mm.
FALLBACK_WIDTH_PX = 384

ESC, GS = b"\x1b", b"\x1d"


def profile_names() -> list[str]:
    return sorted(CAPABILITIES["profiles"])


@dataclass(frozen=True)
class CodePage:
    number: int  # n of ESC t n on this profile
    name: str  # the database's name: CP866, RK1048 ...
    codec: str  # Python's codec for it

    def holds(self, text: str) -> bool:
        try:
            text.encode(self.codec)
        except UnicodeEncodeError:
            return False
        return True

    def select(self) -> bytes:
        return ESC + b"t" + bytes([self.number])


@dataclass(frozen=True)
class PaperProfile:
    name: str
    code_pages: tuple[CodePage, ...]  # ascending n
    width_px: int  # dots across the paper, a multiple of 8
    native_qr: bool  # the printer draws QR codes itself (GS ( k)


@cache
def _codec(encoding: str) -> str | None:
    """Python's codec for a code page of the database, if it is a single-byte table that keeps
    ASCII; None otherwise."""
    data = CAPABILITIES["encodings"].get(encoding, {})
    for candidate in (data.get("python_encode"), data.get("iconv"), encoding):
        if not candidate:
            continue
        try:
            name = codecs.lookup(candidate).name
        except LookupError:
            continue
        ascii_ = bytes(range(0x20, 0x7F))
        try:
            keeps_ascii = ascii_.decode(name) == ascii_.decode("ascii")
            upper = bytes(range(0x80, 0x100)).decode(name, errors="replace")
        except (UnicodeDecodeError, LookupError):
            return None
        return name if keeps_ascii and len(upper) == 0x80 else None
    return None


def _width(media: object) -> int | None:
    """The profile's paper width in dots; the database writes "Unknown" where it does not
    know."""
    width = media.get("width") if isinstance(media, dict) else None
    pixels = width.get("pixels") if isinstance(width, dict) else None
    return pixels if isinstance(pixels, int) and pixels > 0 else None


def load_profile(name: str, width_px: int | None = None) -> PaperProfile:
    """The profile ``name`` of the database; ``width_px`` overrides its paper width. Raises
    KeyError naming the profiles there are."""
    try:
        data = CAPABILITIES["profiles"][name]
    except KeyError:
        raise KeyError(
            f"no printer profile {name!r} in python-escpos's capabilities database: use one of"
            f" {', '.join(profile_names())}"
        ) from None
    pages = []
    for number, encoding in sorted(
        (int(n), encoding) for n, encoding in data.get("codePages", {}).items()
    ):
        codec = _codec(encoding)
        if codec is not None:
            pages.append(CodePage(number, encoding, codec))
    width = width_px or _width(data.get("media", {})) or FALLBACK_WIDTH_PX
    return PaperProfile(
        name=name,
        code_pages=tuple(pages),
        width_px=width - width % 8,  # GS v 0 counts whole bytes across
        native_qr=bool(data.get("features", {}).get("qrCode")),
    )


# --- one line --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextLine:
    text: str
    code_page: CodePage | None  # None: plain ASCII, printed in whatever table is selected
    select: bool  # ESC t n first: the line needs another table than the one selected

    def command(self) -> bytes:
        if self.code_page is None:
            return self.text.encode("ascii") + b"\n"
        select = self.code_page.select() if self.select else b""
        return select + self.text.encode(self.code_page.codec) + b"\n"


@dataclass(frozen=True)
class RasterLine:
    text: str
    image: Image.Image  # mode "1", the paper's width

    def command(self) -> bytes:
        return raster_command(self.image)


PaperLine = TextLine | RasterLine


# Spaces CLDR writes that no printer's character table holds (English times put a narrow
# no-break space before "PM"): on paper a plain space reads the same, and keeps the line text.
_PAPER_SPACES = str.maketrans({"\u202f": " ", "\u2009": " ", "\u2007": " "})


def is_ascii(text: str) -> bool:
    return all(" " <= character <= "~" for character in text)


def code_page_for(text: str, profile: PaperProfile, selected: CodePage | None) -> CodePage | None:
    """The code page to print ``text`` in (``selected`` when it holds it), None when none of
    the profile's does."""
    if selected is not None and selected.holds(text):
        return selected
    return next((page for page in profile.code_pages if page.holds(text)), None)


def paper_lines(
    lines: Sequence[str], profile: PaperProfile, *, headings: int = 0
) -> list[PaperLine]:
    """Each line as text in a code page when one holds it, else as a raster image; the first
    ``headings`` lines are bold and centred (the printer's ESC E and ESC a for text, the
    drawing for images)."""
    placed: list[PaperLine] = []
    selected: CodePage | None = None  # after ESC @, the printer's own default table
    for index, line in enumerate(lines):
        heading = index < headings
        text = line.translate(_PAPER_SPACES)
        if is_ascii(text):
            placed.append(TextLine(text, None, select=False))
            continue
        page = code_page_for(text, profile, selected)
        if page is None:
            image = render_line(text, profile.width_px, bold=heading, center=heading)
            placed.append(RasterLine(text, image))
            continue
        placed.append(TextLine(text, page, select=page != selected))
        selected = page
    return placed


# --- raster ----------------------------------------------------------------------------------


@cache
def _font(bold: bool) -> ImageFont.FreeTypeFont:
    path = BOLD_FONT if bold else REGULAR_FONT
    if not path.is_file():
        raise FileNotFoundError(
            f"the receipt font {path} is missing: install Debian's fonts-dejavu-core"
        )
    return ImageFont.truetype(str(path), FONT_SIZE_PX)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Words to rows no wider than ``width``; a word wider than a row is cut where it must."""
    rows: list[str] = []
    row = ""
    for word in text.split(" "):
        candidate = f"{row} {word}" if row else word
        if font.getlength(candidate) <= width:
            row = candidate
            continue
        if row:
            rows.append(row)
        row = ""
        for character in word:
            if font.getlength(row + character) > width and row:
                rows.append(row)
                row = ""
            row += character
    rows.append(row)
    return rows


def render_line(
    text: str, width_px: int, *, bold: bool = False, center: bool = False
) -> Image.Image:
    """``text`` drawn black on white across ``width_px`` dots, in as many rows as it needs.
    Mode "1" (one bit per dot, no anti-aliasing: a thermal dot is on or off); the same text
    always gives the same image."""
    font = _font(bold)
    ascent, descent = font.getmetrics()
    row_height = ascent + descent
    rows = _wrap(text, font, width_px)
    image = Image.new("1", (width_px, row_height * len(rows)), 1)
    draw = ImageDraw.Draw(image)
    for index, row in enumerate(rows):
        left = (width_px - font.getlength(row)) / 2 if center else 0
        draw.text((left, index * row_height), row, font=font, fill=0)
    return image


def raster_command(image: Image.Image) -> bytes:
    """``GS v 0 m xL xH yL yH d1...dk``: normal density, x in bytes across, y in dots down, a
    set bit a black dot (Pillow's mode "1" sets bits for white, hence the inversion)."""
    if image.mode != "1" or image.width % 8:
        raise ValueError("a raster line is a mode-1 image whose width is a multiple of 8")
    data = bytes(byte ^ 0xFF for byte in image.tobytes())
    width_bytes = image.width // 8
    header = GS + b"v0\x00" + width_bytes.to_bytes(2, "little") + image.height.to_bytes(2, "little")
    return header + data
