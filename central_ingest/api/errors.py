"""One error shape for every failure the API reports: {"error": code, "detail": sentence}.

``error`` is a stable machine code a client can branch on; ``detail`` is a sentence for the
person in front of the screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from central_ingest.audit import AuditError, RegistryKeyError, TreeHeadRefused, UnknownCase
from central_ingest.core.cases import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from central_ingest.operators import FAILED_LOGIN_WINDOW, AuthenticationFailed, TooManyAttempts


class ErrorBody(BaseModel):
    error: str
    detail: str


class ValidationProblem(BaseModel):
    location: str
    message: str


class InvalidRequestBody(ErrorBody):
    """422: a field failed validation (each one listed in ``problems``) or the request breaks a
    rule of the registry (``problems`` absent)."""

    problems: list[ValidationProblem] = Field(default_factory=list)


class ApiError(Exception):
    """An HTTP failure raised by the API layer itself (authentication, roles, bad cursors)."""

    def __init__(
        self, status_code: int, code: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


def error_response(
    status_code: int, code: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        ErrorBody(error=code, detail=detail).model_dump(),
        status_code=status_code,
        headers=dict(headers or {}),
    )


# Rules the registry refuses on; a DomainError of no listed kind is a broken rule (422).
_DOMAIN_ERROR_STATUS: dict[type[DomainError], int] = {
    AuthenticationFailed: 401,
    TooManyAttempts: 429,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
}

_AUDIT_ERROR_STATUS: dict[type[AuditError], int] = {
    UnknownCase: 404,
    TreeHeadRefused: 409,
    RegistryKeyError: 503,
}

_HTTP_CODES: dict[int, str] = {
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}

# Documented on routes that need a session, so that /docs lists them.
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No session, or an expired or ended one."},
    403: {"model": ErrorBody, "description": "The operator's role may not do this."},
}


def document_error_bodies(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents its own body for 422 (HTTPValidationError); this API answers with
    InvalidRequestBody instead (see ``_validation_error``). Point the documentation at it."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    ours = InvalidRequestBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(ours.pop("$defs", {}))
    components[ours["title"]] = ours
    theirs = "#/components/schemas/HTTPValidationError"
    for operation in (op for path in schema.get("paths", {}).values() for op in path.values()):
        for response in operation.get("responses", {}).values():
            for media in response.get("content", {}).values():
                if media.get("schema", {}).get("$ref") == theirs:
                    media["schema"] = {"$ref": f"#/components/schemas/{ours['title']}"}
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    return schema


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.code, exc.detail, exc.headers)


def domain_error_status(exc: DomainError) -> int:
    return next((code for kind, code in _DOMAIN_ERROR_STATUS.items() if isinstance(exc, kind)), 422)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = domain_error_status(exc)
    headers = (
        {"WWW-Authenticate": "Bearer"}
        if status == 401
        else {"Retry-After": str(int(FAILED_LOGIN_WINDOW.total_seconds()))}
        if status == 429
        else None
    )
    return error_response(status, exc.code, exc.message, headers)


async def _audit_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuditError)
    status = next(
        (code for kind, code in _AUDIT_ERROR_STATUS.items() if isinstance(exc, kind)), 500
    )
    return error_response(status, exc.code, exc.message)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        ValidationProblem(location=_location(tuple(err["loc"])), message=str(err["msg"]))
        for err in exc.errors()
    ]
    summary = "; ".join(f"{p.location}: {p.message}" for p in problems)
    body = InvalidRequestBody(
        error="invalid_request", detail=f"The request is not valid: {summary}.", problems=problems
    )
    return JSONResponse(body.model_dump(), status_code=422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = "There is no such resource."
    return error_response(exc.status_code, code, detail, exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(AuditError, _audit_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
