"""The console's appeals: the list waiting for a decision (supervisors decide; reviewers and
supervisors enter a court's decision with its reference, as the registry has no clerk's role),
one appeal with the driver's text and files, and the decision form. Decisions go through the
appeals service under the signed-in officer's name, as the API's do."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from central_ingest.api.auth import CASE_READER_ROLES, REVIEW_ROLES
from central_ingest.api.deps import ConfigDep, RegistryDep, StoreDep
from central_ingest.appeals import AppealService
from central_ingest.console.terms import term
from central_ingest.console.web import (
    ConsoleUser,
    form_action_for,
    page_for,
    render,
    user_translator,
)
from central_ingest.core.appeals import AppealDecision, DecidedAs
from central_ingest.core.errors import DomainError, NotFound
from i18n import Text

router = APIRouter(prefix="/console", include_in_schema=False)

AppealId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DECISIONS = tuple(AppealDecision)


def appeals_of(store: StoreDep, config: ConfigDep, registry: RegistryDep) -> AppealService:
    return AppealService(store, config, clock=registry.now)


AppealsDep = Annotated[AppealService, Depends(appeals_of)]


@router.get("/appeals")
def appeals_list(
    request: Request,
    user: Annotated[ConsoleUser, Depends(page_for(*REVIEW_ROLES))],
    appeals: AppealsDep,
    message: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    return render(request, "appeals.html", user, appeals=appeals.open_appeals(), message=message)


@router.get("/appeals/{appeal_id}")
def appeal_page(
    request: Request,
    appeal_id: AppealId,
    user: Annotated[ConsoleUser, Depends(page_for(*CASE_READER_ROLES))],
    appeals: AppealsDep,
    registry: RegistryDep,
    message: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    try:
        appeal = appeals.appeal(appeal_id)
    except NotFound as missing:
        translate = user_translator(request, user)
        return render(
            request,
            "error.html",
            user,
            status_code=404,
            title=translate.text(Text("No such appeal")),
            message=translate.text(missing.text),
        )
    return render(
        request,
        "appeal.html",
        user,
        appeal=appeal,
        case=registry.case(appeal.case_number),
        decisions=DECISIONS,
        may_decide=user.role in REVIEW_ROLES,
        message=message,
    )


@router.get("/appeals/{appeal_id}/files/{position}")
def appeal_file(
    appeal_id: AppealId,
    position: Annotated[int, Path(ge=1, le=5)],
    _: Annotated[ConsoleUser, Depends(page_for(*CASE_READER_ROLES))],
    appeals: AppealsDep,
) -> Response:
    try:
        path, kind, name = appeals.attachment_file(appeal_id, position)
    except NotFound:
        return Response(status_code=404)
    return FileResponse(
        path,
        media_type=kind.value,
        filename=name,
        content_disposition_type="inline",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )


@router.post("/appeals/{appeal_id}/decision")
def decide_appeal(
    request: Request,
    appeal_id: AppealId,
    user: Annotated[ConsoleUser, Depends(form_action_for(*REVIEW_ROLES))],
    appeals: AppealsDep,
    decision: Annotated[AppealDecision, Form()],
    court_reference: Annotated[str, Form(max_length=100)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    article: Annotated[str, Form(max_length=10)] = "",
    part: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Without a court's reference the decision is the supervisor's own; with one, it is the
    court's, entered by a reviewer or a supervisor."""
    translate = user_translator(request, user)
    decided_as = DecidedAs.COURT if court_reference.strip() else DecidedAs.SUPERVISOR
    try:
        appeals.check_decider(user.operator.username, decided_as)
        result = appeals.decide(
            appeal_id,
            user.operator.username,
            decision=decision,
            decided_as=decided_as,
            court_reference=court_reference,
            note=note,
            amended_article=article or None,
            amended_part=part or None,
        )
        message = translate.text(
            Text(
                "Appeal %(appeal)s decided: case %(case)s is now «%(status)s».",
                appeal=appeal_id,
                case=result.case_number,
                status=translate.gettext(term(result.case_status, "case_status")),
            )
        )
    except DomainError as refused:
        message = translate.text(refused.text)
    return RedirectResponse(
        f"/console/appeals/{appeal_id}?message={quote(message[:300], safe='')}", status_code=303
    )
