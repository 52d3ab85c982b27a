"""Content-addressed evidence images on disk, indexed in the ``evidence`` table.

An upload is idempotent: its name is its sha256, so a retry after a dropped link finds the
file already there. Files are fsynced and renamed into place before the row is committed, so a
row never points at a file that a power cut could have lost.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import sqlite_utils

from central_ingest.core.clock import iso
from central_ingest.core.jpeg import CorruptImage, inspect_jpeg
from central_ingest.store.db import Store


class EvidenceProblem(StrEnum):
    HASH_MISMATCH = "evidence_hash_mismatch"
    CORRUPT = "evidence_corrupt"
    TOO_LARGE = "evidence_too_large"
    BAD_HASH = "evidence_bad_hash"


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


def evidence_sizes(db: sqlite_utils.Database, hashes: set[str]) -> dict[str, int]:
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

    def path_for(self, sha256: str) -> Path:
        if not _is_sha256_hex(sha256):
            raise ValueError(f"{sha256!r} is not a lower-case sha256 hex digest")
        return self._root / sha256[:2] / sha256[2:4] / f"{sha256}.jpg"

    def put(self, sha256: str, data: bytes, *, uploaded_by: str, now: datetime) -> StoredEvidence:
        if not _is_sha256_hex(sha256):
            raise EvidenceRejected(
                EvidenceProblem.BAD_HASH, "the address must be a lower-case sha256 hex digest"
            )
        if len(data) > self._max_bytes:
            raise EvidenceRejected(
                EvidenceProblem.TOO_LARGE,
                f"the image is {len(data)} bytes; the limit is {self._max_bytes}",
            )
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise EvidenceRejected(
                EvidenceProblem.HASH_MISMATCH,
                f"the uploaded bytes hash to {actual}, not to the address {sha256}",
            )
        try:
            info = inspect_jpeg(data)
        except CorruptImage as exc:
            raise EvidenceRejected(EvidenceProblem.CORRUPT, str(exc)) from None
        existing = self._store.db.conn.execute(
            "SELECT size_bytes FROM evidence WHERE sha256 = ?", (sha256,)
        ).fetchone()
        if existing is not None and self.path_for(sha256).exists():
            return StoredEvidence(sha256, len(data), info.width, info.height, created=False)
        self._write_durably(self.path_for(sha256), data)
        with self._store.transaction() as db:
            db.conn.execute(
                "INSERT INTO evidence (sha256, size_bytes, content_type, width, height,"
                " uploaded_by, stored_at) VALUES (?, ?, 'image/jpeg', ?, ?, ?, ?)"
                " ON CONFLICT(sha256) DO NOTHING",
                (sha256, len(data), info.width, info.height, uploaded_by, iso(now)),
            )
        return StoredEvidence(sha256, len(data), info.width, info.height, created=True)

    @staticmethod
    def _write_durably(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
