"""Files kept on the box (violation images, video clips, telemetry), content-addressed, under a
byte quota.

When space runs out, telemetry goes first, then video, then violation images the registry has
already stored. Images of a fixation still waiting in the outbox are never evicted: if nothing
else can go, recording refuses loudly (``StorageFull``) instead of dropping evidence silently.
Every eviction is a row in ``evictions`` and a log line.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from contract import now_utc

log = logging.getLogger(__name__)


class FileCategory(StrEnum):
    VIOLATION = "violation"
    VIDEO = "video"
    TELEMETRY = "telemetry"


# Cheapest loss first.
EVICTION_ORDER = (FileCategory.TELEMETRY, FileCategory.VIDEO, FileCategory.VIOLATION)
_SUFFIX = {
    FileCategory.VIOLATION: ".jpg",
    FileCategory.VIDEO: ".mp4",
    FileCategory.TELEMETRY: ".jsonl",
}


class StorageFull(Exception):
    """No room for a file even after evicting everything that may go."""


@dataclass(frozen=True)
class StorageLimits:
    """``max_bytes`` caps the files this store keeps; ``min_free_bytes`` is left free on the
    filesystem for the database and the operating system."""

    max_bytes: int | None = None
    min_free_bytes: int = 256 * 1024 * 1024


@dataclass(frozen=True)
class Eviction:
    sha256: str
    category: FileCategory
    size_bytes: int
    reason: str


def write_durably(path: Path, data: bytes) -> None:
    """Temp name, fsync, rename, fsync the folder: after return the file survives a power cut,
    and a crash never leaves a half-written file under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class EvidenceFiles:
    """The files on disk and their index in the box database (table ``files``). Not thread-safe
    by itself: the ``Outbox`` that owns it serialises access."""

    def __init__(self, root: Path, conn: sqlite3.Connection, limits: StorageLimits) -> None:
        self.root = root
        self._conn = conn
        self._limits = limits
        root.mkdir(parents=True, exist_ok=True)
        (used,) = conn.execute("SELECT COALESCE(SUM(size_bytes), 0) FROM files").fetchone()
        self._used_bytes = int(used)

    @property
    def used_bytes(self) -> int:
        return self._used_bytes

    def path_for(self, sha256: str, category: FileCategory) -> Path:
        return self.root / category.value / sha256[:2] / f"{sha256}{_SUFFIX[category]}"

    def exists(self, sha256: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        return row is not None

    def free_percent(self) -> float:
        """How much room is left, in percent, against the quota or the filesystem, whichever is
        tighter."""
        usage = shutil.disk_usage(self.root)
        percent = 100.0 * usage.free / usage.total if usage.total else 0.0
        if self._limits.max_bytes:
            quota_left = max(0, self._limits.max_bytes - self._used_bytes)
            percent = min(percent, 100.0 * quota_left / self._limits.max_bytes)
        return round(percent, 2)

    def write(self, data: bytes, category: FileCategory) -> tuple[str, bool]:
        """Write ``data`` durably unless already held, evicting cheaper files if needed. Returns
        the sha256 and whether a new file was written; the caller inserts the index row
        (``index``) in its own transaction."""
        sha256 = hashlib.sha256(data).hexdigest()
        if self.exists(sha256):
            return sha256, False
        self.make_room(len(data), category)
        write_durably(self.path_for(sha256, category), data)
        return sha256, True

    def index(self, sha256: str, category: FileCategory, size_bytes: int) -> None:
        """Record a written file; call inside the transaction that references it."""
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO files (sha256, category, size_bytes, stored_at)"
            " VALUES (?, ?, ?, ?)",
            (sha256, category.value, size_bytes, now_utc().isoformat()),
        )
        self._used_bytes += size_bytes * cursor.rowcount

    def _lacks_room(self, size_bytes: int) -> bool:
        if self._limits.max_bytes is not None and (
            self._used_bytes + size_bytes > self._limits.max_bytes
        ):
            return True
        return shutil.disk_usage(self.root).free - size_bytes < self._limits.min_free_bytes

    def make_room(self, size_bytes: int, category: FileCategory) -> list[Eviction]:
        """Evict cheaper (or equally cheap, older) files until ``size_bytes`` fit. A violation
        image may displace anything not pending; telemetry only telemetry."""
        evicted: list[Eviction] = []
        allowed = EVICTION_ORDER[: EVICTION_ORDER.index(category) + 1]
        while self._lacks_room(size_bytes):
            victim = self._oldest_evictable(allowed)
            if victim is None:
                raise StorageFull(
                    f"no room for a {category.value} file of {size_bytes} bytes: "
                    f"{self._used_bytes} bytes are held, and what remains belongs to violations "
                    "not yet delivered to the registry"
                )
            evicted.append(self._evict(*victim, reason=f"room for a new {category.value} file"))
        return evicted

    def _oldest_evictable(
        self, allowed: tuple[FileCategory, ...]
    ) -> tuple[str, FileCategory, int] | None:
        for category in allowed:
            row = self._conn.execute(
                "SELECT sha256, size_bytes FROM files f WHERE category = ? AND NOT EXISTS"
                " (SELECT 1 FROM outbox_evidence e WHERE e.sha256 = f.sha256)"
                " ORDER BY stored_at LIMIT 1",
                (category.value,),
            ).fetchone()
            if row is not None:
                return row[0], category, int(row[1])
        return None

    def _evict(self, sha256: str, category: FileCategory, size_bytes: int, reason: str) -> Eviction:
        # Index first, file second: a crash in between leaves an orphan file, swept at start.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.execute("DELETE FROM files WHERE sha256 = ?", (sha256,))
            self._conn.execute(
                "INSERT INTO evictions (evicted_at, sha256, category, size_bytes, reason)"
                " VALUES (?, ?, ?, ?, ?)",
                (now_utc().isoformat(), sha256, category.value, size_bytes, reason),
            )
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._used_bytes -= size_bytes
        self.path_for(sha256, category).unlink(missing_ok=True)
        log.warning("evicted %s file %s (%d bytes): %s", category.value, sha256, size_bytes, reason)
        return Eviction(sha256, category, size_bytes, reason)

    def sweep_orphans(self) -> int:
        """Delete files no index row names: left by a crash between a durable write and the
        transaction that would have referenced it, or between an eviction and its unlink."""
        known = {row[0] for row in self._conn.execute("SELECT sha256 FROM files")}
        removed = 0
        for path in self.root.glob("*/*/*"):
            sha256 = path.name.split(".")[0] if not path.name.startswith(".") else ""
            if sha256 not in known:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def evictions(self) -> list[Eviction]:
        rows = self._conn.execute(
            "SELECT sha256, category, size_bytes, reason FROM evictions ORDER BY id"
        ).fetchall()
        return [
            Eviction(sha, FileCategory(category), size, reason)
            for sha, category, size, reason in rows
        ]

    def eviction_count(self) -> int:
        (count,) = self._conn.execute("SELECT COUNT(*) FROM evictions").fetchone()
        return int(count)
