"""The files attached to appeals, stored as evidence is (store/evidence.py): named by their
SHA-256 under the evidence folder's ``appeals/``, written to a temporary file on the same file
system, fsynced and renamed into place (then the folder fsynced) before the appeal's row that
names them is committed, so a row never points at a file a power cut could have lost. Storing
the same file twice finds it there. The files' records are the ``appeal_attachments`` rows
(store/appeals.py)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from central_ingest.core.appeals import AttachmentType

APPEALS_DIR = "appeals"
_SUFFIX = {AttachmentType.JPEG: ".jpg", AttachmentType.PNG: ".png", AttachmentType.PDF: ".pdf"}


class AppealFiles:
    def __init__(self, evidence_root: Path) -> None:
        self._root = evidence_root / APPEALS_DIR

    def path_for(self, sha256: str, content_type: AttachmentType) -> Path:
        if len(sha256) != 64 or any(char not in "0123456789abcdef" for char in sha256):
            raise ValueError(f"{sha256!r} is not a lower-case sha256 hex digest")
        return self._root / sha256[:2] / sha256[2:4] / f"{sha256}{_SUFFIX[content_type]}"

    def put(self, data: bytes, content_type: AttachmentType) -> str:
        """Store ``data`` (already checked) durably; returns its SHA-256."""
        sha256 = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha256, content_type)
        if path.exists():
            return sha256
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{sha256[:16]}-")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return sha256
