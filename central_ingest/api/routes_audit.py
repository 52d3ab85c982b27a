"""The prosecutor's audit: signed tree heads, the verifier, and one case's full history with
inclusion proofs that can be checked outside the registry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from central_ingest.api.auth import Auditor
from central_ingest.api.deps import ConfigDep, StoreDep
from central_ingest.api.errors import (
    AUTH_RESPONSES,
    ApiError,
    ErrorBody,
    InvalidRequestBody,
    request_translator,
)
from central_ingest.audit import (
    TreeHead,
    case_inclusion_proofs,
    key_id,
    latest_tree_head,
    load_registry_key,
    verify_registry,
)
from central_ingest.config import RegistryConfig
from contract import load_public_key
from i18n import Text

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=AUTH_RESPONSES)


class TreeHeadView(BaseModel):
    tree_size: int
    root_hash: str = Field(description="RFC 9162 Merkle root over the first tree_size entries")
    timestamp: datetime
    key_id: str = Field(description="SHA-256 of the registry's raw Ed25519 public key")
    signature: str = Field(description="Ed25519 over the canonical JSON of the other fields")

    @classmethod
    def of(cls, head: TreeHead) -> TreeHeadView:
        return cls.model_validate(head.to_json())


class AuditReportView(BaseModel):
    ok: bool = Field(description="True when no sign of tampering was found")
    problems: list[str] = Field(
        description="Each sign of tampering as a sentence, in the language the request's"
        " Accept-Language asks for (kk, ru or en; otherwise the registry's default language,"
        " named by Content-Language)"
    )
    problems_not_listed: int
    warnings: list[str] = Field(description="Facts that are not tampering, in that language")
    entries_checked: int
    tree_heads_checked: int
    nodes_checked: int
    records_checked: int
    inclusion_proofs_checked: int
    key_id: str = Field(description="The tree-head key the verification trusted")
    case_number: str | None


class LedgerEntryView(BaseModel):
    seq: int
    recorded_at: datetime
    entity_type: str
    entity_id: str
    action: str
    actor: str
    payload: dict[str, Any]
    prev_hash: str


class LedgerProofView(BaseModel):
    seq: int
    leaf_index: int
    entry: LedgerEntryView
    leaf_hash: str
    audit_path: list[str] | None = Field(
        description="Sibling hashes up to the tree head's root; None when the entry is newer"
        " than the latest signed tree head"
    )


class CaseHistoryView(BaseModel):
    case_number: str
    tree_head: TreeHeadView | None
    entries: list[LedgerProofView]


def _registry_public_key(config: RegistryConfig) -> str:
    path = config.registry_key_path
    if not path.exists():
        raise ApiError(
            503,
            "registry_key_missing",
            Text(
                "The registry has not created its tree-head key yet, so no tree head has been"
                " signed; pass the key you were given as public_key, or try after the first"
                " head."
            ),
        )
    return load_registry_key(path).public_key_b64


@router.get(
    "/tree-head",
    response_model=TreeHeadView,
    responses={404: {"model": ErrorBody, "description": "No tree head has been signed yet."}},
    summary="The latest signed tree head",
)
def tree_head(_: Auditor, store: StoreDep) -> TreeHeadView:
    """Keep it outside the registry: a later rewrite of history cannot reproduce it."""
    head = latest_tree_head(store)
    if head is None:
        raise ApiError(404, "no_tree_head", Text("No tree head has been signed yet."))
    return TreeHeadView.of(head)


@router.get(
    "/verify",
    response_model=AuditReportView,
    responses={
        404: {"model": ErrorBody, "description": "The case named is not in the registry."},
        422: {
            "model": InvalidRequestBody,
            "description": "The public key given is not an Ed25519 key.",
        },
        503: {"model": ErrorBody, "description": "No registry key exists yet."},
    },
    summary="Verify the ledger, the Merkle tree, the tree heads and the state tables",
)
def verify(
    _: Auditor,
    request: Request,
    response: Response,
    store: StoreDep,
    config: ConfigDep,
    case_number: Annotated[
        str | None,
        Query(max_length=40, description="Also check this case's inclusion proofs."),
    ] = None,
    public_key: Annotated[
        str | None,
        Query(
            max_length=64,
            description="The registry's tree-head public key (base64url) as"
            " you hold it [default: the key the registry uses].",
        ),
    ] = None,
) -> AuditReportView:
    """Recomputes every entry hash, Merkle node and signed root, and compares each fixation's
    and case's status with its last ledger entry. Takes time on a large registry."""
    if public_key is not None:
        try:
            load_public_key(public_key)
        except ValueError:
            raise ApiError(
                422,
                "invalid_public_key",
                Text("public_key is not a base64url Ed25519 public key."),
            ) from None
    trusted_key = public_key or _registry_public_key(config)
    report = verify_registry(store, trusted_key, case_number)
    # The findings are sentences for the prosecutor: rendered as the API renders its refusals.
    reader = request_translator(request)
    response.headers["Content-Language"] = reader.language
    response.headers["Vary"] = "Accept-Language"  # caches must not mix readers' languages
    return AuditReportView(
        ok=report.ok,
        problems=[reader.text(problem) for problem in report.problems],
        problems_not_listed=report.problems_not_listed,
        warnings=[reader.text(warning) for warning in report.warnings],
        entries_checked=report.entries_checked,
        tree_heads_checked=report.tree_heads_checked,
        nodes_checked=report.nodes_checked,
        records_checked=report.records_checked,
        inclusion_proofs_checked=report.inclusion_proofs_checked,
        key_id=key_id(trusted_key),
        case_number=case_number,
    )


@router.get(
    "/cases/{case_number}",
    response_model=CaseHistoryView,
    responses={404: {"model": ErrorBody, "description": "The case is not in the registry."}},
    summary="A case's whole history with inclusion proofs",
)
def case_history(
    case_number: Annotated[str, Path(min_length=3, max_length=40)],
    _: Auditor,
    store: StoreDep,
) -> CaseHistoryView:
    """Every ledger entry of the case, of the fixation it came from, its payments,
    cancellation requests and bailiff documents: who did what and when, each with its audit
    path to the latest signed tree head."""
    return CaseHistoryView.model_validate(case_inclusion_proofs(store, case_number).to_json())
