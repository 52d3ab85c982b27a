"""The RFC 9162 Merkle tree against the published RFC 6962 vectors and the RFC's own recursion."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from central_ingest.core.merkle import (
    EMPTY_ROOT,
    Frontier,
    InMemoryTree,
    MissingSubtree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# The expected values below are copied from transparency-dev/merkle, proof/verify_test.go
# (commit 02194e9afb6c1d95b5381350007963aa70fff472), the Certificate Transparency project's
# RFC 6962 reference vectors. Its inclusion vectors number leaves from 1; here they are 0-based.
RFC_LEAVES = [
    bytes.fromhex(text)
    for text in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
RFC_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
RFC_INCLUSION = [  # (leaf index, tree size, path)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
RFC_CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def rfc_tree(size: int) -> InMemoryTree:
    return InMemoryTree(leaf_hash(entry) for entry in RFC_LEAVES[:size])


def rfc_root(size: int) -> bytes:
    return bytes.fromhex(RFC_ROOTS[size])


def hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


# The RFC's recursive definitions, transcribed literally over a list of leaf hashes, as the
# oracle for the subtree-based generators.
def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def spec_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _k(len(leaves))
    return node_hash(spec_mth(leaves[:k]), spec_mth(leaves[k:]))


def spec_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*spec_path(m, leaves[:k]), spec_mth(leaves[k:])]
    return [*spec_path(m - k, leaves[k:]), spec_mth(leaves[:k])]


def spec_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    if m == len(leaves):
        return [] if complete else [spec_mth(leaves)]
    k = _k(len(leaves))
    if m <= k:
        return [*spec_subproof(m, leaves[:k], complete), spec_mth(leaves[k:])]
    return [*spec_subproof(m - k, leaves[k:], False), spec_mth(leaves[:k])]


def synthetic_leaves(size: int) -> list[bytes]:
    return [leaf_hash(f"entry-{i}".encode()) for i in range(size)]


def flipped(proof: list[bytes], position: int, bit: int) -> list[bytes]:
    damaged = list(proof)
    value = bytearray(damaged[position])
    value[bit // 8] ^= 1 << (bit % 8)
    damaged[position] = bytes(value)
    return damaged


# --- the published vectors -------------------------------------------------------------------


def test_the_empty_tree_hashes_to_sha256_of_nothing() -> None:
    assert root_hash(InMemoryTree(), 0) == EMPTY_ROOT
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert Frontier().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", sorted(RFC_ROOTS))
def test_roots_match_the_rfc6962_vectors(size: int) -> None:
    assert root_hash(rfc_tree(8), size) == rfc_root(size)
    frontier = Frontier()
    for entry in RFC_LEAVES[:size]:
        frontier.append(leaf_hash(entry))
    assert frontier.root() == rfc_root(size)


@pytest.mark.parametrize(("index", "size", "path"), RFC_INCLUSION)
def test_inclusion_proofs_match_the_rfc6962_vectors(index: int, size: int, path: list[str]) -> None:
    assert inclusion_proof(rfc_tree(8), index, size) == hexes(path)
    leaf = leaf_hash(RFC_LEAVES[index])
    assert verify_inclusion(leaf, index, size, hexes(path), rfc_root(size))


@pytest.mark.parametrize(("old", "new", "proof"), RFC_CONSISTENCY)
def test_consistency_proofs_match_the_rfc6962_vectors(old: int, new: int, proof: list[str]) -> None:
    assert consistency_proof(rfc_tree(8), old, new) == hexes(proof)
    assert verify_consistency(old, new, rfc_root(old), rfc_root(new), hexes(proof))


@pytest.mark.parametrize(("index", "size", "path"), RFC_INCLUSION[1:])
def test_a_corrupted_rfc_inclusion_proof_fails(index: int, size: int, path: list[str]) -> None:
    proof, root, leaf = hexes(path), rfc_root(size), leaf_hash(RFC_LEAVES[index])
    probes = [
        (leaf, index - 1, size, proof, root),
        (leaf, index + 1, size, proof, root),
        (leaf, index ^ 2, size, proof, root),
        (leaf, index, size * 2, proof, root),
        (leaf, index, size // 2, proof, root),
        (leaf_hash(b"wrong leaf"), index, size, proof, root),
        (leaf, index, size, proof, EMPTY_ROOT),
        (leaf, index, size, [*proof, root], root),
        (leaf, index, size, [root, *proof], root),
        (leaf, index, size, proof[:-1], root),
        (leaf, index, size, [*proof, b""], root),
    ]
    for position in range(len(proof)):
        probes.append((leaf, index, size, flipped(proof, position, 3), root))
    for probe in probes:
        assert not verify_inclusion(*probe), probe


@pytest.mark.parametrize(("old", "new", "proof"), [v for v in RFC_CONSISTENCY if v[2]])
def test_a_corrupted_rfc_consistency_proof_fails(old: int, new: int, proof: list[str]) -> None:
    path, old_root, new_root = hexes(proof), rfc_root(old), rfc_root(new)
    probes = [
        (old - 1, new, old_root, new_root, path),
        (old + 1, new, old_root, new_root, path),
        (old ^ 2, new, old_root, new_root, path),
        (old, new * 2, old_root, new_root, path),
        (old, new // 2, old_root, new_root, path),
        (old, new, new_root, old_root, path),
        (old, new, EMPTY_ROOT, new_root, path),
        (old, new, old_root, EMPTY_ROOT, path),
        (old, new, old_root, new_root, []),
        (old, new, old_root, new_root, [*path, old_root]),
        (old, new, old_root, new_root, [new_root, *path]),
        (old, new, old_root, new_root, [path[0], *path]),
        (old, new, old_root, new_root, path[:-1]),
    ]
    for position in range(len(path)):
        probes.append((old, new, old_root, new_root, flipped(path, position, 4)))
    for probe in probes:
        assert not verify_consistency(*probe), probe


def test_degenerate_consistency_cases_follow_the_usual_conventions() -> None:
    root = rfc_root(3)
    assert verify_consistency(3, 3, root, root, [])
    assert not verify_consistency(3, 3, root, rfc_root(4), [])
    assert not verify_consistency(3, 3, root, root, [root])
    assert verify_consistency(0, 3, EMPTY_ROOT, root, [])
    assert not verify_consistency(4, 3, rfc_root(4), root, [root])
    assert not verify_consistency(1, 2, rfc_root(1), rfc_root(2), [])


def test_generating_a_proof_outside_the_tree_is_refused() -> None:
    tree = rfc_tree(8)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(tree, 8, 8)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(tree, 0, 8)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(tree, 5, 4)


def test_a_subtree_the_source_lacks_is_reported_by_level_and_index() -> None:
    with pytest.raises(MissingSubtree) as caught:
        root_hash(rfc_tree(4), 5)
    assert (caught.value.level, caught.value.idx) == (0, 4)


def test_the_tree_keeps_exactly_the_perfect_subtrees() -> None:
    tree = InMemoryTree(synthetic_leaves(6))
    leaves = synthetic_leaves(6)
    assert tree.subtree(1, 2) == node_hash(leaves[4], leaves[5])
    assert tree.subtree(2, 0) == spec_mth(leaves[:4])
    with pytest.raises(MissingSubtree):
        tree.subtree(2, 1)  # leaves 4..7 are not all there yet
    with pytest.raises(MissingSubtree):
        tree.subtree(3, 0)


# --- properties over arbitrary sizes ---------------------------------------------------------

sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=150, deadline=None)
@given(size=sizes, data=st.data())
def test_every_generated_inclusion_proof_verifies_and_a_flipped_bit_fails(
    size: int, data: st.DataObject
) -> None:
    leaves = synthetic_leaves(size)
    tree = InMemoryTree(leaves)
    root = root_hash(tree, size)
    assert root == spec_mth(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    proof = inclusion_proof(tree, index, size)
    assert proof == spec_path(index, leaves)
    assert verify_inclusion(leaves[index], index, size, proof, root)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1), label="position")
        bit = data.draw(st.integers(0, 255), label="bit")
        assert not verify_inclusion(leaves[index], index, size, flipped(proof, position, bit), root)
    if size > 1:
        other = (index + 1) % size
        assert not verify_inclusion(leaves[other], index, size, proof, root)
        assert not verify_inclusion(leaves[index], other, size, proof, root)


@settings(max_examples=150, deadline=None)
@given(new_size=st.integers(min_value=2, max_value=300), data=st.data())
def test_every_generated_consistency_proof_verifies_and_a_flipped_bit_fails(
    new_size: int, data: st.DataObject
) -> None:
    leaves = synthetic_leaves(new_size)
    tree = InMemoryTree(leaves)
    old_size = data.draw(st.integers(min_value=1, max_value=new_size - 1), label="old_size")
    old_root, new_root = root_hash(tree, old_size), root_hash(tree, new_size)
    proof = consistency_proof(tree, old_size, new_size)
    assert proof == spec_subproof(old_size, leaves, True)
    assert verify_consistency(old_size, new_size, old_root, new_root, proof)
    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    bit = data.draw(st.integers(0, 255), label="bit")
    damaged = flipped(proof, position, bit)
    assert not verify_consistency(old_size, new_size, old_root, new_root, damaged)
    # A history that differs in any old leaf is not consistent with the signed old root.
    rewritten = list(leaves)
    victim = data.draw(st.integers(0, old_size - 1), label="victim")
    rewritten[victim] = leaf_hash(b"rewritten")
    forged = InMemoryTree(rewritten)
    forged_proof = consistency_proof(forged, old_size, new_size)
    assert not verify_consistency(
        old_size, new_size, old_root, root_hash(forged, new_size), forged_proof
    )


@settings(max_examples=50, deadline=None)
@given(size=st.integers(min_value=0, max_value=600))
def test_the_frontier_and_the_stored_subtrees_agree_on_every_root(size: int) -> None:
    leaves = synthetic_leaves(size)
    tree, frontier = InMemoryTree(), Frontier()
    for leaf in leaves:
        tree.append(leaf)
        frontier.append(leaf)
    assert frontier.size == tree.size == size
    assert frontier.root() == root_hash(tree, size) == spec_mth(leaves)
