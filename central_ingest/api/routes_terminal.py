"""Case lookup for in-car payment terminals.

A terminal has no operator session: each request is signed in headers exactly like an evidence
upload (contract.signing.device_request_headers) and must come from an active device of kind
``terminal``. The lookup key is part of the signed path, so a signature cannot be replayed for
another case. The registry computes the amount due now; the terminal only shows and charges it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from central_ingest.api.errors import InvalidRequestBody, refusal
from central_ingest.api.ingest_routes import DeviceIngest, authenticate_device_request
from central_ingest.cases import CaseService
from central_ingest.core.errors import InvalidInput
from central_ingest.core.iin import is_valid_iin
from central_ingest.core.views import CaseView
from contract import DeviceKind
from i18n import Text

router = APIRouter(
    prefix="/v1/terminal",
    tags=["devices"],
    responses={
        403: refusal(
            "not signed by an active payment terminal within the clock window, or signed by a"
            " device of another kind"
        ),
        422: {"model": InvalidRequestBody, "description": "a missing header or a malformed key"},
    },
)
_NO_SUCH_CASE: dict[int | str, dict[str, Any]] = {404: refusal("No case has this number.")}


class TerminalCase(BaseModel):
    """What the officer and the payer see on the terminal: no owner's name or contacts."""

    case_number: str
    status: str
    plate: str
    violation: str
    article: str
    part: str
    offence_at: datetime
    full_minor: int = Field(description="the full fine, in tiyn")
    discounted_minor: int
    discount_percent: int
    discount_deadline: datetime
    amount_due_now_minor: int = Field(description="what to charge now, computed by the registry")
    paid_minor: int

    @classmethod
    def of(cls, case: CaseView) -> TerminalCase:
        return cls(
            case_number=case.case_number,
            status=case.status.value,
            plate=case.plate,
            violation=case.violation.value,
            article=case.article,
            part=case.part,
            offence_at=case.offence_at,
            full_minor=case.full_minor,
            discounted_minor=case.discounted_minor,
            discount_percent=case.discount_percent,
            discount_deadline=case.discount_deadline,
            amount_due_now_minor=case.amount_due_now_minor,
            paid_minor=case.paid_minor,
        )


class TerminalLookup(BaseModel):
    cases: list[TerminalCase]


SignedHeaders = tuple[str, str, str]


async def _lookup(
    request: Request,
    headers: SignedHeaders,
    find: Callable[[CaseService], list[CaseView]],
) -> JSONResponse:
    """Authenticate the terminal, then run ``find``; a missing case or a malformed key is
    refused by the registry's error handlers (404 / 422)."""
    ingest: DeviceIngest = request.app.state.device_ingest
    registry: CaseService = request.app.state.registry
    device_id, signed_at, signature = headers
    device, refusal = await run_in_threadpool(
        authenticate_device_request,
        ingest,
        method="GET",
        path=request.url.path,
        device_id=device_id,
        signed_at=signed_at,
        signature=signature,
        body=b"",
    )
    if device is None:
        return JSONResponse({"error": "request_not_authenticated", "detail": refusal}, 403)
    if device.kind is not DeviceKind.TERMINAL:
        detail = f"device {device_id} is a {device.kind.value}, not a payment terminal"
        return JSONResponse({"error": "kind_not_permitted", "detail": detail}, 403)
    cases = await run_in_threadpool(find, registry)
    answer = TerminalLookup(cases=[TerminalCase.of(case) for case in cases])
    return JSONResponse(answer.model_dump(mode="json"))


DeviceHeader = Annotated[str, Header()]


@router.get(
    "/cases/by-number/{case_number}",
    response_model=TerminalLookup,
    responses=_NO_SUCH_CASE,
    summary="Terminal: one case by its number, with the amount due now",
)
async def case_by_number(
    case_number: str,
    request: Request,
    x_erap_device: DeviceHeader,
    x_erap_signed_at: DeviceHeader,
    x_erap_signature: DeviceHeader,
) -> JSONResponse:
    def find(registry: CaseService) -> list[CaseView]:
        return [registry.case(case_number.strip().upper())]

    return await _lookup(request, (x_erap_device, x_erap_signed_at, x_erap_signature), find)


@router.get(
    "/cases/by-plate/{plate}",
    response_model=TerminalLookup,
    summary="Terminal: the cases of a vehicle, with the amount due now",
)
async def cases_by_plate(
    plate: str,
    request: Request,
    x_erap_device: DeviceHeader,
    x_erap_signed_at: DeviceHeader,
    x_erap_signature: DeviceHeader,
) -> JSONResponse:
    def find(registry: CaseService) -> list[CaseView]:
        return registry.find_cases(plate=plate)

    return await _lookup(request, (x_erap_device, x_erap_signed_at, x_erap_signature), find)


@router.get(
    "/cases/by-iin/{iin}",
    response_model=TerminalLookup,
    summary="Terminal: the cases of a person by IIN (check digit verified), with the amount due",
)
async def cases_by_iin(
    iin: str,
    request: Request,
    x_erap_device: DeviceHeader,
    x_erap_signed_at: DeviceHeader,
    x_erap_signature: DeviceHeader,
) -> JSONResponse:
    def find(registry: CaseService) -> list[CaseView]:
        if not is_valid_iin(iin):
            raise InvalidInput(
                "invalid_iin",
                Text("%(iin)s is not a valid IIN: 12 digits with a correct check digit.", iin=iin),
            )
        return registry.find_cases(owner_id=iin)

    return await _lookup(request, (x_erap_device, x_erap_signed_at, x_erap_signature), find)
