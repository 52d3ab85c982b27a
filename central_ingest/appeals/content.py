"""What an appeal's file really is: its first bytes name the type (core/appeals.py's
``sniff_attachment``: a program renamed to .jpg is refused as a program), and the whole file
must then open as that type (Pillow decodes a photo, pypdf reads a PDF's pages), so a file that
only starts like a photo is refused too. The name the driver gave it plays no part."""

from __future__ import annotations

import io
import warnings

from PIL import Image
from pypdf import PdfReader

from central_ingest.core.appeals import AttachmentType, sniff_attachment, undecodable

_PIL_FORMATS = {AttachmentType.JPEG: "JPEG", AttachmentType.PNG: "PNG"}


def checked_type(name: str, data: bytes, *, max_pixels: int) -> AttachmentType:
    """The file's type once it has been opened as one; raises the refusal otherwise."""
    kind = sniff_attachment(name, data[:16])
    try:
        if kind is AttachmentType.PDF:
            _read_pdf(data)
        else:
            _decode_image(data, kind, max_pixels)
    except Exception:  # any failure to open it is the same refusal: the file is not what it says
        raise undecodable(name, kind) from None
    return kind


def _decode_image(data: bytes, kind: AttachmentType, max_pixels: int) -> None:
    with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[kind]]) as image:
        width, height = image.size
        if width * height > max_pixels:
            raise ValueError("too many pixels to decode")
        image.load()  # decodes every pixel: a truncated or forged body fails here


def _read_pdf(data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pypdf warns about repairs it makes; the pages decide
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ValueError("an encrypted PDF cannot be read by the officer deciding")
        if len(reader.pages) < 1:
            raise ValueError("a PDF without pages")
        reader.pages[0].extract_text()
