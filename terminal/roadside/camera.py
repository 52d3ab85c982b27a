"""Photos from the car's camera (OpenCV): a frame, encoded as JPEG, kept under its SHA-256.

The source is what OpenCV opens: a device index (``0``), an RTSP URL, or a video file (the
tests). Each photo is written to ``photo_dir/<sha256>.jpg`` through a temporary file, fsynced
and renamed, so a power cut leaves either the whole photo or none; the protocol names the
photos by their hashes (``RoadsideProtocol.photo_sha256``) and the sync uploads them before
the protocol, as the camera box uploads its evidence.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2

from i18n import Text
from terminal.messages import SpokenError

JPEG_QUALITY = 90


class CameraUnavailable(SpokenError):
    pass


@dataclass(frozen=True)
class Photo:
    sha256: str
    path: Path
    size: int


def photo_path(photo_dir: Path, sha256: str) -> Path:
    return photo_dir / f"{sha256}.jpg"


class CarCamera:
    def __init__(self, source: str | int, photo_dir: Path) -> None:
        self._source = source
        self._photo_dir = photo_dir
        self._capture: cv2.VideoCapture | None = None
        self._lock = threading.Lock()

    def _open(self) -> cv2.VideoCapture:
        if self._capture is None or not self._capture.isOpened():
            self._capture = cv2.VideoCapture(self._source)
        return self._capture

    def take(self) -> Photo:
        with self._lock:
            capture = self._open()
            ok, frame = capture.read()
            if not ok:  # a file at its end starts again; a camera gets one more try
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = capture.read()
            if not ok:
                self.close()
                raise CameraUnavailable(
                    Text(
                        "The car's camera (%(source)s) gives no picture: check its cable, or"
                        " write the protocol without photos.",
                        source=str(self._source),
                    )
                )
            encoded, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not encoded:
            raise CameraUnavailable(Text("The camera's picture could not be encoded as JPEG."))
        data = jpeg.tobytes()
        digest = hashlib.sha256(data).hexdigest()
        path = photo_path(self._photo_dir, digest)
        if not path.exists():
            _write_durably(path, data)
        return Photo(digest, path, len(data))

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def _write_durably(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".photo-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(name, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
