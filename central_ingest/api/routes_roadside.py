"""The roadside protocol's routes: blocks of protocol numbers for the terminals, the officers'
certificate revocation list the registry publishes, and the prosecutor's per-officer report.

A terminal asks for a block while it has the network, then numbers, prints and takes payment
for protocols with none (``contract.roadside.ProtocolNumberBlock``). The request is signed in
headers as every device request that is not an envelope (``contract.signing
.device_request_headers``), over the method, the path and the body's hash, and must come from
an active device of kind ``terminal``. The CRL is public: anyone checking an officer's
signature on a printed protocol needs it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from central_ingest.api.auth import Overseer
from central_ingest.api.deps import StoreDep
from central_ingest.api.errors import AUTH_RESPONSES, refusal
from central_ingest.api.ingest_routes import DeviceIngest, authenticate_device_request
from central_ingest.roadside import (
    MAX_BLOCK_SIZE,
    allocate_protocol_block,
    roadside_officer_report,
)
from contract import DeviceKind, now_utc
from contract.roadside import ProtocolNumberBlock

router = APIRouter(tags=["roadside"])

CRL_MAX_AGE_S = 300
"""How long a cache may serve the CRL: a revocation reaches the readers within five minutes."""


class BlockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(ge=1, le=MAX_BLOCK_SIZE, description="how many numbers the terminal wants")


DeviceHeader = Annotated[str, Header()]


@router.post(
    "/v1/terminal/protocol-number-blocks",
    status_code=201,
    response_model=ProtocolNumberBlock,
    responses={
        403: refusal("not signed by an active payment terminal within the clock window"),
        422: refusal(f'the body is not {{"size": 1..{MAX_BLOCK_SIZE}}}'),
    },
    summary="Terminal: set aside the next block of protocol numbers for this terminal",
)
async def protocol_number_block(
    request: Request,
    x_erap_device: DeviceHeader,
    x_erap_signed_at: DeviceHeader,
    x_erap_signature: DeviceHeader,
) -> JSONResponse:
    ingest: DeviceIngest = request.app.state.device_ingest
    body = await request.body()
    device, reason = await run_in_threadpool(
        authenticate_device_request,
        ingest,
        method="POST",
        path=request.url.path,
        device_id=x_erap_device,
        signed_at=x_erap_signed_at,
        signature=x_erap_signature,
        body=body,
    )
    if device is None:
        return JSONResponse({"error": "request_not_authenticated", "detail": reason}, 403)
    if device.kind is not DeviceKind.TERMINAL:
        detail = f"device {device.device_id} is a {device.kind.value}, not a terminal"
        return JSONResponse({"error": "kind_not_permitted", "detail": detail}, 403)
    try:
        wanted = BlockRequest.model_validate(json.loads(body or b"null"))
    except (ValueError, ValidationError) as exc:
        detail = f'the body must be {{"size": 1..{MAX_BLOCK_SIZE}}}: {str(exc).splitlines()[0]}'
        return JSONResponse({"error": "invalid_block_request", "detail": detail}, 422)
    block = await run_in_threadpool(
        allocate_protocol_block,
        ingest.store,
        ingest.config,
        device.device_id,
        wanted.size,
        now_utc(),
    )
    return JSONResponse(block.model_dump(mode="json"), 201)


@router.get(
    "/v1/pki/officers.crl",
    response_class=Response,
    responses={
        200: {"content": {"application/pkix-crl": {}}, "description": "the CRL, DER"},
        404: refusal("no CRL has been published yet"),
    },
    summary="The officers' certificate revocation list (DER), as last published",
)
async def officers_crl(request: Request) -> Response:
    ingest: DeviceIngest = request.app.state.device_ingest
    der = await run_in_threadpool(ingest.service.roadside.trust.crl_der)
    if der is None:
        return JSONResponse(
            {"error": "crl_not_published", "detail": "no officers' CRL has been published yet"},
            404,
        )
    tag = f'"{hashlib.sha256(der).hexdigest()[:32]}"'
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    headers = {
        "Cache-Control": f"public, max-age={CRL_MAX_AGE_S}",
        "ETag": tag,
        "Last-Modified": format_datetime(_modified(ingest), usegmt=True),
    }
    return Response(der, media_type="application/pkix-crl", headers=headers)


def _modified(ingest: DeviceIngest) -> datetime:
    path = ingest.service.roadside.trust.folder / "officers.crl"
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return now_utc()


class RoadsideOfficerRow(BaseModel):
    officer: str
    unit: str | None
    protocols: int
    warnings: int
    fines: int
    cancelled: int = Field(description="protocols whose case was later cancelled")
    cancelled_by_officer: int = Field(
        description="cancelled on a request the officer himself made or approved"
    )
    cancelled_by_unit: int = Field(
        description="cancelled on a request another officer of his unit made or approved"
    )


@router.get(
    "/v1/reports/roadside-officers",
    response_model=list[RoadsideOfficerRow],
    responses=AUTH_RESPONSES,
    tags=["reports"],
    summary="Per officer: roadside protocols, warnings, fines, and those cancelled from inside",
)
def roadside_officers(
    _: Overseer,
    store: StoreDep,
    since: Annotated[datetime | None, Query(description="drawn up at or after")] = None,
    until: Annotated[datetime | None, Query(description="drawn up before")] = None,
) -> list[RoadsideOfficerRow]:
    """Protocols later cancelled by the officer who wrote them, or by his own unit, are what
    the prosecutor looks for: the officers with most of them come first."""
    rows = roadside_officer_report(store, since=since, until=until)
    return [RoadsideOfficerRow.model_validate(row) for row in rows]
