"""Content-addressed evidence images on disk, indexed in the ``evidence`` table.

An upload is idempotent: its name is its sha256, so a retry after a dropped link finds the
file already there. An upload is received as a stream (``EvidenceStore.begin``): its bytes go
to a temporary file in the evidence folder, hashed as they arrive, within the size the sender
declared, so no upload is ever held in memory whole. Files are fsynced and renamed into place
before the row is committed, so a row never points at a file that a power cut could have lost.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from central_ingest.core.clock import iso
from central_ingest.core.jpeg import CorruptImage, JpegInfo, inspect_jpeg
from central_ingest.store.db import Database, Store

# Uploads in progress live here, on the same file system as the images, so that the rename
# into place is atomic. A crash can leave one behind: it is removed at the next start.
INCOMING_DIR = ".incoming"
# Older than this, a file in the incoming folder belongs to no upload still running (another
# process sharing the folder may have one in progress, so fresh files are left alone).
_STALE_UPLOAD_S = 3600


class EvidenceProblem(StrEnum):
    HASH_MISMATCH = "evidence_hash_mismatch"
    CORRUPT = "evidence_corrupt"
    TOO_LARGE = "evidence_too_large"
    BAD_HASH = "evidence_bad_hash"
    LENGTH_MISMATCH = "evidence_length_mismatch"


class EvidenceRejected(Exception):
    def __init__(self, problem: EvidenceProblem, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True)
class StoredEvidence:
    sha256: str
    size_bytes: int
    width: int
    height: int
    created: bool


def evidence_sizes(db: Database, hashes: set[str]) -> dict[str, int]:
    """The size in bytes of each image among ``hashes`` already uploaded."""
    if not hashes:
        return {}
    marks = ",".join("?" * len(hashes))
    rows = db.conn.execute(
        f"SELECT sha256, size_bytes FROM evidence WHERE sha256 IN ({marks})", tuple(hashes)
    ).fetchall()
    return {sha: size for sha, size in rows}


def _is_sha256_hex(text: str) -> bool:
    return len(text) == 64 and all(char in "0123456789abcdef" for char in text)


class EvidenceStore:
    def __init__(self, store: Store, root: Path, max_bytes: int) -> None:
        self._store = store
        self._root = root
        self._max_bytes = max_bytes
        self._remove_stale_uploads()

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    def path_for(self, sha256: str) -> Path:
        if not _is_sha256_hex(sha256):
            raise ValueError(f"{sha256!r} is not a lower-case sha256 hex digest")
        return self._root / sha256[:2] / sha256[2:4] / f"{sha256}.jpg"

    def check_declared(self, sha256: str, declared_size: int) -> None:
        """Refuse, before a byte is read, an upload whose address or declared size is wrong."""
        if not _is_sha256_hex(sha256):
            raise EvidenceRejected(
                EvidenceProblem.BAD_HASH, "the address must be a lower-case sha256 hex digest"
            )
        if declared_size > self._max_bytes:
            raise EvidenceRejected(
                EvidenceProblem.TOO_LARGE,
                f"the image is {declared_size} bytes; the limit is {self._max_bytes}",
            )

    def begin(self, sha256: str, declared_size: int) -> EvidenceUpload:
        """Start receiving ``declared_size`` bytes that must hash to ``sha256``."""
        self.check_declared(sha256, declared_size)
        incoming = self._root / INCOMING_DIR
        incoming.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=incoming, prefix=f"{sha256[:16]}-")
        return EvidenceUpload(self, sha256, declared_size, fd, Path(temp_name))

    def put(self, sha256: str, data: bytes, *, uploaded_by: str, now: datetime) -> StoredEvidence:
        """Store an image already in memory (tools and tests): the same steps as a stream."""
        upload = self.begin(sha256, len(data))
        try:
            upload.write(data)
            return upload.finish(uploaded_by=uploaded_by, now=now)
        finally:
            upload.discard()

    def _place(
        self, sha256: str, temp: Path, size: int, info: JpegInfo, uploaded_by: str, now: datetime
    ) -> StoredEvidence:
        """Rename a complete, checked, fsynced upload into place and index it."""
        path = self.path_for(sha256)
        existing = self._store.db.conn.execute(
            "SELECT size_bytes FROM evidence WHERE sha256 = ?", (sha256,)
        ).fetchone()
        if existing is not None and path.exists():
            temp.unlink(missing_ok=True)
            return StoredEvidence(sha256, size, info.width, info.height, created=False)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        with self._store.transaction() as db:
            db.conn.execute(
                "INSERT INTO evidence (sha256, size_bytes, content_type, width, height,"
                " uploaded_by, stored_at) VALUES (?, ?, 'image/jpeg', ?, ?, ?, ?)"
                " ON CONFLICT(sha256) DO NOTHING",
                (sha256, size, info.width, info.height, uploaded_by, iso(now)),
            )
        return StoredEvidence(sha256, size, info.width, info.height, created=True)

    def _remove_stale_uploads(self) -> None:
        incoming = self._root / INCOMING_DIR
        if not incoming.is_dir():
            return
        cutoff = time.time() - _STALE_UPLOAD_S
        for leftover in incoming.iterdir():
            try:
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
            except FileNotFoundError:
                continue  # another process finished or removed it meanwhile


class EvidenceUpload:
    """One upload being received: ``write`` each piece as it arrives, then ``finish``. Any
    refusal removes the temporary file; ``discard`` does too and may always be called."""

    def __init__(
        self, store: EvidenceStore, sha256: str, declared_size: int, fd: int, temp: Path
    ) -> None:
        self._store = store
        self.sha256 = sha256
        self.declared_size = declared_size
        self._fd: int | None = fd
        self._temp = temp
        self._hash = hashlib.sha256()
        self.received = 0
        self._placed = False

    def write(self, chunk: bytes) -> None:
        if self._fd is None:
            raise RuntimeError("the upload is already finished or discarded")
        if self.received + len(chunk) > self.declared_size:
            self.discard()
            raise EvidenceRejected(
                EvidenceProblem.LENGTH_MISMATCH,
                f"the body is longer than the {self.declared_size} bytes its Content-Length"
                " declares",
            )
        self._hash.update(chunk)
        view = memoryview(chunk)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self.received += len(chunk)

    def finish(self, *, uploaded_by: str, now: datetime) -> StoredEvidence:
        """Check the complete upload (length, hash, JPEG structure) and put it in place."""
        if self._fd is None:
            raise RuntimeError("the upload is already finished or discarded")
        try:
            if self.received != self.declared_size:
                raise EvidenceRejected(
                    EvidenceProblem.LENGTH_MISMATCH,
                    f"the body ended after {self.received} of the {self.declared_size} bytes"
                    " its Content-Length declares",
                )
            actual = self._hash.hexdigest()
            if actual != self.sha256:
                raise EvidenceRejected(
                    EvidenceProblem.HASH_MISMATCH,
                    f"the uploaded bytes hash to {actual}, not to the address {self.sha256}",
                )
            info = self._inspect()
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
            self._placed = True  # the name is the store's now: discard leaves it alone
            return self._store._place(
                self.sha256, self._temp, self.received, info, uploaded_by, now
            )
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if not self._placed:
            self._temp.unlink(missing_ok=True)

    def _inspect(self) -> JpegInfo:
        """Check the JPEG structure through a mapping of the file: only the pages the check
        looks at (the segment headers and the end) are read, never the whole image."""
        assert self._fd is not None
        problem: str | None = None
        if self.received == 0:
            return _inspect_bytes(b"")  # an empty file cannot be mapped; refused the same way
        with mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                info = inspect_jpeg(view)
            except CorruptImage as exc:
                # Only the sentence leaves this block: the exception's frames hold the view,
                # which must be gone before the mapping closes.
                problem = str(exc)
            finally:
                view.release()
        if problem is not None:
            raise EvidenceRejected(EvidenceProblem.CORRUPT, problem)
        return info


def _inspect_bytes(data: bytes) -> JpegInfo:
    try:
        return inspect_jpeg(data)
    except CorruptImage as exc:
        raise EvidenceRejected(EvidenceProblem.CORRUPT, str(exc)) from None


def _fsync_dir(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
