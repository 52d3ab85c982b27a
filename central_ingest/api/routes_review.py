"""Reviewing fixations: the officer's "yes" or "no", recorded under the signed-in officer's name.

The officer is always the authenticated operator; request bodies cannot name one (unknown
fields are refused). Time spent comes from the console, which measures it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from central_ingest.api.auth import CaseReader, ReviewOfficer
from central_ingest.api.deps import RegistryDep
from central_ingest.api.errors import AUTH_RESPONSES, ErrorBody, InvalidRequestBody
from central_ingest.api.ingest_routes import DeviceIngest
from central_ingest.core.cases import RejectReason
from central_ingest.core.errors import NotFound
from central_ingest.core.views import CaseView, FixationView
from contract.wire import SHA256_HEX_PATTERN
from i18n import Text

router = APIRouter(prefix="/v1", tags=["review"], responses=AUTH_RESPONSES)

SECONDS_PER_DAY = 86_400

SecondsSpent = Annotated[
    float,
    Field(
        ge=0,
        lt=SECONDS_PER_DAY,
        allow_inf_nan=False,
        description="Seconds the officer spent on this fixation, as measured by the console.",
    ),
]
FixationId = Annotated[str, Path(min_length=1, max_length=64)]

_DECISION_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "No such fixation."},
    409: {"model": ErrorBody, "description": "The fixation has already been decided."},
    422: {
        "model": InvalidRequestBody,
        "description": "The decision is incomplete or contradictory.",
    },
}


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ConfirmDecision(_Decision):
    seconds_spent: SecondsSpent
    corrected_plate: str | None = Field(
        default=None,
        max_length=20,
        description="The plate as the officer reads it on the photo, when the camera misread it.",
    )
    correction_reason: str | None = Field(
        default=None, max_length=500, description="Why the plate was corrected (required then)."
    )
    note: str | None = Field(default=None, max_length=2000)


class RejectDecision(_Decision):
    reason: RejectReason
    note: str = Field(
        default="", max_length=2000, description="Free text; required for reason 'other'."
    )
    seconds_spent: SecondsSpent


class QueueSize(BaseModel):
    awaiting_review: int


@router.get("/review/queue", response_model=QueueSize, summary="How many fixations wait")
def queue_size(_: ReviewOfficer, registry: RegistryDep) -> QueueSize:
    return QueueSize(awaiting_review=registry.review_queue_size())


@router.get(
    "/review/next",
    response_model=FixationView,
    responses={204: {"description": "Nothing is waiting for review."}},
    summary="The next fixation to review",
)
def next_fixation(
    officer: ReviewOfficer,
    registry: RegistryDep,
    skip: Annotated[
        list[str] | None,
        Query(max_length=200, description="Fixation ids the officer has put aside for now."),
    ] = None,
) -> FixationView | Response:
    """The fixation that has waited longest. It is kept from other reviewers for a few
    minutes, so that two officers do not review the same fixation."""
    fixation = registry.next_fixation(officer.username, skip or ())
    if fixation is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return fixation


@router.get(
    "/fixations/{fixation_id}",
    response_model=FixationView,
    responses={404: {"model": ErrorBody, "description": "No such fixation."}},
    summary="One fixation, with its decision if made",
)
def fixation(fixation_id: FixationId, _: CaseReader, registry: RegistryDep) -> FixationView:
    return registry.fixation(fixation_id)


@router.get(
    "/evidence/{sha256}",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The JPEG as the device sent it."},
        404: {"model": ErrorBody, "description": "No image with that hash is stored."},
    },
    summary="An evidence image, addressed by its sha256",
)
def evidence_image(
    sha256: Annotated[str, Path(pattern=SHA256_HEX_PATTERN)], _: CaseReader, request: Request
) -> FileResponse:
    ingest: DeviceIngest = request.app.state.device_ingest
    path = ingest.evidence.path_for(sha256)
    if not path.exists():
        raise NotFound(
            "evidence_not_found", Text("No evidence image %(sha256)s is stored.", sha256=sha256)
        )
    # Content-addressed: the bytes behind a hash never change.
    return FileResponse(
        path,
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=86400, immutable"},
    )


@router.post(
    "/fixations/{fixation_id}/confirm",
    response_model=CaseView,
    status_code=status.HTTP_201_CREATED,
    responses=_DECISION_ERRORS,
    summary="Confirm a fixation: the case is opened",
)
def confirm(
    fixation_id: FixationId,
    decision: ConfirmDecision,
    officer: ReviewOfficer,
    registry: RegistryDep,
    response: Response,
) -> CaseView:
    """The officer's "yes": the fixation becomes an administrative case against the registered
    owner, with the fine of the offence date, and the owner is notified."""
    case = registry.confirm_fixation(
        fixation_id,
        officer.username,
        seconds_spent=decision.seconds_spent,
        corrected_plate=decision.corrected_plate,
        correction_reason=decision.correction_reason,
        note=decision.note,
    )
    response.headers["Location"] = f"/v1/cases/{case.case_number}"
    return case


@router.post(
    "/fixations/{fixation_id}/reject",
    response_model=FixationView,
    responses=_DECISION_ERRORS,
    summary="Reject a fixation with a reason from the fixed list",
)
def reject(
    fixation_id: FixationId,
    decision: RejectDecision,
    officer: ReviewOfficer,
    registry: RegistryDep,
) -> FixationView:
    return registry.reject_fixation(
        fixation_id,
        officer.username,
        reason=decision.reason,
        note=decision.note,
        seconds_spent=decision.seconds_spent,
    )
