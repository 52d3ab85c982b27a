"""Signed tree heads over the audit ledger and the registry's own signing key."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from central_ingest.audit.errors import RegistryKeyError, TreeHeadRefused
from central_ingest.audit.tree import StoredSubtreeSource
from central_ingest.core import merkle
from central_ingest.core.clock import iso
from central_ingest.store.audit import AuditTables
from central_ingest.store.db import Store
from contract import DeviceKey, PublicKey, canonical_json, load_public_key, verify_signature
from contract.signing import b64url_decode
from i18n.text import Text


@functools.lru_cache(maxsize=16)
def key_id(public_key_b64: str) -> str:
    """SHA-256 (hex) of the raw 32-byte Ed25519 public key."""
    return hashlib.sha256(b64url_decode(public_key_b64)).hexdigest()


@functools.lru_cache(maxsize=16)
def _public_key(public_key_b64: str) -> PublicKey:
    # Parsing costs about as much as a verification; a verifier checks many heads with one key.
    return load_public_key(public_key_b64)


@dataclass(frozen=True)
class TreeHead:
    """The registry's signed statement 'the ledger's first tree_size entries hash to root_hash'."""

    tree_size: int
    root_hash: str
    timestamp: str
    key_id: str
    signature: str

    def signed_bytes(self) -> bytes:
        return canonical_json(
            {
                "tree_size": self.tree_size,
                "root_hash": self.root_hash,
                "timestamp": self.timestamp,
                "key_id": self.key_id,
            }
        )

    def signature_valid(self, public_key_b64: str) -> bool:
        return self.key_id == key_id(public_key_b64) and verify_signature(
            _public_key(public_key_b64), self.signed_bytes(), self.signature
        )

    @property
    def root(self) -> bytes | None:
        """The root as bytes, or None when the stored text is not a SHA-256 in hex."""
        try:
            value = bytes.fromhex(self.root_hash)
        except ValueError:
            return None
        return value if len(value) == merkle.HASH_SIZE else None

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp": self.timestamp,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: object) -> TreeHead:
        if not isinstance(data, dict):
            raise ValueError("a tree head is a JSON object")
        try:
            head = cls(
                tree_size=data["tree_size"],
                root_hash=data["root_hash"],
                timestamp=data["timestamp"],
                key_id=data["key_id"],
                signature=data["signature"],
            )
        except KeyError as missing:
            raise ValueError(f"a tree head needs the field {missing}") from None
        if not isinstance(head.tree_size, int) or not all(
            isinstance(value, str)
            for value in (head.root_hash, head.timestamp, head.key_id, head.signature)
        ):
            raise ValueError("a tree head has an integer tree_size and text for the other fields")
        return head


def head_from_row(row: Sequence[Any]) -> TreeHead:
    tree_size, root_hash, signed_at, head_key_id, signature = row
    return TreeHead(
        int(tree_size), str(root_hash), str(signed_at), str(head_key_id), str(signature)
    )


def latest_head(tables: AuditTables) -> TreeHead | None:
    row = tables.latest_tree_head()
    return None if row is None else head_from_row(row)


def latest_tree_head(store: Store) -> TreeHead | None:
    return latest_head(AuditTables(store.db))


def sign_tree_head(store: Store, key: DeviceKey, now: datetime) -> TreeHead | None:
    """Sign the current tree, or return None when the ledger has not grown since the last head.

    Costs O(log n) look-ups of stored subtrees, whatever the ledger's length. Refuses
    (TreeHeadRefused) to sign a tree that is not an extension of the last signed one: a log
    must never sign two diverging histories."""
    with store.transaction() as db:
        tables = AuditTables(db)
        size = tables.ledger_size()
        previous = latest_head(tables)
        if size == 0 or (previous is not None and previous.tree_size >= size):
            return None
        source = StoredSubtreeSource(tables)
        root = merkle.root_hash(source, size)
        if previous is not None:
            _require_extension(source, previous, size, root)
        unsigned = TreeHead(size, root.hex(), iso(now), key_id(key.public_key_b64), signature="")
        head = dataclasses.replace(unsigned, signature=key.sign(unsigned.signed_bytes()))
        tables.add_tree_head(
            head.tree_size, head.root_hash, head.timestamp, head.key_id, head.signature
        )
    return head


def _require_extension(
    source: merkle.SubtreeSource, previous: TreeHead, size: int, root: bytes
) -> None:
    refusal = TreeHeadRefused(
        Text(
            "Refusing to sign a tree head at size %(size)s: the ledger is no longer an extension"
            " of the tree head signed at size %(previous)s; run 'verify' to find what changed.",
            size=size,
            previous=previous.tree_size,
        )
    )
    previous_root = previous.root
    if previous_root is None:
        raise refusal
    try:
        proof = merkle.consistency_proof(source, previous.tree_size, size)
    except merkle.MissingSubtree:
        raise refusal from None
    if not merkle.verify_consistency(previous.tree_size, size, previous_root, root, proof):
        raise refusal


# --- the registry's key ---------------------------------------------------------------------


def load_registry_key(path: Path) -> DeviceKey:
    """Load the registry's tree-head key, refusing a file other users can read."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise RegistryKeyError(
            Text(
                "The registry key %(path)s is accessible to other users (mode %(mode)s);"
                " restrict it with 'chmod 600 %(path)s'.",
                path=str(path),
                mode=format(stat.S_IMODE(mode), "o"),
            )
        )
    try:
        return DeviceKey.load(path)
    except ValueError as exc:
        raise RegistryKeyError(
            Text(
                "The registry key %(path)s cannot be used: %(problem)s.",
                path=str(path),
                problem=exc,
            )
        ) from None


def load_or_create_registry_key(path: Path) -> DeviceKey:
    """The registry's own Ed25519 key for tree heads: loaded, or created (mode 0600) when the
    file does not exist yet. Creation is atomic, so two processes starting together agree."""
    if path.exists():
        return load_registry_key(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.new")
    draft.unlink(missing_ok=True)
    key = DeviceKey.generate()
    key.save(draft)
    try:
        os.link(draft, path)  # fails if someone else created the key meanwhile
    except FileExistsError:
        return load_registry_key(path)
    finally:
        draft.unlink()
    return key
