"""Appending to the audit ledger inside the caller's transaction, with its Merkle nodes."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from central_ingest.core import merkle
from central_ingest.core.ledger import GENESIS_HASH, LedgerEntry


def append_entry(
    db: sqlite_utils.Database,
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
    if not db.conn.in_transaction:
        raise RuntimeError("ledger entries are appended only inside a write transaction")
    tail = db.conn.execute(
        "SELECT seq, entry_hash FROM ledger ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    seq, prev_hash = (tail[0] + 1, tail[1]) if tail else (1, GENESIS_HASH)
    entry = LedgerEntry(
        seq=seq,
        recorded_at=recorded_at,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=actor,
        payload=payload,
        prev_hash=prev_hash,
    )
    leaf = entry.leaf_hash
    db.conn.execute(
        "INSERT INTO ledger (seq, recorded_at, entity_type, entity_id, action, actor, payload,"
        " prev_hash, entry_hash, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            seq,
            recorded_at,
            entity_type,
            entity_id,
            action,
            actor,
            json.dumps(payload, sort_keys=True, ensure_ascii=False),
            prev_hash,
            entry.entry_hash,
            leaf.hex(),
        ),
    )
    _add_merkle_leaf(db, seq - 1, leaf)
    return entry


def _add_merkle_leaf(db: sqlite_utils.Database, index: int, leaf: bytes) -> None:
    """Store the leaf and every perfect subtree it completes (levels above it)."""
    rows = [(0, index, leaf)]
    level, idx, node = 0, index, leaf
    while idx % 2 == 1:
        (left,) = db.conn.execute(
            "SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?", (level, idx - 1)
        ).fetchone()
        node = merkle.node_hash(left, node)
        level, idx = level + 1, idx // 2
        rows.append((level, idx, node))
    db.conn.executemany("INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)", rows)
