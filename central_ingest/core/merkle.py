"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, written out in full.

leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right); a tree of n leaves splits
at the largest power of two strictly below n.
"""

from __future__ import annotations

import hashlib


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()
