"""The verifier's checks of the ledger and its stored Merkle tree: every entry recomputed, the
hash chain and the sequence followed, every stored node recomputed from its children, and the
root recomputed at every signed size. Each finding is a sentence for the prosecutor
(``i18n.Text``, rendered in the reader's language)."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from typing import Any

from central_ingest.audit.heads import TreeHead
from central_ingest.audit.report import (
    STAGE_LEDGER,
    STAGE_NODES,
    AuditReport,
    Progress,
    ProgressCallback,
)
from central_ingest.audit.tree import UnreadableEntry, entry_from_row, leaf_from_hex
from central_ingest.core import merkle
from central_ingest.core.ledger import GENESIS_HASH, LedgerEntry
from central_ingest.store.audit import AuditTables
from i18n import Text

# A checkpoint: (tree size, root hash, whether the head was signed in the registry (True) or
# kept outside it (False)).
_Checkpoint = tuple[int, str, bool]


def _entry_params(row: Sequence[Any]) -> dict[str, object]:
    """What names a ledger entry in a sentence: its seq and what it recorded. Entity types,
    actions and actors are the ledger's own codes, shown as stored."""
    return {
        "seq": row[0],
        "entity_type": row[2],
        "entity_id": row[3],
        "action": row[4],
        "actor": row[5],
    }


def check_ledger(
    tables: AuditTables,
    size: int,
    unusable_heads: set[int],
    trusted_heads: Sequence[TreeHead],
    report: AuditReport,
    progress: ProgressCallback | None,
) -> None:
    """One streaming pass over the ledger: every entry recomputed, the chain and the sequence
    followed, every stored leaf compared, and the root recomputed at every signed size."""
    counter = Progress(progress, STAGE_LEDGER, size)
    stored_leaves = _dense_level(tables, 0, size, report)
    checkpoints = heapq.merge(
        (
            (int(tree_size), str(root_hash), True)
            for tree_size, root_hash, *_signed in tables.tree_heads()
            if int(tree_size) not in unusable_heads
        ),
        sorted((head.tree_size, head.root_hash, False) for head in trusted_heads),
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
            report.problem(
                Text(
                    "The ledger holds a row with seq %(seq)s, outside the sequence from 1.", seq=seq
                )
            )
            continue
        if seq > expected_seq:
            report.problem(
                Text("Ledger entry seq %(seq)s is missing: the row was deleted.", seq=expected_seq)
                if seq == expected_seq + 1
                else Text(
                    "Ledger entries seq %(first)s-%(last)s are missing: the rows were deleted.",
                    first=expected_seq,
                    last=seq - 1,
                )
            )
            first_missing = first_missing or expected_seq
        elif stored_prev != previous_hash:
            report.problem(
                Text(
                    "Ledger entry seq %(seq)s does not follow seq %(previous)s: its prev_hash is"
                    " not the entry_hash of seq %(previous)s (the chain is broken).",
                    seq=seq,
                    previous=seq - 1,
                )
                if seq > 1
                else Text(
                    "Ledger entry seq 1 does not start the chain: its prev_hash is not the"
                    " genesis hash."
                )
            )
        altered: list[str] = []
        try:
            entry: LedgerEntry | None = entry_from_row(row)
        except UnreadableEntry as exc:
            entry = None
            report.problem(
                Text(
                    "Ledger entry seq %(seq)s (%(entity_type)s %(entity_id)s, %(action)s by"
                    " %(actor)s) cannot be recomputed: %(reason)s.",
                    reason=exc.text,
                    **_entry_params(row),
                )
            )
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
                    Text(
                        "Ledger entry seq %(seq)s (%(entity_type)s %(entity_id)s, %(action)s by"
                        " %(actor)s) was altered after it was written: its content no longer"
                        " matches its recorded %(fields)s.",
                        fields=", ".join(altered),
                        **_entry_params(row),
                    )
                )
        else:
            leaf = leaf_from_hex(stored_leaf)
        stored: bytes | None = None
        while next_leaf_index < seq:
            stored = next(stored_leaves)
            next_leaf_index += 1
        if entry is not None and not altered and stored is not None and stored != leaf:
            report.problem(
                Text(
                    "The stored Merkle leaf %(index)s does not match ledger entry seq %(seq)s.",
                    index=seq - 1,
                    seq=seq,
                )
            )
        frontier.append(leaf)
        while pending is not None and pending[0] <= seq:
            _compare_checkpoint(pending, frontier, first_missing, report)
            pending = next(checkpoints, None)
        expected_seq, previous_hash = seq + 1, stored_entry_hash
    for _ in stored_leaves:  # reports Merkle leaves that no ledger entry accounts for
        pass
    while pending is not None:
        tree_size, _root, signed = pending
        report.problem(
            Text(
                "The signed tree head at size %(size)s covers more entries than the ledger holds"
                " (%(held)s): entries were removed.",
                size=tree_size,
                held=size,
            )
            if signed
            else Text(
                "The kept tree head at size %(size)s covers more entries than the ledger holds"
                " (%(held)s): entries were removed.",
                size=tree_size,
                held=size,
            )
        )
        pending = next(checkpoints, None)
    counter.finish()


def _compare_checkpoint(
    checkpoint: _Checkpoint,
    frontier: merkle.Frontier,
    first_missing: int | None,
    report: AuditReport,
) -> None:
    tree_size, root_hash, signed = checkpoint
    if first_missing is not None and first_missing <= tree_size:
        report.problem(
            Text(
                "The signed tree head at size %(size)s cannot be reproduced: ledger entry seq"
                " %(seq)s is missing.",
                size=tree_size,
                seq=first_missing,
            )
            if signed
            else Text(
                "The kept tree head at size %(size)s cannot be reproduced: ledger entry seq"
                " %(seq)s is missing.",
                size=tree_size,
                seq=first_missing,
            )
        )
    elif frontier.size != tree_size or frontier.root().hex() != root_hash:
        report.problem(
            Text(
                "The signed tree head at size %(size)s does not match the ledger: the entries"
                " 1-%(size)s no longer hash to the root that was signed (they were rewritten).",
                size=tree_size,
            )
            if signed
            else Text(
                "The kept tree head at size %(size)s does not match the ledger: the entries"
                " 1-%(size)s no longer hash to the root that was signed (they were rewritten).",
                size=tree_size,
            )
        )


def _missing_node(level: int, idx: int) -> Text:
    return Text(
        "The Merkle node at level %(level)s, index %(index)s is missing.", level=level, index=idx
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
                    Text(
                        "The Merkle node at level %(level)s, index %(index)s does not belong to a"
                        " tree of %(size)s entries: it was added behind the service's back or its"
                        " ledger entries were removed.",
                        level=level,
                        index=idx,
                        size=count << level,
                    )
                )
            continue
        while expected < idx:
            if report is not None:
                report.problem(_missing_node(level, expected))
            yield None
            expected += 1
        yield value
        expected += 1
    while expected < count:
        if report is not None:
            report.problem(_missing_node(level, expected))
        yield None
        expected += 1


def check_nodes(
    tables: AuditTables, size: int, report: AuditReport, progress: ProgressCallback | None
) -> None:
    """Every stored node above the leaves recomputed from its two stored children (the leaves
    themselves were compared with the ledger). An edited node fails against its children, and
    its parent fails against it."""
    counter = Progress(progress, STAGE_NODES, tables.inner_node_count())
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
                    Text(
                        "The Merkle node at level %(level)s, index %(index)s does not match its two"
                        " children: the stored tree was edited.",
                        level=level,
                        index=idx,
                    )
                )
        level += 1
    for stray_level, idx in tables.nodes_outside_levels(level):
        report.problem(
            Text(
                "The Merkle node at level %(level)s, index %(index)s does not belong to a tree of"
                " %(size)s entries: it was added behind the service's back.",
                level=stray_level,
                index=idx,
                size=size,
            )
        )
    counter.finish()
