"""Appending to the audit ledger inside the caller's transaction, with its Merkle nodes."""

from __future__ import annotations

import json
from typing import Any

from central_ingest.core import merkle
from central_ingest.core.ledger import GENESIS_HASH, LedgerEntry
from central_ingest.store.db import Database

LEDGER_COLUMNS = (
    "seq",
    "recorded_at",
    "entity_type",
    "entity_id",
    "action",
    "actor",
    "payload",
    "prev_hash",
    "entry_hash",
    "leaf_hash",
)


class LedgerAppender:
    """Appends entries inside one write transaction, reading the chain's tail and the Merkle
    frontier once and writing rows in bulk on ``flush``.

    The frontier is the list of perfect subtrees the next leaf can complete: for a tree of n
    leaves, one node at each level L where bit L of n is set, namely (L, (n >> L) - 1). That
    is every left sibling a new leaf will ever need, so no per-entry look-ups are required.
    Nothing else may append to the ledger in the same transaction between creation and flush.
    """

    def __init__(self, db: Database) -> None:
        if not db.conn.in_transaction:
            raise RuntimeError("ledger entries are appended only inside a write transaction")
        self._db = db
        tail = db.conn.execute(
            "SELECT seq, entry_hash FROM ledger ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        self._size: int = tail[0] if tail else 0
        self._tail_hash: str = tail[1] if tail else GENESIS_HASH
        wanted = [
            (level, (self._size >> level) - 1)
            for level in range(self._size.bit_length())
            if self._size >> level & 1
        ]
        self._frontier: dict[tuple[int, int], bytes] = {}
        if wanted:
            # An OR of primary-key look-ups: SQLite plans ``(level, idx) IN (VALUES ...)`` as
            # a scan of every node (EXPLAIN QUERY PLAN), which grew each append with the tree.
            rows = db.conn.execute(
                "SELECT level, idx, hash FROM merkle_nodes WHERE "
                + " OR ".join("(level = ? AND idx = ?)" for _ in wanted),
                [number for key in wanted for number in key],
            ).fetchall()
            self._frontier = {(level, idx): node for level, idx, node in rows}
            if len(self._frontier) != len(wanted):
                raise RuntimeError(
                    "the Merkle tree is missing nodes of its right edge: run `audit verify`"
                )
        self._entries: list[tuple[object, ...]] = []
        self._nodes: list[tuple[int, int, bytes]] = []

    def append(
        self,
        *,
        recorded_at: str,
        entity_type: str,
        entity_id: str,
        action: str,
        actor: str,
        payload: dict[str, Any],
    ) -> LedgerEntry:
        entry = LedgerEntry(
            seq=self._size + 1,
            recorded_at=recorded_at,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            actor=actor,
            payload=payload,
            prev_hash=self._tail_hash,
        )
        leaf = entry.leaf_hash
        self._entries.append(
            (
                entry.seq,
                recorded_at,
                entity_type,
                entity_id,
                action,
                actor,
                json.dumps(payload, sort_keys=True, ensure_ascii=False),
                entry.prev_hash,
                entry.entry_hash,
                leaf.hex(),
            )
        )
        self._add_leaf(self._size, leaf)
        self._size += 1
        self._tail_hash = entry.entry_hash
        return entry

    def _add_leaf(self, index: int, leaf: bytes) -> None:
        level, idx, node = 0, index, leaf
        self._nodes.append((0, index, leaf))
        while idx % 2 == 1:
            left = self._frontier.pop((level, idx - 1))
            node = merkle.node_hash(left, node)
            level, idx = level + 1, idx // 2
            self._nodes.append((level, idx, node))
        self._frontier[(level, idx)] = node

    def flush(self) -> None:
        self._db.insert_rows("ledger", LEDGER_COLUMNS, self._entries)
        self._db.insert_rows("merkle_nodes", ("level", "idx", "hash"), self._nodes)
        self._entries.clear()
        self._nodes.clear()


def append_entry(
    db: Database,
    *,
    recorded_at: str,
    entity_type: str,
    entity_id: str,
    action: str,
    actor: str,
    payload: dict[str, Any],
) -> LedgerEntry:
    """Append one entry. Must run inside a write transaction (``Store.transaction``) so that
    the chain's tail cannot move between reading it and writing the next entry."""
    appender = LedgerAppender(db)
    entry = appender.append(
        recorded_at=recorded_at,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=actor,
        payload=payload,
    )
    appender.flush()
    return entry
