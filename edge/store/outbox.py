"""The durable outbox: a violation is accepted only once its evidence files, its sealed envelope
and its outbox row are on disk together.

Order of one ``record_fixation``: evidence files are written to a temporary name, fsynced,
renamed and their folder fsynced; then one SQLite transaction (WAL, synchronous FULL) allocates
the camera's next sequence number, seals the envelope, and inserts the outbox row, the file
index rows and the links between them. The envelope is stored as bytes exactly as sent, so a
resend is byte-identical and the registry deduplicates it on the message id.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from contract import (
    DeviceKey,
    EvidenceRef,
    Fixation,
    MessageKind,
    device_topic,
    encode_envelope,
    now_utc,
    seal,
)
from edge.store.db import Durability, open_database
from edge.store.evidence import (
    EvidenceFiles,
    FileCategory,
    StorageFull,
    StorageLimits,
)
from localdb import write_transaction

log = logging.getLogger(__name__)

STORAGE_FULL = "storage_full"


def _now() -> str:
    return now_utc().isoformat()


@dataclass(frozen=True)
class EvidenceImage:
    """An evidence image in hand: its reference (as it goes into the fixation) and its bytes."""

    ref: EvidenceRef
    data: bytes


@dataclass(frozen=True)
class RecordedFixation:
    message_id: str
    sequence: int
    envelope: bytes


@dataclass(frozen=True)
class PendingMessage:
    """An outbox row as the sender needs it."""

    id: int
    message_id: str
    topic: str
    envelope: bytes


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    sequence: int
    reason: str
    detail: str | None


class Outbox:
    """One box database. Safe to share between threads (one lock per connection); the recorder
    and the sender normally each open their own, possibly in different processes."""

    def __init__(
        self,
        db_path: Path,
        files_root: Path,
        *,
        limits: StorageLimits | None = None,
        durability: Durability = Durability.FULL,
    ) -> None:
        self.db_path = db_path
        self._conn = open_database(db_path, durability)
        self._lock = threading.RLock()
        self.files = EvidenceFiles(files_root, self._conn, limits or StorageLimits())

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._conn, self._lock)

    # --- recording -------------------------------------------------------------------------

    def record_fixation(
        self, fixation: Fixation, images: Sequence[EvidenceImage], device_id: str, key: DeviceKey
    ) -> RecordedFixation:
        """Store a fixation durably with its images; its ``sequence`` is replaced by the camera's
        next sequence number. Raises ``StorageFull`` (and sets ``storage_full``) when the images
        do not fit even after evicting everything that may go."""
        by_sha = {image.ref.sha256: image for image in images}
        missing = {ref.sha256 for ref in fixation.evidence} - by_sha.keys()
        if missing:
            raise ValueError(f"evidence images not supplied for {sorted(missing)}")
        with self._lock:
            written: list[tuple[str, int]] = []
            try:
                for sha256, image in by_sha.items():
                    actual, _ = self.files.write(image.data, FileCategory.VIOLATION)
                    if actual != sha256:
                        raise ValueError(f"evidence image bytes do not hash to {sha256}")
                    written.append((sha256, len(image.data)))
            except StorageFull as exc:
                log.error("ALERT a violation could not be recorded: %s", exc)
                with self._transaction() as conn:
                    conn.execute(
                        "INSERT OR REPLACE INTO alerts (name, text, raised_at) VALUES (?, ?, ?)",
                        (STORAGE_FULL, f"violations cannot be recorded: {exc}", _now()),
                    )
                raise
            with self._transaction() as conn:
                conn.execute("DELETE FROM alerts WHERE name = ?", (STORAGE_FULL,))
                sequence = self._next_sequence(conn, device_id)
                body = fixation.model_copy(update={"sequence": sequence})
                envelope = encode_envelope(seal(MessageKind.FIXATION, device_id, body, key))
                message_id = str(body.fixation_id)
                conn.execute(
                    "INSERT INTO outbox (message_id, device_id, kind, sequence, envelope,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        message_id,
                        device_id,
                        MessageKind.FIXATION.value,
                        sequence,
                        envelope,
                        _now(),
                    ),
                )
                for sha256, size in written:
                    self.files.index(sha256, FileCategory.VIOLATION, size)
                conn.executemany(
                    "INSERT OR IGNORE INTO outbox_evidence (message_id, sha256) VALUES (?, ?)",
                    [(message_id, sha256) for sha256, _ in written],
                )
        return RecordedFixation(message_id, sequence, envelope)

    @staticmethod
    def _next_sequence(conn: sqlite3.Connection, device_id: str) -> int:
        row = conn.execute(
            "INSERT INTO sequences (device_id, last_sequence) VALUES (?, 1)"
            " ON CONFLICT (device_id) DO UPDATE SET last_sequence = last_sequence + 1"
            " RETURNING last_sequence",
            (device_id,),
        ).fetchone()
        return int(row[0])

    def keep_file(self, data: bytes, category: FileCategory) -> str | None:
        """Keep a video clip or telemetry file if there is room (evicting older ones of the same
        or a cheaper kind); returns its sha256, or None when it had to be dropped."""
        if category is FileCategory.VIOLATION:
            raise ValueError("violation images are kept through record_fixation")
        with self._lock:
            try:
                sha256, _ = self.files.write(data, category)
            except StorageFull as exc:
                log.warning("a %s file was not kept: %s", category.value, exc)
                return None
            with self._transaction():
                self.files.index(sha256, category, len(data))
        return sha256

    def sweep_orphans(self) -> int:
        """Delete files a crash left unreferenced. Only the recorder calls this, once at start
        and before recording: run elsewhere, it could take a file whose row is being written."""
        with self._lock:
            return self.files.sweep_orphans()

    # --- sending ---------------------------------------------------------------------------

    def pending_after(self, last_id: int, limit: int) -> list[PendingMessage]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, message_id, device_id, kind, envelope FROM outbox WHERE id > ?"
                " ORDER BY id LIMIT ?",
                (last_id, limit),
            ).fetchall()
        return [_pending(row) for row in rows]

    def pending_by_id(self, message_ids: Sequence[str]) -> list[PendingMessage]:
        if not message_ids:
            return []
        marks = ",".join("?" * len(message_ids))
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, message_id, device_id, kind, envelope FROM outbox"
                f" WHERE message_id IN ({marks}) ORDER BY id",
                tuple(message_ids),
            ).fetchall()
        return [_pending(row) for row in rows]

    def files_to_upload(self, message_ids: Sequence[str]) -> dict[str, list[tuple[str, Path]]]:
        """Per message, the evidence files not yet uploaded (sha256, local path)."""
        if not message_ids:
            return {}
        marks = ",".join("?" * len(message_ids))
        with self._lock:
            rows = self._conn.execute(
                "SELECT e.message_id, f.sha256, f.category FROM outbox_evidence e"
                " JOIN files f ON f.sha256 = e.sha256"
                f" WHERE e.message_id IN ({marks}) AND f.uploaded = 0",
                tuple(message_ids),
            ).fetchall()
        needed: dict[str, list[tuple[str, Path]]] = {}
        for message_id, sha256, category in rows:
            path = self.files.path_for(sha256, FileCategory(category))
            needed.setdefault(message_id, []).append((sha256, path))
        return needed

    def files_never_uploaded(self, limit: int) -> list[tuple[str, Path]]:
        """Evidence of queued messages that the registry does not hold yet, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT f.sha256, f.category FROM files f WHERE f.uploaded = 0 AND EXISTS"
                " (SELECT 1 FROM outbox_evidence e WHERE e.sha256 = f.sha256)"
                " ORDER BY f.stored_at LIMIT ?",
                (limit,),
            ).fetchall()
        return [(sha, self.files.path_for(sha, FileCategory(category))) for sha, category in rows]

    def mark_uploaded(self, sha256s: Sequence[str], uploaded: bool = True) -> None:
        if not sha256s:
            return
        with self._transaction() as conn:
            conn.executemany(
                "UPDATE files SET uploaded = ? WHERE sha256 = ?",
                [(int(uploaded), sha256) for sha256 in sha256s],
            )

    def forget_uploads_of(self, message_ids: Sequence[str]) -> None:
        """The registry says it lacks evidence of these messages: upload their files again."""
        if not message_ids:
            return
        marks = ",".join("?" * len(message_ids))
        with self._transaction() as conn:
            conn.execute(
                "UPDATE files SET uploaded = 0 WHERE sha256 IN (SELECT sha256 FROM"
                f" outbox_evidence WHERE message_id IN ({marks}))",
                tuple(message_ids),
            )

    def delivered(self, message_ids: Sequence[str]) -> int:
        """The registry committed these: drop them from the outbox (their files stay, evictable)."""
        if not message_ids:
            return 0
        params = [(message_id,) for message_id in message_ids]
        with self._transaction() as conn:
            before = conn.total_changes
            conn.executemany("DELETE FROM outbox WHERE message_id = ?", params)
            removed = conn.total_changes - before
            conn.executemany("DELETE FROM outbox_evidence WHERE message_id = ?", params)
        return removed

    def dead_letter(self, message_id: str, reason: str, detail: str | None) -> bool:
        """Move a message the registry refused for good into ``dead_letters``."""
        with self._transaction() as conn:
            moved = conn.execute(
                "INSERT OR REPLACE INTO dead_letters (message_id, device_id, kind, sequence,"
                " envelope, reason, detail, failed_at) SELECT message_id, device_id, kind,"
                " sequence, envelope, ?, ?, ? FROM outbox WHERE message_id = ?",
                (reason, detail, _now(), message_id),
            ).rowcount
            conn.execute("DELETE FROM outbox WHERE message_id = ?", (message_id,))
            conn.execute("DELETE FROM outbox_evidence WHERE message_id = ?", (message_id,))
        return moved > 0

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT message_id, sequence, reason, detail FROM dead_letters ORDER BY sequence"
            ).fetchall()
        return [DeadLetter(*row) for row in rows]

    @property
    def storage_full(self) -> bool:
        return STORAGE_FULL in self.stored_alerts()

    def stored_alerts(self) -> dict[str, str]:
        """Alerts raised by whoever records into this box (shared through the database)."""
        with self._lock:
            return dict(self._conn.execute("SELECT name, text FROM alerts").fetchall())

    def depth(self) -> int:
        with self._lock:
            (count,) = self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()
        return int(count)

    def eviction_count(self) -> int:
        with self._lock:
            return self.files.eviction_count()


def _pending(row: tuple[int, str, str, str, bytes]) -> PendingMessage:
    row_id, message_id, device_id, kind, envelope = row
    return PendingMessage(row_id, message_id, device_topic(device_id, MessageKind(kind)), envelope)
