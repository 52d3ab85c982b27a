"""The ledger and Merkle tree as stored: rows to entries, and stored subtrees as a source for
the Merkle proofs. The rows and the read snapshots come from ``store.audit``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from central_ingest.core import merkle
from central_ingest.core.ledger import LedgerEntry
from central_ingest.store.audit import as_hash
from i18n import Text


class UnreadableEntry(ValueError):
    """A ledger row that cannot be an entry at all; ``text`` says why (a clause the verifier's
    sentences embed), ``str()`` the same in English."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))
        self.text = text


def leaf_from_hex(value: object) -> bytes:
    try:
        return bytes.fromhex(value) if isinstance(value, str) else as_hash(value)
    except ValueError:
        return as_hash(value)


class NodeLookup(Protocol):
    """Where the stored Merkle nodes are read from (``store.audit.AuditTables``)."""

    def merkle_node(self, level: int, idx: int) -> bytes | None: ...


class StoredSubtreeSource:
    """The perfect subtrees kept in the store (see store/ledger.py), one look-up each. Nodes
    are append-only, so a bounded cache is always right."""

    def __init__(self, nodes: NodeLookup, cache_size: int = 0) -> None:
        self._nodes = nodes
        self._cache: dict[tuple[int, int], bytes] = {}
        self._cache_size = cache_size

    def subtree(self, level: int, idx: int) -> bytes:
        cached = self._cache.get((level, idx))
        if cached is not None:
            return cached
        value = self._nodes.merkle_node(level, idx)
        if value is None:
            raise merkle.MissingSubtree(level, idx)
        if self._cache_size:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[(level, idx)] = value
        return value


def entry_from_row(row: Sequence[Any]) -> LedgerEntry:
    """Rebuild an entry from its row (``store.audit.LEDGER_FIELDS``); the payload is stored as
    JSON text. Raises UnreadableEntry (a ValueError) when the row cannot be an entry at all."""
    seq, recorded_at, entity_type, entity_id, action, actor, payload, prev_hash = row[:8]
    try:
        parsed = json.loads(payload)
    except (TypeError, ValueError):
        raise UnreadableEntry(Text("its payload is not valid JSON")) from None
    if not isinstance(parsed, dict):
        raise UnreadableEntry(Text("its payload is not a JSON object"))
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
