"""Audit ledger entries: what one change of state looks like, and how it is hashed.

Each entry's hash covers its content and the previous entry's hash (a chain), and its canonical
bytes are also a leaf of the Merkle tree, whose signed heads an outside party can keep.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from central_ingest.core import merkle
from contract import canonical_json

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    recorded_at: str
    entity_type: str
    entity_id: str
    action: str
    actor: str
    payload: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS_HASH

    def canonical(self) -> bytes:
        return self._canonical

    @cached_property
    def _canonical(self) -> bytes:
        # Hashed twice per append (chain and Merkle leaf): encode once.
        return canonical_json(
            {
                "seq": self.seq,
                "recorded_at": self.recorded_at,
                "entity_type": self.entity_type,
                "entity_id": self.entity_id,
                "action": self.action,
                "actor": self.actor,
                "payload": self.payload,
                "prev_hash": self.prev_hash,
            }
        )

    @property
    def entry_hash(self) -> str:
        return hashlib.sha256(self._canonical).hexdigest()

    @property
    def leaf_hash(self) -> bytes:
        return merkle.leaf_hash(self._canonical)
