"""Officers' own figures, the supervisor's desk (cancellations, disagreements, the team's
figures), cases, and the prosecutor's view (removal outliers, audit status, case history with
inclusion proofs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from central_ingest.api.auth import AUDIT_ROLES, CASE_READER_ROLES, REVIEW_ROLES, SUPERVISOR_ROLES
from central_ingest.api.deps import ConfigDep, RegistryDep, StoreDep
from central_ingest.audit import (
    case_inclusion_proofs,
    key_id,
    latest_tree_head,
    load_registry_key,
    verify_registry,
)
from central_ingest.console.routes_review import DeskDep
from central_ingest.console.terms import term
from central_ingest.console.web import (
    ConsoleUser,
    form_action_for,
    page_for,
    render,
    user_translator,
)
from central_ingest.core.cases import CancellationStatus
from central_ingest.core.clock import local
from central_ingest.core.errors import DomainError, NotFound
from central_ingest.reports import removal_report
from central_ingest.store.review_stats import disagreements, figures_of, officer_figures
from central_ingest.store.roadside import protocol_of_case
from i18n import Text

router = APIRouter(prefix="/console", include_in_schema=False)

CaseNumber = Annotated[str, Path(min_length=3, max_length=40)]
REPORT_ROWS = 10


@router.get("/me")
def my_figures(
    request: Request,
    user: Annotated[ConsoleUser, Depends(page_for(*REVIEW_ROLES))],
    desk: DeskDep,
    store: StoreDep,
    config: ConfigDep,
) -> Response:
    now = desk.clock()
    day = local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return render(
        request,
        "me.html",
        user,
        registry_language=config.language,
        today=figures_of(store, user.operator.username, day, now),
        month=figures_of(store, user.operator.username, now - timedelta(days=30), now),
    )


# --- supervisor ------------------------------------------------------------------------------


@router.get("/supervisor")
def supervisor_desk(
    request: Request,
    user: Annotated[ConsoleUser, Depends(page_for(*SUPERVISOR_ROLES))],
    registry: RegistryDep,
    desk: DeskDep,
    store: StoreDep,
    message: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    now = desk.clock()
    return render(
        request,
        "supervisor.html",
        user,
        message=message,
        pending=registry.pending_cancellations(),
        disagreements=disagreements(store),
        team=officer_figures(store, now - timedelta(days=1), now),
        queue=registry.review_queue_size(),
    )


@router.post("/cancellations/{request_id}/decision")
def decide_cancellation(
    request: Request,
    request_id: Annotated[int, Path(ge=1)],
    user: Annotated[ConsoleUser, Depends(form_action_for(*SUPERVISOR_ROLES))],
    registry: RegistryDep,
    decision: Annotated[Literal["approve", "deny"], Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    translate = user_translator(request, user)
    try:
        result = registry.decide_cancellation(
            request_id, user.operator.username, approve=decision == "approve", note=note
        )
        facts = {
            "request": request_id,
            "case": result.case_number,
            "status": translate.gettext(term(result.case_status, "case_status")),
        }
        if result.status is CancellationStatus.APPROVED:
            message = translate.text(
                Text("Request %(request)s approved: case %(case)s is now «%(status)s».", **facts)
            )
        else:
            message = translate.text(
                Text("Request %(request)s denied: case %(case)s stays «%(status)s».", **facts)
            )
    except DomainError as refused:
        message = translate.text(refused.text)
    return RedirectResponse(f"/console/supervisor?message={_quoted(message)}", status_code=303)


def _quoted(text: str) -> str:
    return quote(text[:300], safe="")


# --- cases -----------------------------------------------------------------------------------


@router.get("/cases")
def find_cases(
    request: Request,
    user: Annotated[ConsoleUser, Depends(page_for(*CASE_READER_ROLES))],
    registry: RegistryDep,
    plate: Annotated[str, Query(max_length=20)] = "",
    owner: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """By plate, or by part of the owner's name as the officer types it: any letter case,
    Kazakh and Russian letters alike (the registry folds Unicode case, not ASCII only)."""
    cases, message = [], None
    if plate.strip() or owner.strip():
        try:
            cases = registry.find_cases(
                plate=plate if plate.strip() else None,
                owner_name=owner if owner.strip() else None,
            )
        except DomainError as refused:
            message = user_translator(request, user).text(refused.text)
    return render(
        request, "cases.html", user, plate=plate, owner=owner, cases=cases, message=message
    )


@router.get("/cases/{case_number}")
def case_page(
    request: Request,
    case_number: CaseNumber,
    user: Annotated[ConsoleUser, Depends(page_for(*CASE_READER_ROLES))],
    registry: RegistryDep,
    store: StoreDep,
    message: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    try:
        case = registry.case(case_number)
    except NotFound:
        translate = user_translator(request, user)
        return render(
            request,
            "error.html",
            user,
            status_code=404,
            title=translate.text(Text("No such case")),
            message=translate.text(Text("There is no case %(case)s.", case=case_number)),
        )
    # A roadside case was opened from an officer's protocol, not from a camera's fixation.
    fixation = None if case.fixation_id is None else registry.fixation(case.fixation_id)
    protocol = None if fixation is not None else protocol_of_case(store.db, case_number)
    proofs = None
    if user.role in AUDIT_ROLES:
        proofs = case_inclusion_proofs(store, case_number)
    pending = next(
        (item for item in registry.pending_cancellations() if item.case_number == case_number),
        None,
    )
    return render(
        request,
        "case.html",
        user,
        case=case,
        fixation=fixation,
        protocol=protocol,
        proofs=proofs,
        message=message,
        may_request=user.role in REVIEW_ROLES,
        pending=pending,
        notices=registry.case_notices(case_number),
    )


@router.post("/cases/{case_number}/cancellation")
def request_cancellation(
    request: Request,
    case_number: CaseNumber,
    user: Annotated[ConsoleUser, Depends(form_action_for(*REVIEW_ROLES))],
    registry: RegistryDep,
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    translate = user_translator(request, user)
    try:
        made = registry.request_cancellation(case_number, user.operator.username, reason)
        message = translate.text(
            Text(
                "Cancellation request %(request)s waits for a supervisor.", request=made.request_id
            )
        )
    except DomainError as refused:
        message = translate.text(refused.text)
    return RedirectResponse(
        f"/console/cases/{case_number}?message={_quoted(message)}", status_code=303
    )


# --- prosecutor ------------------------------------------------------------------------------


@router.get("/prosecutor")
def prosecutor_view(
    request: Request,
    user: Annotated[ConsoleUser, Depends(page_for(*AUDIT_ROLES))],
    store: StoreDep,
) -> Response:
    reports = {
        dimension: removal_report(store, dimension, min_events=1, limit=REPORT_ROWS)
        for dimension in ("plate", "officer", "camera")
    }
    return render(
        request,
        "prosecutor.html",
        user,
        reports=reports,
        head=latest_tree_head(store),
        verification=None,
    )


@router.get("/prosecutor/verify")
def prosecutor_verify(
    request: Request,
    user: Annotated[ConsoleUser, Depends(page_for(*AUDIT_ROLES))],
    store: StoreDep,
    config: ConfigDep,
) -> Response:
    """Runs the full verifier: it reads the whole ledger, so it is a page of its own."""
    path = config.registry_key_path
    report, trusted = None, None
    if path.exists():
        public_key = load_registry_key(path).public_key_b64
        trusted = key_id(public_key)
        report = verify_registry(store, public_key)
    return render(
        request,
        "verify.html",
        user,
        report=report,
        key_id=trusted,
        head=latest_tree_head(store),
    )
