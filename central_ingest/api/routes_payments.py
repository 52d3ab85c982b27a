"""Payments made elsewhere: banks and eGov report each payment by a signed notification
(``central_ingest.ingest.bank_payments`` says how it is signed and checked); supervisors see
what reconciliation could not settle and what must be refunded.

An institution has no operator session: its notification is authenticated by its Ed25519
signature alone. A refusal (403 unknown institution, bad signature or stale timestamp; 409
replayed nonce or a reference reused for other facts; 422 not a payment report; 413 too
large) changes nothing. A 403 costs the client address a token of the same buckets as the
devices' unverifiable messages (``[http_ingest]``, api/rate_limit.py): an address that keeps
sending what no institution signed is answered 429 before its body is read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from central_ingest.api.auth import Overseer
from central_ingest.api.errors import AUTH_RESPONSES, ApiError, refusal
from central_ingest.api.ingest_routes import DeviceIngest
from central_ingest.api.rate_limit import SourceLimiter, source_key
from central_ingest.ingest.bank_notifications import NotificationRefused
from central_ingest.ingest.bank_payments import MAX_LIST, BankPayments, PaymentAnswer
from i18n import Text

router = APIRouter(prefix="/v1/payments", tags=["payments"])


def bank_payments_of(request: Request) -> BankPayments:
    service: BankPayments = request.app.state.bank_payments
    return service


class NotificationAnswer(BaseModel):
    """What became of the payment; ``duplicate``: reported before, and this is what the first
    report did."""

    institution: str
    reference: str
    outcome: str = Field(
        description="matched, wrong_amount, unknown_case, case_closed, case_cancelled or"
        " case_appealed"
    )
    case_number: str
    matched_case: str | None
    amount_minor: int
    due_minor: int | None = Field(description="what was due on the case when it was paid")
    refund_minor: int = Field(description="what goes back to the payer, in tiyn")
    received_at: datetime
    duplicate: bool

    @classmethod
    def of(cls, answer: PaymentAnswer) -> NotificationAnswer:
        return cls.model_validate(answer, from_attributes=True)


class InboundPayment(BaseModel):
    """A payment made elsewhere, as the supervisors' lists show it."""

    inbound_id: int
    institution: str
    reference: str
    channel: str
    source: str = Field(description="notification or statement: what reported it first")
    case_number: str
    matched_case: str | None
    amount_minor: int
    currency: str
    paid_at: datetime
    received_at: datetime
    due_minor: int | None
    outcome: str
    refund_minor: int
    reported_again: int
    statement_confirmed_at: datetime | None
    discrepancy: str | None = Field(description="what a later report said otherwise (JSON)")


Signed = Annotated[str, Header()]


@router.post(
    "/notifications",
    response_model=NotificationAnswer,
    summary="A bank or eGov reports a payment (signed, idempotent by its reference)",
    responses={
        403: refusal("unknown institution, a signature that does not match, a stale timestamp"),
        409: refusal("a nonce used before for another body, or a reference for other facts"),
        413: refusal("the notification is larger than [bank_payments] max_notification_bytes"),
        422: refusal("the body is not a payment report"),
        429: refusal(
            "this address sent too many notifications no institution signed; retry after"
            " Retry-After",
            retry_after=True,
        ),
    },
)
async def notification(
    request: Request,
    x_erap_institution: Signed,
    x_erap_timestamp: Signed,
    x_erap_nonce: Signed,
    x_erap_signature: Signed,
) -> NotificationAnswer:
    service = bank_payments_of(request)
    limiter = _limiter(request)
    source = source_key(request.client.host if request.client else None)
    wait_s = limiter.retry_after(source)
    if wait_s is not None:
        raise ApiError(
            429,
            "rate_limited",
            Text("Too many attempts: try again in a few minutes."),
            {"Retry-After": str(wait_s)},
        )
    limit = service.max_notification_bytes
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(
                413,
                "notification_too_large",
                Text("A payment notification is at most %(bytes)s bytes.", bytes=limit),
            )
    try:
        answer = await run_in_threadpool(
            service.receive_notification,
            institution=x_erap_institution,
            timestamp=x_erap_timestamp,
            nonce=x_erap_nonce,
            signature=x_erap_signature,
            body=body,
        )
    except NotificationRefused:
        limiter.charge(source)
        raise
    return NotificationAnswer.of(answer)


def _limiter(request: Request) -> SourceLimiter:
    ingest: DeviceIngest = request.app.state.device_ingest
    return ingest.limiter


Limit = Annotated[int, Query(ge=1, le=MAX_LIST)]


@router.get(
    "/exceptions",
    response_model=list[InboundPayment],
    responses=AUTH_RESPONSES,
    summary="Payments made elsewhere that a supervisor must look at, newest first",
)
def exceptions(_: Overseer, request: Request, limit: Limit = 200) -> list[InboundPayment]:
    """Wrong amounts, unknown cases, payments for closed, cancelled or appealed cases, and
    payments a later report contradicted."""
    rows = bank_payments_of(request).exceptions(limit)
    return [InboundPayment.model_validate(row) for row in rows]


@router.get(
    "/refunds",
    response_model=list[InboundPayment],
    responses=AUTH_RESPONSES,
    summary="Payments made elsewhere with money to give back, newest first",
)
def refunds(_: Overseer, request: Request, limit: Limit = 200) -> list[InboundPayment]:
    """Overpayments (the excess) and payments for closed or cancelled cases (all of it)."""
    rows = bank_payments_of(request).refunds(limit)
    return [InboundPayment.model_validate(row) for row in rows]
