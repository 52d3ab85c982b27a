"""Just enough JPEG parsing to refuse a corrupt or truncated evidence image at the door.

Checks the SOI marker, walks the segment headers up to a start-of-frame to read the size, and
requires the EOI marker at the end (a truncated upload lacks it). It does not decode pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

# Start-of-frame markers carry the image size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


class CorruptImage(ValueError):
    """The bytes are not a complete JPEG image."""


@dataclass(frozen=True)
class JpegInfo:
    width: int
    height: int


def inspect_jpeg(data: bytes | memoryview) -> JpegInfo:
    """``data`` may be a view of a mapped file: only the bytes looked at are read, so an upload
    is checked without being loaded whole."""
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        raise CorruptImage("not a JPEG image: the start-of-image marker is missing")
    if not _ends_with_eoi(data):
        raise CorruptImage("the JPEG image is truncated: the end-of-image marker is missing")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise CorruptImage(f"the JPEG image is corrupt: no segment marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            raise CorruptImage(f"the JPEG image is corrupt: bad segment length at byte {pos}")
        if marker in _SOF_MARKERS:
            if length < 7:
                raise CorruptImage("the JPEG image is corrupt: frame header too short")
            height = int.from_bytes(data[pos + 5 : pos + 7], "big")
            width = int.from_bytes(data[pos + 7 : pos + 9], "big")
            if width == 0 or height == 0:
                raise CorruptImage("the JPEG image declares a zero width or height")
            return JpegInfo(width=width, height=height)
        if marker == 0xDA:  # start of scan before any frame header
            break
        pos += 2 + length
    raise CorruptImage("the JPEG image is corrupt: no frame header before the image data")


def _ends_with_eoi(data: bytes | memoryview) -> bool:
    """The end-of-image marker is the last thing in the file, trailing zero padding allowed.
    Looks back in blocks, so a view of a file is read only at its end."""
    end = len(data)
    while end > 0:
        start = max(0, end - 4096)
        kept = bytes(data[start:end]).rstrip(b"\x00")
        if kept:
            end = start + len(kept)
            return end >= 2 and bytes(data[end - 2 : end]) == b"\xff\xd9"
        end = start
    return False
