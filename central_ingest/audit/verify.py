"""The verifier: recomputes every ledger entry, Merkle node and signed root from the rows,
and recomputes each fixation's and case's state from its ledger entries, field by field.

The ledger and Merkle-tree checks are in ``verify_ledger``, the state tables' in
``verify_state``; this module checks the tree heads and one case's inclusion proofs. Every
finding is a sentence for the prosecutor (``i18n.Text``): ``AuditReport`` keeps them
untranslated until they are shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from central_ingest.audit.heads import TreeHead, head_from_row, key_id, latest_head
from central_ingest.audit.proofs import case_proofs
from central_ingest.audit.report import (
    MAX_LISTED_PROBLEMS,
    STAGE_TREE_HEADS,
    AuditReport,
    Progress,
    ProgressCallback,
)
from central_ingest.audit.tree import StoredSubtreeSource, UnreadableEntry
from central_ingest.audit.verify_ledger import check_ledger, check_nodes
from central_ingest.audit.verify_records import check_records
from central_ingest.audit.verify_state import check_state
from central_ingest.core import merkle
from central_ingest.store.audit import AuditTables, read_snapshot
from central_ingest.store.db import Store
from contract import load_public_key
from i18n import PluralText, Text

__all__ = [
    "MAX_LISTED_PROBLEMS",
    "AuditReport",
    "ProgressCallback",
    "verify_registry",
]


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
                    Text(
                        "The kept tree head at size %(size)s is not signed by the registry key"
                        " given, so it cannot vouch for anything.",
                        size=head.tree_size,
                    )
                )
        check_ledger(tables, size, unusable, kept, report, progress)
        check_nodes(tables, size, report, progress)
        check_state(tables, report, progress)
        check_records(tables, report)
        if case_number is not None:
            _check_case(tables, case_number, registry_public_key_b64, source, report)
        if size and report.tree_heads_checked == 0:
            report.warnings.append(
                Text(
                    "No signed tree head exists yet: the ledger is protected only by its hash chain."  # noqa: E501 - a message id, one literal
                )
            )
        else:
            latest = latest_head(tables)
            if latest is not None and latest.tree_size < size:
                newer = size - latest.tree_size
                report.warnings.append(
                    PluralText(
                        "%(count)s ledger entry is newer than the latest signed tree head (size"
                        " %(size)s) and is covered only by the hash chain.",
                        "%(count)s ledger entries are newer than the latest signed tree head (size"
                        " %(size)s) and are covered only by the hash chain.",
                        newer,
                        count=newer,
                        size=latest.tree_size,
                    )
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
    counter = Progress(progress, STAGE_TREE_HEADS, tables.tree_head_count())
    unusable: set[int] = set()
    previous: TreeHead | None = None
    for row in tables.tree_heads():
        head = head_from_row(row)
        counter.step()
        report.tree_heads_checked += 1
        refusal = _head_refusal(head, public_key_b64, expected_key)
        if refusal is not None:
            report.problem(refusal)
            unusable.add(head.tree_size)
            continue
        if previous is not None and previous.root is not None and head.tree_size <= ledger_size:
            _check_consistency(source, previous, head, report)
        previous = head
    counter.finish()
    return unusable


def _head_refusal(head: TreeHead, public_key_b64: str, expected_key: str) -> Text | None:
    """Why a stored tree head cannot vouch for the ledger, or None when it can."""
    if head.tree_size < 1:
        return Text("The tree head at size %(size)s cannot have been signed.", size=head.tree_size)
    if head.key_id != expected_key:
        return Text(
            "The tree head at size %(size)s names signing key %(key)s…, not the registry key"
            " %(expected)s…: it was not made by the registry.",
            size=head.tree_size,
            key=head.key_id[:16],
            expected=expected_key[:16],
        )
    if not head.signature_valid(public_key_b64):
        return Text(
            "The tree head at size %(size)s has an invalid signature: it was forged or edited"
            " after signing.",
            size=head.tree_size,
        )
    if head.root is None:
        return Text("The tree head at size %(size)s holds no valid root hash.", size=head.tree_size)
    return None


def _check_consistency(
    source: merkle.SubtreeSource, older: TreeHead, newer: TreeHead, report: AuditReport
) -> None:
    assert older.root is not None and newer.root is not None
    try:
        proof = merkle.consistency_proof(source, older.tree_size, newer.tree_size)
    except merkle.MissingSubtree as missing:
        report.problem(
            Text(
                "No consistency proof can be built between the tree heads at sizes %(older)s and"
                " %(newer)s: the Merkle tree has no node at level %(level)s, index %(index)s.",
                older=older.tree_size,
                newer=newer.tree_size,
                level=missing.level,
                index=missing.idx,
            )
        )
        return
    if not merkle.verify_consistency(
        older.tree_size, newer.tree_size, older.root, newer.root, proof
    ):
        report.problem(
            Text(
                "The tree heads at sizes %(older)s and %(newer)s are not consistent: the stored tree"  # noqa: E501 - a message id, one literal
                " no longer extends the older signed tree.",
                older=older.tree_size,
                newer=newer.tree_size,
            )
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
    except UnreadableEntry as exc:
        report.problem(
            Text(
                "The inclusion proofs of case %(case)s cannot be built: one of its ledger entries"
                " cannot be read (%(reason)s).",
                case=case_number,
                reason=exc.text,
            )
        )
        return
    except merkle.MissingSubtree as missing:
        report.problem(
            Text(
                "The inclusion proofs of case %(case)s cannot be built: the Merkle tree has no node"
                " at level %(level)s, index %(index)s.",
                case=case_number,
                level=missing.level,
                index=missing.idx,
            )
        )
        return
    if head is None or not head.signature_valid(public_key_b64) or head.root is None:
        report.warnings.append(
            Text(
                "No validly signed tree head covers case %(case)s: its entries are protected only by"  # noqa: E501 - a message id, one literal
                " the hash chain.",
                case=case_number,
            )
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
                Text(
                    "Ledger entry seq %(seq)s of case %(case)s (%(entity_type)s %(action)s) is not"
                    " included in the signed tree head at size %(size)s: its inclusion proof fails.",  # noqa: E501 - a message id, one literal
                    seq=proof.entry.seq,
                    case=case_number,
                    entity_type=proof.entry.entity_type,
                    action=proof.entry.action,
                    size=head.tree_size,
                )
            )
    if uncovered:
        report.warnings.append(
            PluralText(
                "%(count)s ledger entry of case %(case)s is newer than the latest signed tree head"
                " (size %(size)s).",
                "%(count)s ledger entries of case %(case)s are newer than the latest signed tree"
                " head (size %(size)s).",
                uncovered,
                count=uncovered,
                case=case_number,
                size=head.tree_size,
            )
        )
