"""The verifier: recomputes every ledger entry, Merkle node and signed root from the rows,
and compares each fixation's and case's state with its last ledger entry."""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from central_ingest.audit.heads import TreeHead, head_from_row, key_id, latest_head
from central_ingest.audit.proofs import case_proofs
from central_ingest.audit.tree import StoredSubtreeSource, entry_from_row, leaf_from_hex
from central_ingest.core import merkle
from central_ingest.core.ledger import GENESIS_HASH, LedgerEntry
from central_ingest.store.audit import AuditTables, read_snapshot
from central_ingest.store.db import Store
from contract import load_public_key

MAX_LISTED_PROBLEMS = 1000
"""A wholesale rewrite can produce a problem per row; the report lists this many and counts
the rest."""

_PROGRESS_EVERY = 8192
ProgressCallback = Callable[[str, int, int], None]
"""Called as (stage, done, total) while a long verification runs."""


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
    with read_snapshot(store) as tables:
        size = tables.ledger_size()
        source = StoredSubtreeSource(tables, cache_size=1 << 16)
        unusable = _check_tree_heads(
            tables, registry_public_key_b64, size, source, report, progress
        )
        kept = []
        for head in trusted_heads:
            if head.signature_valid(registry_public_key_b64):
                kept.append(head)
            else:
                report.problem(
                    f"the kept tree head at size {head.tree_size} is not signed by the registry"
                    " key given, so it cannot vouch for anything"
                )
        _check_ledger(tables, size, unusable, kept, report, progress)
        _check_nodes(tables, size, report, progress)
        _check_state(tables, report, progress)
        if case_number is not None:
            _check_case(tables, case_number, registry_public_key_b64, source, report)
        if size and report.tree_heads_checked == 0:
            report.warnings.append(
                "no signed tree head exists yet: the ledger is protected only by its hash chain"
            )
        else:
            latest = latest_head(tables)
            if latest is not None and latest.tree_size < size:
                report.warnings.append(
                    f"{size - latest.tree_size} ledger entries are newer than the latest signed"
                    f" tree head (size {latest.tree_size}) and are covered only by the hash chain"
                )
    return report


def _check_tree_heads(
    tables: AuditTables,
    public_key_b64: str,
    ledger_size: int,
    source: merkle.SubtreeSource,
    report: AuditReport,
    progress: ProgressCallback | None,
) -> set[int]:
    """Signatures, and consistency proofs between successive validly signed heads. Returns the
    sizes of heads that cannot be trusted (their roots are not compared with the ledger)."""
    expected_key = key_id(public_key_b64)
    counter = _Progress(progress, "tree heads", tables.tree_head_count())
    unusable: set[int] = set()
    previous: TreeHead | None = None
    for row in tables.tree_heads():
        head = head_from_row(row)
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
    source: merkle.SubtreeSource, older: TreeHead, newer: TreeHead, report: AuditReport
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
    tables: AuditTables,
    size: int,
    unusable_heads: set[int],
    trusted_heads: Sequence[TreeHead],
    report: AuditReport,
    progress: ProgressCallback | None,
) -> None:
    """One streaming pass over the ledger: every entry recomputed, the chain and the sequence
    followed, every stored leaf compared, and the root recomputed at every signed size."""
    counter = _Progress(progress, "ledger entries", size)
    stored_leaves = _dense_level(tables, 0, size, report)
    checkpoints = heapq.merge(
        (
            (int(tree_size), str(root_hash), "signed tree head")
            for tree_size, root_hash, *_signed in tables.tree_heads()
            if int(tree_size) not in unusable_heads
        ),
        sorted((head.tree_size, head.root_hash, "kept tree head") for head in trusted_heads),
    )
    pending = next(checkpoints, None)
    frontier = merkle.Frontier()
    expected_seq, previous_hash, first_missing = 1, GENESIS_HASH, None
    next_leaf_index = 0
    for row in tables.ledger_rows():
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
            entry: LedgerEntry | None = entry_from_row(row)
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
            leaf = leaf_from_hex(stored_leaf)
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
    tables: AuditTables, level: int, count: int, report: AuditReport | None
) -> Iterator[bytes | None]:
    """The stored nodes of one level for idx 0..count-1, None where one is missing. With a
    report, missing nodes and nodes beyond the tree's size are reported."""
    expected = 0
    for idx, value in tables.merkle_level(level):
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
        yield value
        expected += 1
    while expected < count:
        if report is not None:
            report.problem(f"the Merkle node at level {level}, index {expected} is missing")
        yield None
        expected += 1


def _check_nodes(
    tables: AuditTables, size: int, report: AuditReport, progress: ProgressCallback | None
) -> None:
    """Every stored node above the leaves recomputed from its two stored children (the leaves
    themselves were compared with the ledger). An edited node fails against its children, and
    its parent fails against it."""
    counter = _Progress(progress, "Merkle nodes", tables.inner_node_count())
    report.nodes_checked += size
    level = 1
    while size >> level:
        children = _dense_level(tables, level - 1, size >> (level - 1), None)
        for idx, parent in enumerate(_dense_level(tables, level, size >> level, report)):
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
    for stray_level, idx in tables.nodes_outside_levels(level):
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


def _check_state(
    tables: AuditTables, report: AuditReport, progress: ProgressCallback | None
) -> None:
    """Each fixation's and case's current row against the last ledger entry about it: a row
    edited without a ledger entry, or written without one at all, shows up here."""
    counter = _Progress(progress, "fixations and cases", tables.state_record_count())
    for fixation_id, status, seq, payload in tables.fixation_states():
        counter.step()
        report.records_checked += 1
        _compare_state(report, "fixation", fixation_id, {"status": status}, seq, payload)
    for case_number, status, paid_minor, seq, payload in tables.case_states():
        counter.step()
        report.records_checked += 1
        current = {"status": status, "paid_minor": paid_minor}
        _compare_state(report, "case", case_number, current, seq, payload)
    for kind, table in (("fixation", "fixations"), ("case", "cases")):
        for entity_id in tables.entities_without_row(kind):
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
    tables: AuditTables,
    case_number: str,
    public_key_b64: str,
    source: merkle.SubtreeSource,
    report: AuditReport,
) -> None:
    head = latest_head(tables)
    try:
        proofs = case_proofs(tables, case_number, head, source)
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
