"""One error shape for every failure the API reports: {"error": code, "detail": sentence}.

``error`` is a stable machine code a client can branch on, the same in every language;
``detail`` is a sentence for the person in front of the screen, in the language the request
asks for (``Accept-Language``: Kazakh, Russian or English; otherwise the registry's configured
language), which the response names in ``Content-Language``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from central_ingest.audit import AuditError, RegistryKeyError, TreeHeadRefused, UnknownCase
from central_ingest.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from central_ingest.operators import AuthenticationFailed, TooManyAttempts
from central_ingest.store.errors import StoreUnavailable
from i18n import FALLBACK_LANGUAGE, Message, Text, Translator, as_text, negotiate, translator

log = logging.getLogger(__name__)

# The catalog of the registry's refusals (i18n/domains.py).
DOMAIN = "registry"


class ErrorBody(BaseModel):
    """Every refusal of this API. Branch on ``error``; show ``detail``."""

    error: str = Field(
        description="A stable machine code (e.g. case_not_found): it never changes with the"
        " language, so clients branch on it.",
        examples=["case_not_found"],
    )
    detail: str = Field(
        description="A sentence for people, in the language the request's Accept-Language"
        " asks for (kk, ru or en; otherwise the registry's default language); the response's"
        " Content-Language header names the language used.",
        examples=["Дело KZ-GP-2026-0000001 не найдено."],
    )


class ValidationProblem(BaseModel):
    location: str
    message: str


class InvalidRequestBody(ErrorBody):
    """422: a field failed validation (each one listed in ``problems``, as the validator words
    it, in English) or the request breaks a rule of the registry (``problems`` absent)."""

    problems: list[ValidationProblem] = Field(default_factory=list)


class ApiError(Exception):
    """An HTTP failure raised by the API layer itself (authentication, roles, bad cursors).
    ``text`` is rendered in the reader's language; ``detail`` is the English sentence."""

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str | Message,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        text = as_text(detail)
        english = text.render(None)
        super().__init__(english)
        self.status_code = status_code
        self.code = code
        self.detail = english
        self.text: Message = text
        self.headers = dict(headers or {})


def request_translator(request: Request) -> Translator:
    """The catalog a refusal is rendered with. A page that knows its reader better than the
    header does (the console knows the signed-in officer's language) puts its ``Translator``
    on ``request.state.translator``; otherwise the request's Accept-Language decides, and the
    registry's configured language when it names none of kk, ru, en."""
    chosen = getattr(request.state, "translator", None)
    if isinstance(chosen, Translator):
        return chosen
    config = getattr(request.app.state, "config", None)
    default = getattr(config, "language", FALLBACK_LANGUAGE)
    return translator(DOMAIN, negotiate(request.headers.get("accept-language"), default))


def error_response(
    request: Request,
    status_code: int,
    code: str,
    detail: str | Message,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    reader = request_translator(request)
    return JSONResponse(
        ErrorBody(error=code, detail=reader.text(as_text(detail))).model_dump(),
        status_code=status_code,
        headers={**(headers or {}), **_language_headers(reader)},
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

# Refusals by the framework itself (no route, wrong method, ...): the code, and the sentence
# that replaces Starlette's English status phrase.
_HTTP_CODES: dict[int, tuple[str, Text]] = {
    404: ("not_found", Text("There is no such resource.")),
    405: ("method_not_allowed", Text("This resource does not accept this method.")),
    406: ("not_acceptable", Text("The registry cannot answer in the format the request asks for.")),
    413: ("payload_too_large", Text("The request is too large.")),
    415: ("unsupported_media_type", Text("The registry does not accept this type of content.")),
}

# Documented on routes that need a session, so that /docs lists them.
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No session, or an expired or ended one."},
    403: {"model": ErrorBody, "description": "The operator's role may not do this."},
}

# Documented where the answer carries it (429, and 503 when the registry asks to come back).
RETRY_AFTER_HEADER: dict[str, Any] = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def refusal(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    """One documented refusal with the ErrorBody every refusal of this API has."""
    documented: dict[str, Any] = {"model": ErrorBody, "description": description}
    if retry_after:
        documented["headers"] = RETRY_AFTER_HEADER
    return documented


def document_error_bodies(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents its own body for 422 (HTTPValidationError); this API answers with
    InvalidRequestBody instead (see ``_validation_error``). Point the documentation at it."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    ours = InvalidRequestBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(ours.pop("$defs", {}))
    components[ours["title"]] = ours
    theirs = "#/components/schemas/HTTPValidationError"
    for operation in (op for path in schema.get("paths", {}).values() for op in path.values()):
        if "requestBody" in operation:
            # The framework refuses a body it cannot parse (not JSON, a broken form) with 400
            # before any route code runs (``_http_error`` gives it our ErrorBody).
            operation["responses"].setdefault("400", _UNPARSABLE_BODY)
        for response in operation.get("responses", {}).values():
            for media in response.get("content", {}).values():
                if media.get("schema", {}).get("$ref") == theirs:
                    media["schema"] = {"$ref": f"#/components/schemas/{ours['title']}"}
    components.setdefault("ErrorBody", ErrorBody.model_json_schema())
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    return schema


_UNPARSABLE_BODY: dict[str, Any] = {
    "description": "The body cannot be parsed (not JSON, or a broken form).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(request, exc.status_code, exc.code, exc.text, exc.headers)


def domain_error_status(exc: DomainError) -> int:
    return next((code for kind, code in _DOMAIN_ERROR_STATUS.items() if isinstance(exc, kind)), 422)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = domain_error_status(exc)
    headers = (
        {"WWW-Authenticate": "Bearer"}
        if status == 401
        else {"Retry-After": str(exc.retry_after_seconds)}
        if isinstance(exc, TooManyAttempts)
        else None
    )
    return error_response(request, status, exc.code, exc.text, headers)


async def _audit_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuditError)
    status = next(
        (code for kind, code in _AUDIT_ERROR_STATUS.items() if isinstance(exc, kind)), 500
    )
    return error_response(request, status, exc.code, exc.text)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """The sentence is translated; the problems stay as the validator words them (pydantic's
    English), each with the field it is about, so that a client can point at the field."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        ValidationProblem(location=_location(tuple(err["loc"])), message=str(err["msg"]))
        for err in exc.errors()
    ]
    summary = "; ".join(f"{p.location}: {p.message}" for p in problems)
    reader = request_translator(request)
    body = InvalidRequestBody(
        error="invalid_request",
        detail=reader.text(Text("The request is not valid: %(problems)s.", problems=summary)),
        problems=problems,
    )
    return JSONResponse(body.model_dump(), status_code=422, headers=_language_headers(reader))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, sentence = _HTTP_CODES.get(
        exc.status_code, (f"http_{exc.status_code}", Text("The request failed."))
    )
    detail: str | Message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if _is_status_phrase(exc.status_code, str(detail)):
        # Starlette's own English phrase ("Not Found"): say it as a sentence, translated.
        detail = sentence
    return error_response(request, exc.status_code, code, detail, exc.headers)


# A database failover takes seconds (bench/failover.py): a client waits that long and tries
# again, as a camera's sender and the terminal do with any 503.
UNAVAILABLE_RETRY_AFTER_S = 5


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StoreUnavailable)
    log.warning("answered 503: %s", exc)
    return error_response(
        request,
        503,
        "database_unavailable",
        Text(
            "The registry's database is not answering at the moment (a failover takes a few"
            " seconds): try again shortly."
        ),
        {"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)},
    )


def _is_status_phrase(status_code: int, detail: str) -> bool:
    try:
        return detail == HTTPStatus(status_code).phrase
    except ValueError:
        return False


def _language_headers(reader: Translator) -> dict[str, str]:
    # Caches must not hand one reader's language to another.
    return {"Content-Language": reader.language, "Vary": "Accept-Language"}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(AuditError, _audit_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
