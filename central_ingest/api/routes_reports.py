"""Oversight reports for supervisors and prosecutors (read-only): cases nearing the
enforcement limitation, who removes fines, payments to follow up, refused messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from central_ingest.api.auth import Overseer
from central_ingest.api.deps import MAX_SQLITE_INTEGER, RegistryDep, StoreDep
from central_ingest.api.errors import AUTH_RESPONSES
from central_ingest.core.cases import CaseStatus, PaymentMatch
from central_ingest.reports import (
    RemovalDimension,
    dead_letter_sources_report,
    dead_letter_summary,
    removal_report,
    unmatched_payments_report,
)
from central_ingest.store.monitoring import dead_letters

router = APIRouter(prefix="/v1", tags=["reports"], responses=AUTH_RESPONSES)


class LimitationRow(BaseModel):
    case_number: str
    status: CaseStatus
    plate: str
    owner_id: str | None
    owner_name: str | None
    fine_minor: int
    paid_minor: int
    entry_into_force: datetime
    limitation_at: datetime
    days_left: int


class RemovalRow(BaseModel):
    by: RemovalDimension
    key: str
    fixations: int
    confirmed: int
    rejected: int
    cancelled: int
    cancellations_requested: int | None = None
    cancellations_approved: int | None = None
    events: int
    removed: int
    removal_rate: float
    baseline_rate: float
    score: float
    rejection_reasons: dict[str, int]
    cancellation_reasons: dict[str, int]


class FollowUpPayment(BaseModel):
    payment_id: str
    match_status: PaymentMatch
    case_number: str
    matched_case: str | None
    case_status: CaseStatus | None
    amount_minor: int
    due_minor: int | None
    difference_minor: int | None
    paid_at: datetime
    received_at: datetime
    channel: str
    device_id: str
    rrn: str | None
    approval_code: str | None


class DeadLetter(BaseModel):
    dead_letter_id: int
    received_at: datetime
    channel: str
    topic: str | None
    device_id: str | None
    message_id: str | None
    reason: str
    detail: str
    retryable: bool
    payload_bytes: int


class DeadLetterSource(BaseModel):
    source: str = Field(
        description="An HTTP client's address, or mqtt:<region>:<device> from the topic;"
        " empty for refusals recorded before sources were"
    )
    count: int
    signed: int = Field(description="How many carried a valid device signature")
    first_received_at: datetime
    last_received_at: datetime


class DeadLetterReason(BaseModel):
    reason: str
    count: int
    retryable: int
    devices: int
    first_received_at: datetime
    last_received_at: datetime


@router.get(
    "/reports/limitation",
    response_model=list[LimitationRow],
    summary="Unexecuted cases approaching the enforcement limitation",
)
def limitation(
    _: Overseer,
    registry: RegistryDep,
    within_days: Annotated[
        int | None,
        Query(
            ge=0,
            le=3660,
            description="Look this many days ahead [default: the configured warning period].",
        ),
    ] = None,
) -> list[LimitationRow]:
    """Soonest first; a negative ``days_left`` means the limitation has passed and the case
    waits for the expiry job."""
    return [LimitationRow.model_validate(row) for row in registry.limitation_report(within_days)]


@router.get(
    "/reports/removals",
    response_model=list[RemovalRow],
    summary="Who removes fines and why: per plate, officer or camera, outliers first",
)
def removals(
    _: Overseer,
    store: StoreDep,
    by: Annotated[RemovalDimension, Query(description="How to group the removals.")],
    min_events: Annotated[
        int, Query(ge=1, description="Leave out groups with fewer decided events.")
    ] = 3,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[RemovalRow]:
    """Rejections and approved cancellations. A group ranks high only with both a high removal
    rate and enough events to rule out chance."""
    rows = removal_report(store, by, min_events=min_events, limit=limit)
    return [RemovalRow.model_validate(row) for row in rows]


@router.get(
    "/reports/payments",
    response_model=list[FollowUpPayment],
    summary="Payments a person must follow up",
)
def payments(_: Overseer, store: StoreDep) -> list[FollowUpPayment]:
    """Unknown case, under- or overpaid, or paid on a closed case: oldest first."""
    return [FollowUpPayment.model_validate(row) for row in unmatched_payments_report(store)]


@router.get(
    "/dead-letters",
    response_model=list[DeadLetter],
    summary="Messages the ingest refused, newest first",
)
def refused_messages(
    _: Overseer,
    store: StoreDep,
    reason: Annotated[str | None, Query(max_length=64)] = None,
    before_id: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_SQLITE_INTEGER,
            description="Page on: the smallest id of the previous page.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetter]:
    rows = dead_letters(store.db, reason=reason, before_id=before_id, limit=limit)
    return [DeadLetter.model_validate(row) for row in rows]


@router.get(
    "/dead-letters/summary",
    response_model=list[DeadLetterReason],
    summary="Refused messages counted by reason",
)
def refused_messages_summary(_: Overseer, store: StoreDep) -> list[DeadLetterReason]:
    return [DeadLetterReason.model_validate(row) for row in dead_letter_summary(store)]


@router.get(
    "/dead-letters/sources",
    response_model=list[DeadLetterSource],
    summary="Refused messages counted by where they came from",
)
def refused_messages_by_source(
    _: Overseer, store: StoreDep, limit: Annotated[int, Query(ge=1, le=1000)] = 20
) -> list[DeadLetterSource]:
    """The most frequent sources first: who sends what the registry refuses."""
    return [
        DeadLetterSource.model_validate(row)
        for row in dead_letter_sources_report(store, limit=limit)
    ]
