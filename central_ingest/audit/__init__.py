"""Tamper evidence for the registry: signed tree heads over the audit ledger, inclusion proofs
for one case, and the verifier that recomputes everything from the rows.

The ledger's hash chain shows that no entry was edited *unless the editor recomputed every hash
after it*; the Merkle tree heads signed with the registry's own key and handed to an outside
party (the prosecutor) close that gap: a rewritten history no longer reproduces a root that was
signed before the rewrite. The verifier therefore trusts nothing stored in the database: it
recomputes every entry, every tree node and every signed root, and compares the state tables
with the last ledger entry of each fixation and case.
"""

from central_ingest.audit.errors import AuditError, RegistryKeyError, TreeHeadRefused, UnknownCase
from central_ingest.audit.heads import (
    TreeHead,
    key_id,
    latest_tree_head,
    load_or_create_registry_key,
    load_registry_key,
    sign_tree_head,
)
from central_ingest.audit.proofs import CaseProofs, LedgerProof, case_inclusion_proofs
from central_ingest.audit.verify import AuditReport, ProgressCallback, verify_registry

__all__ = [
    "AuditError",
    "AuditReport",
    "CaseProofs",
    "LedgerProof",
    "ProgressCallback",
    "RegistryKeyError",
    "TreeHead",
    "TreeHeadRefused",
    "UnknownCase",
    "case_inclusion_proofs",
    "key_id",
    "latest_tree_head",
    "load_or_create_registry_key",
    "load_registry_key",
    "sign_tree_head",
    "verify_registry",
]
