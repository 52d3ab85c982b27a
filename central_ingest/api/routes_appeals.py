"""Appeals: the driver files one (``POST /v1/cases/{n}/appeals``, multipart: the plate, the
text and up to five photos or PDFs), supervisors list and decide them, and an officer of the
review desk enters a court's decision with the court's reference (the registry has no clerk's
role: reviewers and supervisors enter what the court sent). Decisions are recorded under the
signed-in operator, never a name from the request body.

The driver is not signed in: the case number and the plate printed on the notice are his key,
and a wrong pair gets the same answer as an unknown case. The driver's page throttle (per
client address and per case number) applies here as on the page's lookup form, so the route
cannot be used to enumerate cases."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from central_ingest.api.auth import CaseReader, ReviewOfficer, Supervisor
from central_ingest.api.deps import MAX_SQLITE_INTEGER, ConfigDep, RegistryDep, StoreDep
from central_ingest.api.errors import AUTH_RESPONSES, ErrorBody, error_response
from central_ingest.appeals import AppealService, Upload
from central_ingest.appeals.service import NO_SUCH_CASE_FOR_DRIVER
from central_ingest.core.appeal_views import AppealView
from central_ingest.core.appeals import AppealDecision, DecidedAs
from central_ingest.core.errors import InvalidInput, NotFound
from i18n.text import Text

router = APIRouter(prefix="/v1", tags=["appeals"])

CaseNumber = Annotated[str, Path(min_length=3, max_length=40)]
AppealId = Annotated[int, Path(ge=1, le=MAX_SQLITE_INTEGER)]
# Parsed before the rules count them, so that a sixth file gets the rule's sentence and a
# flood of parts is cut off by the parser.
_MAX_PARTS = 20

_REFUSED: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such case (or plate), or no such appeal."},
    409: {
        "model": ErrorBody,
        "description": "Filed late (the sentence names the date it was due), already"
        " appealed, or already decided.",
    },
    422: {
        "model": ErrorBody,
        "description": "A file refused (type by content, size, count), or a decision incomplete.",
    },
}


class _Throttle(Protocol):
    """The driver's page throttle (central_ingest/driver/throttle.py), when it is mounted."""

    def admit(self, host: str | None, case_number: str) -> Any: ...

    def wrong_pair(self, case_number: str) -> None: ...


def appeals_of(store: StoreDep, config: ConfigDep, registry: RegistryDep) -> AppealService:
    return AppealService(store, config, clock=registry.now)


AppealsDep = Annotated[AppealService, Depends(appeals_of)]


async def read_uploads(files: list[UploadFile], most_bytes: int) -> list[Upload]:
    """Each file read to one byte past the limit at most: an oversized file is refused by the
    rules without being held whole."""
    uploads = []
    for item in files:
        data = await item.read(most_bytes + 1)
        uploads.append(Upload(item.filename or "", data))
    return uploads


@router.post(
    "/cases/{case_number}/appeals",
    response_model=AppealView,
    status_code=status.HTTP_201_CREATED,
    responses={**_REFUSED, 429: {"model": ErrorBody, "description": "Too many attempts."}},
    summary="The driver appeals the resolution (multipart: plate, text, files)",
)
async def file_appeal(
    case_number: CaseNumber, request: Request, appeals: AppealsDep, config: ConfigDep
) -> Response:
    """Within the appeal period only; the appeal suspends the resolution at once (no entry
    into force, no hand-over to bailiffs) until it is decided."""
    form = await request.form(max_files=_MAX_PARTS, max_fields=_MAX_PARTS)
    plate, text = form.get("plate"), form.get("text")
    files = [item for item in form.getlist("files") if isinstance(item, UploadFile)]
    throttle: _Throttle | None = getattr(request.app.state, "driver_throttle", None)
    if throttle is not None:
        throttled = throttle.admit(request.client.host if request.client else None, case_number)
        if throttled is not None:
            return error_response(
                request,
                429,
                "too_many_attempts",
                Text("Too many attempts: try again in a few minutes."),
                {"Retry-After": str(throttled.retry_after_s)},
            )
    if not isinstance(plate, str) or not isinstance(text, str):
        raise InvalidInput(
            "appeal_form_incomplete",
            Text("An appeal names the plate and says why the resolution is wrong."),
        )
    uploads = await read_uploads(files, config.appeals.max_file_bytes)
    try:
        appeal = appeals.file_for_driver(case_number, plate, text, uploads)
    except NotFound as refused:
        if throttle is not None and refused.code == NO_SUCH_CASE_FOR_DRIVER:
            throttle.wrong_pair(case_number)
        raise
    return JSONResponse(
        appeal.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/v1/appeals/{appeal.appeal_id}"},
    )


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DecisionBody(_Body):
    decision: AppealDecision
    note: str = Field(default="", max_length=2000)
    amended_article: str | None = Field(default=None, max_length=10)
    amended_part: str | None = Field(default=None, max_length=10)


class CourtDecisionBody(DecisionBody):
    court_reference: str = Field(
        min_length=1, max_length=100, description="The court's case number."
    )


@router.get(
    "/appeals",
    response_model=list[AppealView],
    responses=AUTH_RESPONSES,
    summary="Appeals waiting for a decision, oldest first",
)
def open_appeals(
    _: CaseReader,
    appeals: AppealsDep,
    appeal_status: Annotated[Literal["open"], Query(alias="status")] = "open",
) -> list[AppealView]:
    return appeals.open_appeals()


@router.get(
    "/appeals/{appeal_id}",
    response_model=AppealView,
    responses={**AUTH_RESPONSES, **_REFUSED},
    summary="One appeal",
)
def appeal(appeal_id: AppealId, _: CaseReader, appeals: AppealsDep) -> AppealView:
    return appeals.appeal(appeal_id)


@router.get(
    "/cases/{case_number}/appeal",
    response_model=AppealView | None,
    responses={**AUTH_RESPONSES, **_REFUSED},
    summary="The case's appeal, or null",
)
def case_appeal(case_number: CaseNumber, _: CaseReader, appeals: AppealsDep) -> AppealView | None:
    return appeals.appeal_of_case(case_number)


@router.get(
    "/appeals/{appeal_id}/attachments/{position}",
    responses={**AUTH_RESPONSES, **_REFUSED},
    summary="One of the appeal's files, as the driver sent it",
)
def attachment(
    appeal_id: AppealId,
    position: Annotated[int, Path(ge=1, le=5)],
    _: CaseReader,
    appeals: AppealsDep,
) -> FileResponse:
    path, kind, name = appeals.attachment_file(appeal_id, position)
    return FileResponse(
        path,
        media_type=kind.value,
        filename=name,
        # Shown to an officer, never run: the browser must not guess another type.
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )


@router.post(
    "/appeals/{appeal_id}/decision",
    response_model=AppealView,
    responses={**AUTH_RESPONSES, **_REFUSED},
    summary="A supervisor decides an appeal: upheld, cancelled or amended",
)
def decide(
    appeal_id: AppealId, body: DecisionBody, supervisor: Supervisor, appeals: AppealsDep
) -> AppealView:
    return appeals.decide(
        appeal_id,
        supervisor.username,
        decision=body.decision,
        decided_as=DecidedAs.SUPERVISOR,
        note=body.note,
        amended_article=body.amended_article,
        amended_part=body.amended_part,
    )


@router.post(
    "/appeals/{appeal_id}/court-decision",
    response_model=AppealView,
    responses={**AUTH_RESPONSES, **_REFUSED},
    summary="Enter a court's decision on an appeal, with the court's reference",
)
def enter_court_decision(
    appeal_id: AppealId, body: CourtDecisionBody, officer: ReviewOfficer, appeals: AppealsDep
) -> AppealView:
    return appeals.decide(
        appeal_id,
        officer.username,
        decision=body.decision,
        decided_as=DecidedAs.COURT,
        court_reference=body.court_reference,
        note=body.note,
        amended_article=body.amended_article,
        amended_part=body.amended_part,
    )
