"""Files a driver might attach to an appeal, made for tests: real photos and a real PDF, and
the disguised ones the registry must refuse (a program renamed to .jpg, a body that only
starts like a photo)."""

from __future__ import annotations

import io
import random
import shutil
from pathlib import Path

from PIL import Image
from pypdf import PdfWriter

from tests.support.evidence_images import evidence_jpeg


def photo_jpeg(seed: int = 0) -> bytes:
    return evidence_jpeg(f"APPEAL {seed}", seed=seed)


def photo_png(seed: int = 0, size: tuple[int, int] = (64, 48)) -> bytes:
    """A real PNG of random pixels: noise does not compress, so the size follows ``size``."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def document_pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def linux_program() -> bytes:
    """A real executable of this machine, as a driver's phone would upload it renamed."""
    found = shutil.which("true")
    assert found is not None
    return Path(found).read_bytes()


def windows_program() -> bytes:
    """The first bytes of a Windows program: the DOS header ("MZ") and its stub's sentence."""
    header = bytearray(b"MZ" + b"\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff")
    header += b"\x00" * (0x3C - len(header)) + (0x80).to_bytes(4, "little")
    header += b"\x00" * (0x80 - len(header)) + b"This program cannot be run in DOS mode.\r\n$"
    return bytes(header) + b"PE\x00\x00" + bytes(2048)


def fake_jpeg() -> bytes:
    """Starts like a JPEG, then is not one."""
    return b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20
