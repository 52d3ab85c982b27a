"""Device-facing HTTP: signed messages (the same ingestion as MQTT) and evidence uploads.

Devices do not log in: a message carries its own signature, and an evidence upload is signed
in headers (contract.signing.device_request_headers) over method, path, time and body hash.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from central_ingest.api.errors import refusal
from central_ingest.api.rate_limit import SourceLimiter, source_key
from central_ingest.config import RegistryConfig
from central_ingest.core.clock import iso, parse_iso
from central_ingest.ingest.service import Incoming, IngestService, Outcome
from central_ingest.store.db import Store
from central_ingest.store.dead_letters import record_dead_letter
from central_ingest.store.devices import DeviceRecord, devices_by_id
from central_ingest.store.evidence import EvidenceProblem, EvidenceRejected, EvidenceStore
from contract import ReceiptStatus, now_utc, verify_signature
from contract.signing import request_signing_bytes

router = APIRouter(prefix="/v1", tags=["devices"])
log = logging.getLogger(__name__)

# HTTP status per refusal: 4xx the device must not retry unchanged, except 409 retry/conflict.
_STATUS_BY_REASON = {
    "message_too_large": 413,
    "malformed_json": 400,
    "unsupported_schema_version": 422,
    "schema_invalid": 422,
    "unknown_device": 403,
    "device_revoked": 403,
    "kind_not_permitted": 403,
    "bad_signature": 403,
    "id_mismatch": 422,
    "evidence_missing": 409,
    "evidence_mismatch": 422,
    "message_id_conflict": 409,
    # A roadside protocol the registry cannot check yet: the terminal sends it again later.
    # Its other refusals (core.roadside) are final: 422.
    "revocation_unknown": 409,
    "photo_missing": 409,
}


class IngestAnswer(BaseModel):
    status: ReceiptStatus
    reason: str | None
    detail: str
    message_id: str | None


class EvidenceAnswer(BaseModel):
    sha256: str
    size_bytes: int
    width: int
    height: int
    created: bool


@dataclass(frozen=True)
class DeviceIngest:
    """What the device routes need, kept on ``app.state.device_ingest``."""

    store: Store
    config: RegistryConfig
    service: IngestService
    evidence: EvidenceStore
    limiter: SourceLimiter


def install_device_ingest(app: FastAPI, store: Store, config: RegistryConfig) -> IngestService:
    service = IngestService(store, config)
    app.state.device_ingest = DeviceIngest(
        store=store,
        config=config,
        service=service,
        evidence=EvidenceStore(store, config.evidence_dir, config.max_evidence_bytes),
        limiter=SourceLimiter(
            rate_per_s=config.http_ingest.refusals_per_s,
            burst=config.http_ingest.burst,
            max_sources=config.http_ingest.max_sources,
        ),
    )
    app.include_router(router)
    return service


def _ingest(request: Request) -> DeviceIngest:
    ingest: DeviceIngest = request.app.state.device_ingest
    return ingest


Ingest = Annotated[DeviceIngest, Depends(_ingest)]


def _answer(outcome: Outcome) -> JSONResponse:
    if outcome.status is ReceiptStatus.STORED:
        code = 201
    elif outcome.status is ReceiptStatus.DUPLICATE:
        code = 200
    else:
        code = _STATUS_BY_REASON.get(outcome.reason or "", 422)
    answer = IngestAnswer(
        status=outcome.status,
        reason=outcome.reason,
        detail=outcome.detail,
        message_id=outcome.message_id,
    )
    return JSONResponse(answer.model_dump(mode="json"), status_code=code)


@router.post(
    "/messages",
    response_model=IngestAnswer,
    status_code=201,
    summary="Submit one signed device message (fixation, payment or device status)",
    responses={
        200: {"model": IngestAnswer, "description": "duplicate: already stored, nothing changed"},
        400: {"model": IngestAnswer, "description": "refused: the body is not JSON"},
        403: {
            "model": IngestAnswer,
            "description": "refused: unknown or revoked device, a kind it may not send, or a"
            " signature that does not verify",
        },
        409: {
            "model": IngestAnswer,
            "description": "refused for now: the evidence is not uploaded yet (send it, then"
            " retry), or another message already has this id",
        },
        413: {"model": IngestAnswer, "description": "refused: the message is over the size limit"},
        422: {
            "model": IngestAnswer,
            "description": "refused: schema version, schema, id or evidence hash is wrong",
        },
        429: refusal(
            "this address caused too many refusals; retry after Retry-After", retry_after=True
        ),
    },
)
async def post_message(request: Request, ingest: Ingest) -> JSONResponse:
    # Throttled before the body is read: a source that keeps sending what cannot be verified
    # costs neither memory nor a row (api/rate_limit.py).
    source = source_key(request.client.host if request.client else None)
    wait_s = ingest.limiter.retry_after(source)
    if wait_s is not None:
        return JSONResponse(
            {
                "error": "rate_limited",
                "detail": f"too many refused messages from {source}; try again in {wait_s} s",
            },
            status_code=429,
            headers={"Retry-After": str(wait_s)},
        )
    payload = await _read_limited(request, ingest.config.max_message_bytes + 1)
    outcome = await run_in_threadpool(
        ingest.service.process, Incoming(payload, "http", source=source)
    )
    if not outcome.authenticated:
        ingest.limiter.charge(source)
    return _answer(outcome)


@router.put(
    "/evidence/{sha256}",
    response_model=EvidenceAnswer,
    summary="Upload an evidence JPEG, addressed by its sha256 (idempotent)",
    responses={
        200: {"model": EvidenceAnswer, "description": "already stored, nothing changed"},
        201: {"model": EvidenceAnswer, "description": "stored"},
        400: refusal("the body is shorter or longer than its Content-Length"),
        403: refusal("not signed by an active device within the clock window"),
        411: refusal("no Content-Length: the size must be declared"),
        413: refusal("the declared size is over the limit"),
        422: refusal("bad address, bytes that do not hash to it, not a JPEG, or a missing header"),
    },
)
async def put_evidence(
    sha256: str,
    request: Request,
    ingest: Ingest,
    x_erap_device: Annotated[str, Header()],
    x_erap_signed_at: Annotated[str, Header()],
    x_erap_signature: Annotated[str, Header()],
) -> JSONResponse:
    """Everything up to the signature is decided on the headers alone, so that a stranger's
    upload is refused before a byte of its body is read. The signature covers the body's hash,
    which for evidence is the address itself; the body then streams to a temporary file within
    its declared size and is kept only if it hashes to that address."""

    async def refuse(code: int, reason: str, detail: str) -> JSONResponse:
        return await _refuse_upload(ingest, sha256, x_erap_device, code, reason, detail)

    declared = _declared_size(request)
    if declared is None:
        return await refuse(
            411,
            "evidence_length_required",
            "the upload has no Content-Length: declare the image's size in bytes",
        )
    if declared > ingest.evidence.max_bytes:
        problem = EvidenceProblem.TOO_LARGE
        detail = f"the image is {declared} bytes; the limit is {ingest.evidence.max_bytes}"
        return await refuse(413, problem.value, detail)
    _device, refusal = await run_in_threadpool(
        authenticate_signed_request,
        ingest,
        method="PUT",
        path=request.url.path,
        device_id=x_erap_device,
        signed_at=x_erap_signed_at,
        signature=x_erap_signature,
        body_sha256=sha256,
    )
    if refusal is not None:
        return await refuse(403, "upload_not_authenticated", refusal)
    try:
        upload = await run_in_threadpool(ingest.evidence.begin, sha256, declared)
    except EvidenceRejected as exc:
        return await refuse(_UPLOAD_STATUS[exc.problem], exc.problem.value, exc.detail)
    try:
        async for chunk in request.stream():
            if chunk:
                await run_in_threadpool(upload.write, chunk)
        stored = await run_in_threadpool(upload.finish, uploaded_by=x_erap_device, now=now_utc())
    except EvidenceRejected as exc:
        return await refuse(_UPLOAD_STATUS[exc.problem], exc.problem.value, exc.detail)
    except ClientDisconnect:
        # The link dropped mid-upload: nobody is left to answer, and the device sends again.
        log.info("evidence %s from %s: the client left mid-upload", sha256, x_erap_device)
        return JSONResponse({}, status_code=400)
    finally:
        await run_in_threadpool(upload.discard)
    answer = EvidenceAnswer(
        sha256=stored.sha256,
        size_bytes=stored.size_bytes,
        width=stored.width,
        height=stored.height,
        created=stored.created,
    )
    return JSONResponse(answer.model_dump(), status_code=201 if stored.created else 200)


_UPLOAD_STATUS = {
    EvidenceProblem.TOO_LARGE: 413,
    EvidenceProblem.LENGTH_MISMATCH: 400,
    EvidenceProblem.HASH_MISMATCH: 422,
    EvidenceProblem.CORRUPT: 422,
    EvidenceProblem.BAD_HASH: 422,
}


def _declared_size(request: Request) -> int | None:
    """The Content-Length in bytes, or None when there is none (a chunked upload) or it is not
    a number: the size must be known before the body is accepted."""
    text = request.headers.get("content-length", "")
    if not text.isdigit() or len(text) > 18:
        return None
    return int(text)


async def _read_limited(request: Request, limit: int) -> bytes:
    """Read at most ``limit`` bytes: an oversized body is cut, and then refused by size."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def authenticate_device_request(
    ingest: DeviceIngest,
    *,
    method: str,
    path: str,
    device_id: str,
    signed_at: str,
    signature: str,
    body: bytes,
) -> tuple[DeviceRecord | None, str | None]:
    """Check a request signed with contract.signing.device_request_headers: the device and no
    refusal when an active device signed it within the clock window, otherwise no device and
    the reason in words. Shared by every device-facing route that is not a signed envelope."""
    return authenticate_signed_request(
        ingest,
        method=method,
        path=path,
        device_id=device_id,
        signed_at=signed_at,
        signature=signature,
        body_sha256=hashlib.sha256(body).hexdigest(),
    )


def authenticate_signed_request(
    ingest: DeviceIngest,
    *,
    method: str,
    path: str,
    device_id: str,
    signed_at: str,
    signature: str,
    body_sha256: str,
) -> tuple[DeviceRecord | None, str | None]:
    """``authenticate_device_request`` given the hash the body must have rather than the body:
    an upload is authenticated before its body is read, and its bytes checked against the hash
    as they stream."""
    try:
        moment = parse_iso(signed_at)
    except ValueError:
        return None, f"X-Erap-Signed-At {signed_at!r} is not an ISO 8601 time with an offset"
    skew = timedelta(seconds=ingest.config.clock_skew_s)
    if abs(now_utc() - moment) > skew:
        return None, (
            f"the request was signed at {signed_at}, more than {ingest.config.clock_skew_s}"
            " seconds from the registry clock"
        )
    device = devices_by_id(ingest.store.db, {device_id}).get(device_id)
    if device is None:
        return None, f"device {device_id} is not registered"
    if not device.active:
        return None, f"device {device_id} has been revoked"
    data_to_verify = request_signing_bytes(
        method=method,
        path=path,
        device_id=device_id,
        signed_at=signed_at,
        body_sha256=body_sha256,
    )
    if not verify_signature(device.public_key, data_to_verify, signature):
        return None, f"the request signature does not verify with the key of {device_id}"
    return device, None


async def _refuse_upload(
    ingest: DeviceIngest, sha256: str, device_id: str, code: int, reason: str, detail: str
) -> JSONResponse:
    def record() -> None:
        with ingest.store.transaction() as db:
            record_dead_letter(
                db,
                received_at=iso(now_utc()),
                channel="http",
                topic=f"evidence/{sha256}"[:200],
                device_id=device_id[:64],
                reason=reason,
                detail=detail,
                payload=b"",  # the image is not kept: it may be large and is unverified
            )

    await run_in_threadpool(record)
    return JSONResponse({"error": reason, "detail": detail}, status_code=code)
