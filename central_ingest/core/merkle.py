"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, written out in full.

leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right); a tree of n leaves splits
at the largest power of two strictly below n (section 2.1.1).

Proofs are generated from a source of *perfect* subtree hashes rather than from the leaves: the
RFC's recursive split only ever produces left halves that are perfect subtrees aligned on their
own size, and any right remainder decomposes into a few more of them. A store that keeps every
perfect subtree (level, idx) = MTH(D[idx * 2**level : (idx + 1) * 2**level]) therefore answers a
root, an inclusion proof or a consistency proof with O(log n) look-ups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() of the empty string."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MissingSubtree(LookupError):
    """A subtree hash the tree should hold is absent (for a stored tree: removed or never
    written)."""

    def __init__(self, level: int, idx: int) -> None:
        super().__init__(f"the Merkle tree has no node at level {level}, index {idx}")
        self.level = level
        self.idx = idx


class SubtreeSource(Protocol):
    """Answers the hash of the perfect subtree covering leaves [idx * 2**level, (idx+1) * 2**level).

    Raises MissingSubtree when it does not hold that subtree."""

    def subtree(self, level: int, idx: int) -> bytes: ...


class InMemoryTree:
    """Every perfect subtree of a list of leaf hashes, kept as the leaves are appended."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaf_hashes:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, leaf: bytes) -> None:
        self._levels[0].append(leaf)
        level = 0
        # A leaf at an odd index completes its sibling pair, and possibly the pairs above.
        while len(self._levels[level]) % 2 == 0:
            below = self._levels[level]
            if level + 1 == len(self._levels):
                self._levels.append([])
            self._levels[level + 1].append(node_hash(below[-2], below[-1]))
            level += 1

    def subtree(self, level: int, idx: int) -> bytes:
        if level < 0 or idx < 0 or level >= len(self._levels) or idx >= len(self._levels[level]):
            raise MissingSubtree(level, idx)
        return self._levels[level][idx]


class Frontier:
    """The right edge of a growing tree (one perfect subtree per set bit of its size): enough
    to give the root after every appended leaf without keeping the leaves."""

    def __init__(self) -> None:
        self._peaks: list[bytes] = []  # largest (leftmost) first
        self.size = 0

    def append(self, leaf: bytes) -> None:
        self._peaks.append(leaf)
        self.size += 1
        completed = self.size
        while completed % 2 == 0:
            right = self._peaks.pop()
            self._peaks[-1] = node_hash(self._peaks[-1], right)
            completed //= 2

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        root = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            root = node_hash(peak, root)
        return root


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _perfect(source: SubtreeSource, start: int, size: int) -> bytes:
    level = size.bit_length() - 1
    return source.subtree(level, start >> level)


def _range_hash(source: SubtreeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range the RFC's recursion produces (start aligned on the
    power of two at or above end - start): perfect pieces left to right, folded from the
    right exactly as the recursion would hash them."""
    pieces: list[bytes] = []
    while not _is_power_of_two(end - start):
        k = _split(end - start)
        pieces.append(_perfect(source, start, k))
        start += k
    root = _perfect(source, start, end - start)
    for piece in reversed(pieces):
        root = node_hash(piece, root)
    return root


def root_hash(source: SubtreeSource, tree_size: int) -> bytes:
    """MTH(D_n), RFC 9162 section 2.1.1."""
    if tree_size < 0:
        raise ValueError("a tree size cannot be negative")
    if tree_size == 0:
        return EMPTY_ROOT
    return _range_hash(source, 0, tree_size)


def inclusion_proof(source: SubtreeSource, leaf_index: int, tree_size: int) -> list[bytes]:
    """PATH(m, D_n), RFC 9162 section 2.1.3.1: the audit path of leaf m, innermost first."""
    if not 0 <= leaf_index < tree_size:
        raise ValueError(f"leaf {leaf_index} is not in a tree of {tree_size} leaves")
    outermost_first: list[bytes] = []
    start, end = 0, tree_size
    while end - start > 1:
        k = _split(end - start)
        if leaf_index < start + k:
            outermost_first.append(_range_hash(source, start + k, end))
            end = start + k
        else:
            outermost_first.append(_range_hash(source, start, start + k))
            start += k
    return outermost_first[::-1]


def consistency_proof(source: SubtreeSource, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(m, D_n) = SUBPROOF(m, D_n, true), RFC 9162 section 2.1.4.1.

    Defined for 0 < m < n; for m == n the proof is empty (the two heads must simply agree)."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from a tree of {old_size} to one of {new_size}")
    outermost_first: list[bytes] = []
    start, end, old_in_range, whole_old_tree = 0, new_size, old_size, True
    while old_in_range != end - start:
        k = _split(end - start)
        if old_in_range <= k:
            outermost_first.append(_range_hash(source, start + k, end))
            end = start + k
        else:
            outermost_first.append(_range_hash(source, start, start + k))
            start += k
            old_in_range -= k
            whole_old_tree = False
    if not whole_old_tree:
        outermost_first.append(_range_hash(source, start, end))
    return outermost_first[::-1]


def _well_formed(hashes: Sequence[bytes]) -> bool:
    return all(len(value) == HASH_SIZE for value in hashes)


def verify_inclusion(
    leaf: bytes, leaf_index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2, step by step. ``leaf`` is the leaf hash, not the entry."""
    if not _well_formed([leaf, root, *proof]):
        return False
    # 1. leaf_index must be inside the tree.
    if leaf_index < 0 or leaf_index >= tree_size:
        return False
    # 2. fn = leaf_index, sn = tree_size - 1.
    fn, sn = leaf_index, tree_size - 1
    # 3. r = hash.
    r = leaf
    # 4. For each p in the path:
    for p in proof:
        # a. A path longer than the tree is tall fails.
        if sn == 0:
            return False
        # b. Is p on the left (fn is a right child, or the last node of its level)?
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        # c.
        fn >>= 1
        sn >>= 1
    # 5. The path must reach the top, and the top must be the root.
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2, step by step, for 0 < first < second. Equal sizes are
    consistent when the roots are equal and the proof is empty; an empty old tree is a prefix
    of every tree."""
    if not _well_formed([old_root, new_root, *proof]):
        return False
    if old_size < 0 or old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    # 1. An empty path fails.
    if not proof:
        return False
    path = list(proof)
    # 2. When the old tree is a perfect subtree its root is the path's first node.
    if _is_power_of_two(old_size):
        path.insert(0, old_root)
    # 3.
    fn, sn = old_size - 1, new_size - 1
    # 4. Climb past the levels where the old tree's last node is a right child.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5.
    fr = sr = path[0]
    # 6.
    for c in path[1:]:
        # a.
        if sn == 0:
            return False
        # b.
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        # c.
        fn >>= 1
        sn >>= 1
    # 7.
    return fr == old_root and sr == new_root and sn == 0
