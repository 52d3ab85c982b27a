"""An online, consistent copy of the registry's SQLite database, and of its evidence images.

The copy is made with SQLite's online backup API while the registry keeps writing. The API
copies a few pages per step and, if another connection writes between two steps, starts over:
under a steady stream of fixations it would never finish (measured: 200 restarts within a
second on a 10 MB file). So the source connection first opens a read transaction and keeps it
for the whole copy: in WAL mode that pins one snapshot, which every step reads, and writers go
on appending to the WAL meanwhile (a checkpoint just cannot pass the snapshot until the copy
ends). The copy is therefore the database exactly as one committed transaction left it.

It is written to a hidden temporary file in the target's folder, switched to a rollback
journal (a standalone file, no ``-wal`` beside it), checked (``PRAGMA integrity_check``, the
schema version in ``meta``), fsynced and only then renamed to the name asked for: a half-written
or damaged copy never carries the final name.

Evidence images are content-addressed and never change, so they are copied incrementally: an
image already in the backup's evidence folder is not copied again; the others are read, hashed
against their name, and written as the registry writes them (temporary file, fsync, rename).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from central_ingest.core.errors import DomainError
from central_ingest.store.sqlite_db import BUSY_TIMEOUT_MS
from i18n.text import Text
from localdb import open_sqlite

# 1,024 pages of 4 KiB: 4 MiB per step, a few milliseconds each, so the progress moves.
DEFAULT_STEP_PAGES = 1024
_MB = 1_000_000
# Files SQLite may leave beside the temporary copy if it fails half-way.
_SIDE_FILES = ("-journal", "-wal", "-shm")

# (done, total): pages or images copied so far.
Progress = Callable[[int, int], None]


class BackupRefused(DomainError):
    """The backup cannot be written where or as asked; nothing was written."""


class BackupFailed(DomainError):
    """The copy was made but does not check, or the copy itself failed; nothing carries the
    target's name."""


@dataclass(frozen=True)
class CopyContents:
    """What a copy holds, read back from the copy itself before it gets its final name."""

    schema_version: int
    ledger_entries: int
    fixations: int
    cases: int
    tree_heads: int
    # Key ids (sha256 of the public key) that signed the copy's tree heads, oldest first.
    head_key_ids: tuple[str, ...]
    evidence_images: int


@dataclass(frozen=True)
class DatabaseBackup:
    path: Path
    size_bytes: int
    seconds: float
    contents: CopyContents


@dataclass
class EvidenceCopy:
    copied: int = 0
    already_there: int = 0
    bytes_copied: int = 0
    # Images the copy's evidence table lists but the registry's folder does not hold.
    missing: list[str] = field(default_factory=list)
    # Images whose bytes no longer hash to their name in the registry's folder.
    damaged: list[str] = field(default_factory=list)


def evidence_path(root: Path, sha256: str) -> Path:
    """Where an image lives under an evidence folder: the layout of ``EvidenceStore.path_for``
    (two levels of hash prefixes), so a backup folder is a registry evidence folder as is."""
    return root / sha256[:2] / sha256[2:4] / f"{sha256}.jpg"


def megabytes(size: int) -> float:
    """Megabytes to show: one decimal from 10 MB, two below (a small copy is not "0 MB")."""
    value = size / _MB
    return round(value, 1 if value >= 10 else 2)


def check_target(source: Path, target: Path, *, force: bool) -> None:
    """Refuse, before anything is read or written, a target that cannot receive the copy."""
    folder = target.parent
    if not folder.is_dir():
        raise BackupRefused(
            "backup_folder_missing",
            Text(
                "The folder %(folder)s does not exist: create it first; the backup is written"
                " there and then renamed into place.",
                folder=str(folder),
            ),
        )
    if target.is_dir():
        raise BackupRefused(
            "backup_target_is_folder",
            Text(
                "%(path)s is a folder: give the name of the backup file to write.", path=str(target)
            ),
        )
    if target.exists() or target.is_symlink():
        if source.exists() and target.exists() and os.path.samefile(source, target):
            raise BackupRefused(
                "backup_target_is_source",
                Text(
                    "%(path)s is the registry database itself: write the backup to another file.",
                    path=str(target),
                ),
            )
        if not force:
            raise BackupRefused(
                "backup_target_exists",
                Text(
                    "%(path)s already exists: choose another name, or pass --force to replace it.",
                    path=str(target),
                ),
            )


def _check_space(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise BackupRefused(
            "backup_no_space",
            Text(
                "There is not enough free space in %(folder)s: the backup needs %(needed)s MB and"
                " %(free)s MB are free.",
                folder=str(folder),
                needed=megabytes(needed),
                free=megabytes(free),
            ),
        )


def _open_source(source: Path) -> sqlite3.Connection:
    # Read-only: never create an empty database where the registry's should be, and never
    # checkpoint the registry's WAL on close as the last writable connection would.
    try:
        conn = open_sqlite(source, read_only=True, busy_timeout_s=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.OperationalError as exc:
        raise BackupRefused(
            "backup_source_unreadable",
            Text(
                "The registry database %(path)s cannot be opened: %(problem)s.",
                path=str(source),
                problem=str(exc),
            ),
        ) from None
    return conn


def backup_database(
    source: Path,
    target: Path,
    *,
    force: bool = False,
    step_pages: int = DEFAULT_STEP_PAGES,
    progress: Progress | None = None,
) -> DatabaseBackup:
    """Copy the registry database ``source`` to ``target`` while it is in use; see the module
    docstring. Raises BackupRefused before writing anything, BackupFailed if the copy does not
    check (the temporary file is then removed)."""
    started = time.monotonic()
    check_target(source, target, force=force)
    temp_fd, temp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
    )
    os.close(temp_fd)
    temp = Path(temp_name)
    try:
        _copy_snapshot(source, temp, step_pages, progress)
        contents = _check_copy(temp)
        _fsync(temp)
        os.replace(temp, target)
        _fsync_folder(target.parent)
    except (sqlite3.Error, OSError) as exc:
        raise BackupFailed(
            "backup_failed",
            Text(
                "The backup could not be written (%(problem)s); nothing was written under"
                " %(path)s.",
                problem=str(exc),
                path=str(target),
            ),
        ) from None
    finally:
        for leftover in (temp, *(temp.with_name(temp.name + end) for end in _SIDE_FILES)):
            leftover.unlink(missing_ok=True)
    return DatabaseBackup(
        path=target,
        size_bytes=target.stat().st_size,
        seconds=time.monotonic() - started,
        contents=contents,
    )


def _copy_snapshot(source: Path, temp: Path, step_pages: int, progress: Progress | None) -> None:
    src = _open_source(source)
    try:
        # The snapshot: one read transaction for every step of the copy (module docstring).
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        pages = src.execute("PRAGMA page_count").fetchone()[0]
        page_size = src.execute("PRAGMA page_size").fetchone()[0]
        _check_space(temp.parent, pages * page_size)
        # The copy's journal mode is set after the backup (below); synchronous: SQLite's.
        dst = open_sqlite(temp, wal=False, synchronous=None)
        try:

            def step(_status: int, remaining: int, total: int) -> None:
                if progress is not None:
                    progress(total - remaining, total)

            src.backup(dst, pages=step_pages, progress=step)
            # The copy inherits WAL mode from its source; a backup is one standalone file.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
        src.execute("COMMIT")
    finally:
        src.close()


def _check_copy(path: Path) -> CopyContents:
    conn = open_sqlite(path, read_only=True)
    try:
        verdict = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if verdict != ["ok"]:
            raise BackupFailed(
                "backup_damaged",
                Text(
                    "The copy failed SQLite's integrity check (%(problem)s); it was not kept.",
                    problem="; ".join(str(item) for item in verdict[:3]),
                ),
            )
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError:
            row = None
        if row is None:
            raise BackupFailed(
                "backup_not_a_registry",
                Text(
                    "The copy has no schema version in its meta table: the database copied is not"
                    " a registry's; it was not kept."
                ),
            )

        def count(table: str) -> int:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

        key_ids = tuple(
            str(key)
            for (key,) in conn.execute(
                "SELECT key_id FROM tree_heads GROUP BY key_id ORDER BY min(tree_size)"
            )
        )
        return CopyContents(
            schema_version=int(row[0]),
            ledger_entries=count("ledger"),
            fixations=count("fixations"),
            cases=count("cases"),
            tree_heads=count("tree_heads"),
            head_key_ids=key_ids,
            evidence_images=count("evidence"),
        )
    finally:
        conn.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk.
    _fsync(folder)


def copy_evidence(
    backup: Path, source_dir: Path, target_dir: Path, progress: Progress | None = None
) -> EvidenceCopy:
    """Copy into ``target_dir`` every image the backup ``backup`` refers to and ``target_dir``
    does not hold yet (content-addressed: a file there under its hash is that image). Images
    uploaded after the snapshot are left for the next backup: the copy does not refer to them.
    """
    conn = open_sqlite(backup, read_only=True)
    try:
        listed = conn.execute("SELECT sha256, size_bytes FROM evidence ORDER BY sha256").fetchall()
    finally:
        conn.close()
    result = EvidenceCopy()
    wanted: list[str] = []
    needed = 0
    for sha256, size in listed:
        kept = evidence_path(target_dir, sha256)
        if kept.is_file() and kept.stat().st_size == size:
            result.already_there += 1
        else:
            wanted.append(str(sha256))
            needed += int(size)
    _check_space(target_dir if target_dir.is_dir() else target_dir.parent, needed)
    touched: set[Path] = set()
    for done, sha256 in enumerate(wanted, start=1):
        folder = _copy_image(sha256, source_dir, target_dir, result)
        if folder is not None:
            touched.add(folder)
        if progress is not None:
            progress(done, len(wanted))
    for folder in touched:
        _fsync_folder(folder)
    return result


def _copy_image(
    sha256: str, source_dir: Path, target_dir: Path, result: EvidenceCopy
) -> Path | None:
    """Copy one image if the registry's file still hashes to its name; the folder written."""
    try:
        data = evidence_path(source_dir, sha256).read_bytes()
    except FileNotFoundError:
        result.missing.append(sha256)
        return None
    if hashlib.sha256(data).hexdigest() != sha256:
        result.damaged.append(sha256)
        return None
    kept = evidence_path(target_dir, sha256)
    kept.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=kept.parent, prefix=".copy-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, kept)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    result.copied += 1
    result.bytes_copied += len(data)
    return kept.parent
