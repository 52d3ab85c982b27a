"""Cases and their cancellation, which takes two people: one officer asks, a supervisor who is
someone else decides. Both are the signed-in operators, never names from the request body."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from central_ingest.api.auth import CaseReader, ReviewOfficer, Supervisor
from central_ingest.api.deps import MAX_SQLITE_INTEGER, RegistryDep
from central_ingest.api.errors import AUTH_RESPONSES, ErrorBody, InvalidRequestBody
from central_ingest.cases import MAX_NAME_SEARCH_LENGTH, MAX_NAME_SEARCH_RESULTS
from central_ingest.core.views import CancellationView, CaseView, NoticeView

router = APIRouter(prefix="/v1", tags=["cases"], responses=AUTH_RESPONSES)

CaseNumber = Annotated[str, Path(min_length=3, max_length=40)]

_NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "No such case or request."},
}
_REFUSED: dict[int | str, dict[str, object]] = {
    **_NOT_FOUND,
    409: {
        "model": ErrorBody,
        "description": "The case or request is not in a state that allows"
        " this (closed, already decided).",
    },
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CancellationRequestBody(_Body):
    reason: str = Field(min_length=1, max_length=2000, description="Why the case should go.")


class CancellationDecisionBody(_Body):
    decision: Literal["approve", "deny"]
    note: str = Field(default="", max_length=2000)


@router.get(
    "/cases/{case_number}", response_model=CaseView, responses=_NOT_FOUND, summary="One case"
)
def case(case_number: CaseNumber, _: CaseReader, registry: RegistryDep) -> CaseView:
    """The case with the amount due at this moment (the discount applies until its deadline)."""
    return registry.case(case_number)


@router.get(
    "/cases/{case_number}/notices",
    response_model=list[NoticeView],
    responses=_NOT_FOUND,
    summary="The notices sent about a case, and what became of each",
)
def case_notices(case_number: CaseNumber, _: CaseReader, registry: RegistryDep) -> list[NoticeView]:
    """Each SMS and e-mail to the owner, oldest first: queued, sent (accepted by the SMSC or
    the mail relay), delivered (the operator's receipt for every part), or failed, with the
    channel's reason."""
    return registry.case_notices(case_number)


@router.get(
    "/cases",
    response_model=list[CaseView],
    responses={
        422: {
            "model": InvalidRequestBody,
            "description": "No criterion given, or a name too short or too long.",
        },
    },
    summary="Find cases by plate, owner or the owner's name",
)
def find_cases(
    _: CaseReader,
    registry: RegistryDep,
    plate: Annotated[str | None, Query(max_length=20, examples=["123ABC01"])] = None,
    owner_id: Annotated[
        str | None, Query(max_length=12, description="IIN or BIN of the owner.")
    ] = None,
    owner_name: Annotated[
        str | None,
        Query(
            max_length=MAX_NAME_SEARCH_LENGTH,
            description="Part of the owner's name, in any letter case (Kazakh and Russian"
            " letters fold as well as Latin ones: 'серік' finds 'Серік'); % and _ are"
            f" matched as typed. At most {MAX_NAME_SEARCH_RESULTS} cases, newest first.",
            examples=["серік"],
        ),
    ] = None,
) -> list[CaseView]:
    """Criteria combine: plate and owner_name finds the cases of that plate whose owner's
    name contains the text."""
    return registry.find_cases(plate=plate, owner_id=owner_id, owner_name=owner_name)


@router.post(
    "/cases/{case_number}/cancellation-requests",
    response_model=CancellationView,
    status_code=status.HTTP_201_CREATED,
    responses=_REFUSED,
    summary="Ask for a case to be cancelled",
)
def request_cancellation(
    case_number: CaseNumber,
    body: CancellationRequestBody,
    officer: ReviewOfficer,
    registry: RegistryDep,
    response: Response,
) -> CancellationView:
    """A supervisor other than the requesting officer must then approve or deny it."""
    request = registry.request_cancellation(case_number, officer.username, body.reason)
    response.headers["Location"] = f"/v1/cancellation-requests/{request.request_id}"
    return request


@router.get(
    "/cancellation-requests",
    response_model=list[CancellationView],
    summary="Cancellation requests waiting for a supervisor",
)
def cancellation_requests(
    _: Supervisor,
    registry: RegistryDep,
    request_status: Annotated[
        Literal["pending"],
        Query(
            alias="status",
            description="Only pending requests are listed here; decided ones"
            " are in the removal reports and the audit trail.",
        ),
    ] = "pending",
) -> list[CancellationView]:
    return registry.pending_cancellations()


@router.post(
    "/cancellation-requests/{request_id}/decision",
    response_model=CancellationView,
    responses={
        **_REFUSED,
        403: {
            "model": ErrorBody,
            "description": "Not a supervisor, or the supervisor asked for"
            " this cancellation (two-person rule).",
        },
    },
    summary="Approve or deny a cancellation request",
)
def decide_cancellation(
    request_id: Annotated[int, Path(ge=1, le=MAX_SQLITE_INTEGER)],
    body: CancellationDecisionBody,
    supervisor: Supervisor,
    registry: RegistryDep,
) -> CancellationView:
    return registry.decide_cancellation(
        request_id, supervisor.username, approve=body.decision == "approve", note=body.note
    )
