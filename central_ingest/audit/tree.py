"""The ledger and Merkle tree as stored: rows to entries, stored subtrees, read snapshots."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlite_utils

from central_ingest.core import merkle
from central_ingest.core.ledger import LedgerEntry

LEDGER_COLUMNS = (
    "seq, recorded_at, entity_type, entity_id, action, actor, payload, prev_hash, entry_hash,"
    " leaf_hash"
)


def as_hash(value: object) -> bytes:
    """A stored hash as bytes; anything that is not a BLOB (an edit with the sqlite3 shell
    often writes text) becomes bytes that can never equal a real hash."""
    if isinstance(value, bytes):
        return value
    return b"not a hash: " + str(value).encode()


def leaf_from_hex(value: object) -> bytes:
    try:
        return bytes.fromhex(value) if isinstance(value, str) else as_hash(value)
    except ValueError:
        return as_hash(value)


class SqliteSubtreeSource:
    """The perfect subtrees kept in ``merkle_nodes`` (see store/ledger.py), one primary-key
    look-up each. Nodes are append-only, so a bounded cache is always right."""

    def __init__(self, db: sqlite_utils.Database, cache_size: int = 0) -> None:
        self._db = db
        self._cache: dict[tuple[int, int], bytes] = {}
        self._cache_size = cache_size

    def subtree(self, level: int, idx: int) -> bytes:
        cached = self._cache.get((level, idx))
        if cached is not None:
            return cached
        row = self._db.conn.execute(
            "SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?", (level, idx)
        ).fetchone()
        if row is None:
            raise merkle.MissingSubtree(level, idx)
        value = as_hash(row[0])
        if self._cache_size:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[(level, idx)] = value
        return value


def entry_from_row(row: Sequence[Any]) -> LedgerEntry:
    """Rebuild an entry from its row; the payload is stored as JSON text. Raises ValueError
    when the row cannot be an entry at all."""
    seq, recorded_at, entity_type, entity_id, action, actor, payload, prev_hash = row[:8]
    try:
        parsed = json.loads(payload)
    except (TypeError, ValueError):
        raise ValueError("its payload is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ValueError("its payload is not a JSON object")
    return LedgerEntry(
        seq=seq,
        recorded_at=recorded_at,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=actor,
        payload=parsed,
        prev_hash=prev_hash,
    )


@contextmanager
def read_snapshot(db: sqlite_utils.Database) -> Iterator[None]:
    """One read transaction, so that entries appended while the check runs cannot make the
    tables disagree with each other (WAL readers see a fixed snapshot)."""
    if db.conn.in_transaction:
        yield
        return
    db.conn.execute("BEGIN")
    try:
        yield
    finally:
        db.conn.execute("ROLLBACK")
