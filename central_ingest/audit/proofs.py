"""Inclusion proofs for one case's ledger entries against the latest signed tree head."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from central_ingest.audit.errors import UnknownCase
from central_ingest.audit.heads import TreeHead, latest_head
from central_ingest.audit.tree import StoredSubtreeSource, entry_from_row
from central_ingest.core import merkle
from central_ingest.core.ledger import LedgerEntry
from central_ingest.store.audit import AuditTables, read_snapshot
from central_ingest.store.db import Store
from i18n.text import Text


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


def _case_entities(tables: AuditTables, case_number: str) -> list[tuple[str, str]]:
    """The ledger entities whose history is the case's history: the case, the fixation it was
    opened from, its payments, cancellation requests and bailiff hand-overs."""
    entities = [("case", case_number), ("bailiff", case_number)]
    entities += [("fixation", fixation_id) for fixation_id in tables.case_fixation_ids(case_number)]
    entities += [("payment", payment_id) for payment_id in tables.case_payment_ids(case_number)]
    # Payments made in banks and through eGov, named institution:reference in the ledger.
    entities += [("inbound_payment", name) for name in tables.case_inbound_payment_ids(case_number)]
    entities += [
        ("cancellation", request_id) for request_id in tables.case_cancellation_ids(case_number)
    ]
    return entities


def case_proofs(
    tables: AuditTables, case_number: str, head: TreeHead | None, source: merkle.SubtreeSource
) -> CaseProofs:
    rows = tables.ledger_rows_about(_case_entities(tables, case_number))
    if not rows and not tables.case_exists(case_number):
        raise UnknownCase(Text("Case %(case)s is not in the registry.", case=case_number))
    proofs = []
    for row in rows:
        entry = entry_from_row(row)
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
    with read_snapshot(store) as tables:
        return case_proofs(tables, case_number, latest_head(tables), StoredSubtreeSource(tables))
