"""Tamper evidence for the registry: signed tree heads over the audit ledger, inclusion proofs
for one case, and the verifier that recomputes everything from the rows.

The ledger's hash chain shows that no entry was edited *unless the editor recomputed every hash
after it*; the Merkle tree heads signed with the registry's own key and handed to an outside
party (the prosecutor) close that gap: a rewritten history no longer reproduces a root that was
signed before the rewrite. The verifier therefore trusts nothing stored in the database: it
recomputes every entry, every tree node and every signed root, and compares the state tables
with the last ledger entry of each fixation and case.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import heapq
import json
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from central_ingest.core import merkle
from central_ingest.core.clock import iso
from central_ingest.core.ledger import GENESIS_HASH, LedgerEntry
from central_ingest.store.db import Store
from contract import DeviceKey, canonical_json, load_public_key, verify_signature
from contract.signing import b64url_decode

MAX_LISTED_PROBLEMS = 1000
"""A wholesale rewrite can produce a problem per row; the report lists this many and counts
the rest."""

_PROGRESS_EVERY = 8192
_LEDGER_COLUMNS = (
    "seq, recorded_at, entity_type, entity_id, action, actor, payload, prev_hash, entry_hash,"
    " leaf_hash"
)

ProgressCallback = Callable[[str, int, int], None]
"""Called as (stage, done, total) while a long verification runs."""


class AuditError(Exception):
    """An audit operation that cannot be carried out; ``code`` is stable for machines."""

    code = "audit_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TreeHeadRefused(AuditError):
    code = "tree_head_inconsistent"


class UnknownCase(AuditError):
    code = "unknown_case"


class RegistryKeyError(AuditError):
    code = "registry_key_unusable"


# --- signed tree heads ----------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def key_id(public_key_b64: str) -> str:
    """SHA-256 (hex) of the raw 32-byte Ed25519 public key."""
    return hashlib.sha256(b64url_decode(public_key_b64)).hexdigest()


@functools.lru_cache(maxsize=16)
def _public_key(public_key_b64: str) -> Ed25519PublicKey:
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


def _head_from_row(row: Sequence[Any]) -> TreeHead:
    tree_size, root_hash, signed_at, head_key_id, signature = row
    return TreeHead(
        int(tree_size), str(root_hash), str(signed_at), str(head_key_id), str(signature)
    )


def _latest_head(db: sqlite_utils.Database) -> TreeHead | None:
    row = db.conn.execute(
        "SELECT tree_size, root_hash, signed_at, key_id, signature FROM tree_heads"
        " ORDER BY tree_size DESC LIMIT 1"
    ).fetchone()
    return None if row is None else _head_from_row(row)


def latest_tree_head(store: Store) -> TreeHead | None:
    return _latest_head(store.db)


def _ledger_size(db: sqlite_utils.Database) -> int:
    (size,) = db.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM ledger").fetchone()
    return int(size)


def sign_tree_head(store: Store, key: DeviceKey, now: datetime) -> TreeHead | None:
    """Sign the current tree, or return None when the ledger has not grown since the last head.

    Costs O(log n) look-ups of stored subtrees, whatever the ledger's length. Refuses
    (TreeHeadRefused) to sign a tree that is not an extension of the last signed one: a log
    must never sign two diverging histories."""
    with store.transaction() as db:
        size = _ledger_size(db)
        previous = _latest_head(db)
        if size == 0 or (previous is not None and previous.tree_size >= size):
            return None
        source = SqliteSubtreeSource(db)
        root = merkle.root_hash(source, size)
        if previous is not None:
            _require_extension(source, previous, size, root)
        unsigned = TreeHead(size, root.hex(), iso(now), key_id(key.public_key_b64), signature="")
        head = dataclasses.replace(unsigned, signature=key.sign(unsigned.signed_bytes()))
        db.conn.execute(
            "INSERT INTO tree_heads (tree_size, root_hash, signed_at, key_id, signature)"
            " VALUES (?, ?, ?, ?, ?)",
            (head.tree_size, head.root_hash, head.timestamp, head.key_id, head.signature),
        )
    return head


def _require_extension(
    source: SqliteSubtreeSource, previous: TreeHead, size: int, root: bytes
) -> None:
    refusal = TreeHeadRefused(
        f"refusing to sign a tree head at size {size}: the ledger is no longer an extension of"
        f" the tree head signed at size {previous.tree_size}; run 'verify' to find what changed"
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
            f"the registry key {path} is accessible to other users (mode"
            f" {stat.S_IMODE(mode):o}); restrict it with 'chmod 600 {path}'"
        )
    try:
        return DeviceKey.load(path)
    except ValueError as exc:
        raise RegistryKeyError(f"the registry key {path} cannot be used: {exc}") from None


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


# --- the stored tree ------------------------------------------------------------------------


def _as_hash(value: object) -> bytes:
    """A stored hash as bytes; anything that is not a BLOB (an edit with the sqlite3 shell
    often writes text) becomes bytes that can never equal a real hash."""
    if isinstance(value, bytes):
        return value
    return b"not a hash: " + str(value).encode()


def _leaf_from_hex(value: object) -> bytes:
    try:
        return bytes.fromhex(value) if isinstance(value, str) else _as_hash(value)
    except ValueError:
        return _as_hash(value)


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
        value = _as_hash(row[0])
        if self._cache_size:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[(level, idx)] = value
        return value


# --- inclusion proofs for one case ----------------------------------------------------------


@dataclass(frozen=True)
class LedgerProof:
    """One ledger entry with its leaf index and its audit path to the tree head's root; the
    path is None when the entry is newer than the latest signed tree head."""

    entry: LedgerEntry
    leaf_index: int
    audit_path: tuple[bytes, ...] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.entry.seq,
            "leaf_index": self.leaf_index,
            "entry": dataclasses.asdict(self.entry),
            "leaf_hash": self.entry.leaf_hash.hex(),
            "audit_path": (
                None if self.audit_path is None else [node.hex() for node in self.audit_path]
            ),
        }


@dataclass(frozen=True)
class CaseProofs:
    case_number: str
    tree_head: TreeHead | None
    entries: tuple[LedgerProof, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "case_number": self.case_number,
            "tree_head": None if self.tree_head is None else self.tree_head.to_json(),
            "entries": [proof.to_json() for proof in self.entries],
        }


def _entry_from_row(row: Sequence[Any]) -> LedgerEntry:
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
        seq=seq, recorded_at=recorded_at, entity_type=entity_type, entity_id=entity_id,
        action=action, actor=actor, payload=parsed, prev_hash=prev_hash,
    )


def _case_entities(db: sqlite_utils.Database, case_number: str) -> list[tuple[str, str]]:
    """The ledger entities whose history is the case's history: the case, the fixation it was
    opened from, its payments, cancellation requests and bailiff hand-overs."""
    entities = [("case", case_number), ("bailiff", case_number)]
    entities += [
        ("fixation", str(fixation_id))
        for (fixation_id,) in db.conn.execute(
            "SELECT fixation_id FROM cases WHERE case_number = ?", (case_number,)
        )
    ]
    entities += [
        ("payment", str(payment_id))
        for (payment_id,) in db.conn.execute(
            "SELECT payment_id FROM payments WHERE matched_case = ? OR case_number = ?",
            (case_number, case_number),
        )
    ]
    entities += [
        ("cancellation", str(request_id))
        for (request_id,) in db.conn.execute(
            "SELECT request_id FROM cancellation_requests WHERE case_number = ?", (case_number,)
        )
    ]
    return entities


def _case_proofs(
    db: sqlite_utils.Database, case_number: str, head: TreeHead | None, source: merkle.SubtreeSource
) -> CaseProofs:
    entities = _case_entities(db, case_number)
    condition = " OR ".join(["(entity_type = ? AND entity_id = ?)"] * len(entities))
    rows = db.conn.execute(
        f"SELECT {_LEDGER_COLUMNS} FROM ledger WHERE {condition} ORDER BY seq",
        [value for entity in entities for value in entity],
    ).fetchall()
    case_known = db.conn.execute(
        "SELECT 1 FROM cases WHERE case_number = ?", (case_number,)
    ).fetchone()
    if not rows and case_known is None:
        raise UnknownCase(f"case {case_number} is not in the registry")
    proofs = []
    for row in rows:
        entry = _entry_from_row(row)
        index = entry.seq - 1
        path = None
        if head is not None and entry.seq <= head.tree_size:
            path = tuple(merkle.inclusion_proof(source, index, head.tree_size))
        proofs.append(LedgerProof(entry, index, path))
    return CaseProofs(case_number, head, tuple(proofs))


def case_inclusion_proofs(store: Store, case_number: str) -> CaseProofs:
    """Every ledger entry of the case (and of its fixation, payments, cancellations and
    hand-overs) with an inclusion proof against the latest signed tree head.

    Raises UnknownCase when neither the case nor any ledger entry of it exists, ValueError when
    a stored entry cannot be parsed, merkle.MissingSubtree when the stored tree lacks a node."""
    db = store.db
    with _read_snapshot(db):
        return _case_proofs(db, case_number, _latest_head(db), SqliteSubtreeSource(db))


# --- the verifier ---------------------------------------------------------------------------


@dataclass
class AuditReport:
    """What the verifier found. ``problems`` are signs of tampering, one sentence each;
    ``warnings`` are facts a reader should know that are not tampering."""

    problems: list[str] = field(default_factory=list)
    problems_not_listed: int = 0
    warnings: list[str] = field(default_factory=list)
    entries_checked: int = 0
    tree_heads_checked: int = 0
    nodes_checked: int = 0
    records_checked: int = 0
    inclusion_proofs_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.problems_not_listed

    def problem(self, sentence: str) -> None:
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(sentence)
        else:
            self.problems_not_listed += 1


@contextmanager
def _read_snapshot(db: sqlite_utils.Database) -> Iterator[None]:
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


class _Progress:
    def __init__(self, callback: ProgressCallback | None, stage: str, total: int) -> None:
        self._callback, self._stage, self._total, self.done = callback, stage, total, 0

    def step(self) -> None:
        self.done += 1
        if self._callback is not None and self.done % _PROGRESS_EVERY == 0:
            self._callback(self._stage, self.done, self._total)

    def finish(self) -> None:
        if self._callback is not None:
            self._callback(self._stage, self.done, self._total)


def _count(db: sqlite_utils.Database, sql: str) -> int:
    return int(db.conn.execute(sql).fetchone()[0])


def verify_registry(
    store: Store,
    registry_public_key_b64: str,
    case_number: str | None = None,
    *,
    trusted_heads: Sequence[TreeHead] = (),
    progress: ProgressCallback | None = None,
) -> AuditReport:
    """Recompute and cross-check everything the audit relies on; see the module docstring.

    ``registry_public_key_b64`` is the tree-head key as the outside party knows it;
    ``trusted_heads`` are heads the outside party kept, which a rewrite by someone holding the
    registry's key still cannot reproduce. Raises UnknownCase for a case_number that neither
    the cases table nor the ledger knows."""
    load_public_key(registry_public_key_b64)  # refuse a malformed key before reading anything
    report = AuditReport()
    db = store.db
    with _read_snapshot(db):
        size = _ledger_size(db)
        source = SqliteSubtreeSource(db, cache_size=1 << 16)
        unusable = _check_tree_heads(db, registry_public_key_b64, size, source, report, progress)
        kept = []
        for head in trusted_heads:
            if head.signature_valid(registry_public_key_b64):
                kept.append(head)
            else:
                report.problem(
                    f"the kept tree head at size {head.tree_size} is not signed by the registry"
                    " key given, so it cannot vouch for anything"
                )
        _check_ledger(db, size, unusable, kept, report, progress)
        _check_nodes(db, size, report, progress)
        _check_state(db, report, progress)
        if case_number is not None:
            _check_case(db, case_number, registry_public_key_b64, source, report)
        if size and report.tree_heads_checked == 0:
            report.warnings.append(
                "no signed tree head exists yet: the ledger is protected only by its hash chain"
            )
        else:
            latest = _latest_head(db)
            if latest is not None and latest.tree_size < size:
                report.warnings.append(
                    f"{size - latest.tree_size} ledger entries are newer than the latest signed"
                    f" tree head (size {latest.tree_size}) and are covered only by the hash chain"
                )
    return report


def _check_tree_heads(
    db: sqlite_utils.Database,
    public_key_b64: str,
    ledger_size: int,
    source: SqliteSubtreeSource,
    report: AuditReport,
    progress: ProgressCallback | None,
) -> set[int]:
    """Signatures, and consistency proofs between successive validly signed heads. Returns the
    sizes of heads that cannot be trusted (their roots are not compared with the ledger)."""
    expected_key = key_id(public_key_b64)
    counter = _Progress(progress, "tree heads", _count(db, "SELECT COUNT(*) FROM tree_heads"))
    unusable: set[int] = set()
    previous: TreeHead | None = None
    rows = db.conn.execute(
        "SELECT tree_size, root_hash, signed_at, key_id, signature FROM tree_heads"
        " ORDER BY tree_size"
    )
    for row in rows:
        head = _head_from_row(row)
        counter.step()
        report.tree_heads_checked += 1
        if head.tree_size < 1:
            report.problem(f"the tree head at size {head.tree_size} cannot have been signed")
            unusable.add(head.tree_size)
            continue
        if head.key_id != expected_key:
            report.problem(
                f"the tree head at size {head.tree_size} names signing key {head.key_id[:16]}…,"
                f" not the registry key {expected_key[:16]}…: it was not made by the registry"
            )
            unusable.add(head.tree_size)
            continue
        if not head.signature_valid(public_key_b64):
            report.problem(
                f"the tree head at size {head.tree_size} has an invalid signature: it was forged"
                " or edited after signing"
            )
            unusable.add(head.tree_size)
            continue
        if head.root is None:
            report.problem(f"the tree head at size {head.tree_size} holds no valid root hash")
            unusable.add(head.tree_size)
            continue
        if previous is not None and previous.root is not None and head.tree_size <= ledger_size:
            _check_consistency(source, previous, head, report)
        previous = head
    counter.finish()
    return unusable


def _check_consistency(
    source: SqliteSubtreeSource, older: TreeHead, newer: TreeHead, report: AuditReport
) -> None:
    assert older.root is not None and newer.root is not None
    try:
        proof = merkle.consistency_proof(source, older.tree_size, newer.tree_size)
    except merkle.MissingSubtree as missing:
        report.problem(
            f"no consistency proof can be built between the tree heads at sizes"
            f" {older.tree_size} and {newer.tree_size}: {missing}"
        )
        return
    if not merkle.verify_consistency(
        older.tree_size, newer.tree_size, older.root, newer.root, proof
    ):
        report.problem(
            f"the tree heads at sizes {older.tree_size} and {newer.tree_size} are not consistent:"
            " the stored tree no longer extends the older signed tree"
        )


def _describe(row: Sequence[Any]) -> str:
    seq, entity_type, entity_id, action, actor = row[0], row[2], row[3], row[4], row[5]
    return f"ledger entry seq {seq} ({entity_type} {entity_id}, {action} by {actor})"


def _check_ledger(
    db: sqlite_utils.Database,
    size: int,
    unusable_heads: set[int],
    trusted_heads: Sequence[TreeHead],
    report: AuditReport,
    progress: ProgressCallback | None,
) -> None:
    """One streaming pass over the ledger: every entry recomputed, the chain and the sequence
    followed, every stored leaf compared, and the root recomputed at every signed size."""
    counter = _Progress(progress, "ledger entries", size)
    stored_leaves = _dense_level(db, 0, size, report)
    checkpoints = heapq.merge(
        (
            (int(tree_size), str(root_hash), "signed tree head")
            for tree_size, root_hash in db.conn.execute(
                "SELECT tree_size, root_hash FROM tree_heads ORDER BY tree_size"
            )
            if int(tree_size) not in unusable_heads
        ),
        sorted((head.tree_size, head.root_hash, "kept tree head") for head in trusted_heads),
    )
    pending = next(checkpoints, None)
    frontier = merkle.Frontier()
    expected_seq, previous_hash, first_missing = 1, GENESIS_HASH, None
    next_leaf_index = 0
    for row in db.conn.execute(f"SELECT {_LEDGER_COLUMNS} FROM ledger ORDER BY seq"):
        seq, stored_prev, stored_entry_hash, stored_leaf = row[0], row[7], row[8], row[9]
        counter.step()
        report.entries_checked += 1
        if seq < expected_seq:
            report.problem(f"the ledger holds a row with seq {seq}, outside the sequence from 1")
            continue
        if seq > expected_seq:
            report.problem(
                f"ledger entry seq {expected_seq} is missing: the row was deleted"
                if seq == expected_seq + 1
                else f"ledger entries seq {expected_seq}-{seq - 1} are missing: the rows were"
                " deleted"
            )
            first_missing = first_missing or expected_seq
        elif stored_prev != previous_hash:
            report.problem(
                f"ledger entry seq {seq} does not follow seq {seq - 1}: its prev_hash is not the"
                f" entry_hash of seq {seq - 1} (the chain is broken)"
                if seq > 1
                else "ledger entry seq 1 does not start the chain: its prev_hash is not the"
                " genesis hash"
            )
        altered: list[str] = []
        try:
            entry: LedgerEntry | None = _entry_from_row(row)
        except ValueError as exc:
            entry = None
            report.problem(f"{_describe(row)} cannot be recomputed: {exc}")
        leaf: bytes
        if entry is not None:
            leaf = entry.leaf_hash
            altered = [
                name
                for name, same in (
                    ("entry_hash", entry.entry_hash == stored_entry_hash),
                    ("leaf_hash", leaf.hex() == stored_leaf),
                )
                if not same
            ]
            if altered:
                report.problem(
                    f"{_describe(row)} was altered after it was written: its content no"
                    f" longer matches its recorded {' and '.join(altered)}"
                )
        else:
            leaf = _leaf_from_hex(stored_leaf)
        stored: bytes | None = None
        while next_leaf_index < seq:
            stored = next(stored_leaves)
            next_leaf_index += 1
        if entry is not None and not altered and stored is not None and stored != leaf:
            report.problem(
                f"the stored Merkle leaf {seq - 1} does not match ledger entry seq {seq}"
            )
        frontier.append(leaf)
        while pending is not None and pending[0] <= seq:
            _compare_checkpoint(pending, frontier, first_missing, report)
            pending = next(checkpoints, None)
        expected_seq, previous_hash = seq + 1, stored_entry_hash
    for _ in stored_leaves:  # reports Merkle leaves that no ledger entry accounts for
        pass
    while pending is not None:
        tree_size, _root, label = pending
        report.problem(
            f"the {label} at size {tree_size} covers more entries than the ledger holds"
            f" ({size}): entries were removed"
        )
        pending = next(checkpoints, None)
    counter.finish()


def _compare_checkpoint(
    checkpoint: tuple[int, str, str],
    frontier: merkle.Frontier,
    first_missing: int | None,
    report: AuditReport,
) -> None:
    tree_size, root_hash, label = checkpoint
    if first_missing is not None and first_missing <= tree_size:
        report.problem(
            f"the {label} at size {tree_size} cannot be reproduced: ledger entry seq"
            f" {first_missing} is missing"
        )
    elif frontier.size != tree_size or frontier.root().hex() != root_hash:
        report.problem(
            f"the {label} at size {tree_size} does not match the ledger: the entries 1-{tree_size}"
            " no longer hash to the root that was signed (they were rewritten)"
        )


def _dense_level(
    db: sqlite_utils.Database, level: int, count: int, report: AuditReport | None
) -> Iterator[bytes | None]:
    """The stored nodes of one level for idx 0..count-1, None where one is missing. With a
    report, missing nodes and nodes beyond the tree's size are reported."""
    expected = 0
    rows = db.conn.execute(
        "SELECT idx, hash FROM merkle_nodes WHERE level = ? ORDER BY idx", (level,)
    )
    for idx, value in rows:
        if idx < expected or idx >= count:
            if report is not None:
                report.problem(
                    f"the Merkle node at level {level}, index {idx} does not belong to a tree of"
                    f" {count << level} entries: it was added behind the service's back or its"
                    " ledger entries were removed"
                )
            continue
        while expected < idx:
            if report is not None:
                report.problem(f"the Merkle node at level {level}, index {expected} is missing")
            yield None
            expected += 1
        yield _as_hash(value)
        expected += 1
    while expected < count:
        if report is not None:
            report.problem(f"the Merkle node at level {level}, index {expected} is missing")
        yield None
        expected += 1


def _check_nodes(
    db: sqlite_utils.Database, size: int, report: AuditReport, progress: ProgressCallback | None
) -> None:
    """Every stored node above the leaves recomputed from its two stored children (the leaves
    themselves were compared with the ledger). An edited node fails against its children, and
    its parent fails against it."""
    counter = _Progress(
        progress, "Merkle nodes", _count(db, "SELECT COUNT(*) FROM merkle_nodes WHERE level > 0")
    )
    report.nodes_checked += size
    level = 1
    while size >> level:
        children = _dense_level(db, level - 1, size >> (level - 1), None)
        for idx, parent in enumerate(_dense_level(db, level, size >> level, report)):
            left, right = next(children), next(children)
            counter.step()
            report.nodes_checked += 1
            if parent is None or left is None or right is None:
                continue
            if merkle.node_hash(left, right) != parent:
                report.problem(
                    f"the Merkle node at level {level}, index {idx} does not match its two"
                    " children: the stored tree was edited"
                )
        level += 1
    for stray_level, idx in db.conn.execute(
        "SELECT level, idx FROM merkle_nodes WHERE level < 0 OR level >= ? ORDER BY level, idx",
        (level,),
    ):
        report.problem(
            f"the Merkle node at level {stray_level}, index {idx} does not belong to a tree of"
            f" {size} entries: it was added behind the service's back"
        )
    counter.finish()


def _payload(text: object) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


_LAST_ENTRY = (
    "LEFT JOIN ledger AS l ON l.seq = (SELECT MAX(seq) FROM ledger"
    " WHERE entity_type = '{kind}' AND entity_id = {key})"
)


def _check_state(
    db: sqlite_utils.Database, report: AuditReport, progress: ProgressCallback | None
) -> None:
    """Each fixation's and case's current row against the last ledger entry about it: a row
    edited without a ledger entry, or written without one at all, shows up here."""
    total = _count(db, "SELECT (SELECT COUNT(*) FROM fixations) + (SELECT COUNT(*) FROM cases)")
    counter = _Progress(progress, "fixations and cases", total)
    fixations = db.conn.execute(
        "SELECT f.fixation_id, f.status, l.seq, l.payload FROM fixations AS f "
        + _LAST_ENTRY.format(kind="fixation", key="f.fixation_id")
    )
    for fixation_id, status, seq, payload in fixations:
        counter.step()
        report.records_checked += 1
        _compare_state(report, "fixation", fixation_id, {"status": status}, seq, payload)
    cases = db.conn.execute(
        "SELECT c.case_number, c.status, c.paid_minor, l.seq, l.payload FROM cases AS c "
        + _LAST_ENTRY.format(kind="case", key="c.case_number")
    )
    for case_number, status, paid_minor, seq, payload in cases:
        counter.step()
        report.records_checked += 1
        current = {"status": status, "paid_minor": paid_minor}
        _compare_state(report, "case", case_number, current, seq, payload)
    for kind, table, key in (
        ("fixation", "fixations", "fixation_id"),
        ("case", "cases", "case_number"),
    ):
        orphans = db.conn.execute(
            f"SELECT DISTINCT entity_id FROM ledger WHERE entity_type = ? AND entity_id NOT IN"
            f" (SELECT {key} FROM {table}) ORDER BY entity_id",
            (kind,),
        )
        for (entity_id,) in orphans:
            report.problem(
                f"{kind} {entity_id} is in the ledger but has no row in {table}: the row was"
                " deleted behind the service's back"
            )
    counter.finish()


def _compare_state(
    report: AuditReport,
    kind: str,
    entity_id: str,
    current: dict[str, Any],
    seq: int | None,
    payload_text: object,
) -> None:
    if seq is None:
        report.problem(
            f"{kind} {entity_id} has no ledger entry at all: it was written behind the service's"
            " back"
        )
        return
    recorded = _payload(payload_text)
    if recorded is None:
        report.problem(
            f"{kind} {entity_id}: its last ledger entry (seq {seq}) has no readable payload"
        )
        return
    for column, value in current.items():
        if recorded.get(column) != value:
            report.problem(
                f"{kind} {entity_id} has {column} {value!r} in its table but"
                f" {recorded.get(column)!r} in its last ledger entry (seq {seq}): the row was"
                " edited behind the service's back"
            )


def _check_case(
    db: sqlite_utils.Database,
    case_number: str,
    public_key_b64: str,
    source: SqliteSubtreeSource,
    report: AuditReport,
) -> None:
    head = _latest_head(db)
    try:
        proofs = _case_proofs(db, case_number, head, source)
    except ValueError as exc:
        report.problem(
            f"the inclusion proofs of case {case_number} cannot be built: an entry {exc}"
        )
        return
    except merkle.MissingSubtree as missing:
        report.problem(f"the inclusion proofs of case {case_number} cannot be built: {missing}")
        return
    if head is None or not head.signature_valid(public_key_b64) or head.root is None:
        report.warnings.append(
            f"no validly signed tree head covers case {case_number}: its entries are protected"
            " only by the hash chain"
        )
        return
    uncovered = 0
    for proof in proofs.entries:
        if proof.audit_path is None:
            uncovered += 1
            continue
        report.inclusion_proofs_checked += 1
        if not merkle.verify_inclusion(
            proof.entry.leaf_hash, proof.leaf_index, head.tree_size, proof.audit_path, head.root
        ):
            report.problem(
                f"ledger entry seq {proof.entry.seq} of case {case_number}"
                f" ({proof.entry.entity_type} {proof.entry.action}) is not included in the signed"
                f" tree head at size {head.tree_size}: its inclusion proof fails"
            )
    if uncovered:
        report.warnings.append(
            f"{uncovered} ledger entries of case {case_number} are newer than the latest signed"
            f" tree head (size {head.tree_size})"
        )
