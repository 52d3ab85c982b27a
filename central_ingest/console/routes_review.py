"""The review screen and the two calls its script makes: fetch the next item (preloading) and
send a decision, which answers with the item after the preloaded one in the same round trip."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from babel.numbers import get_group_symbol
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from central_ingest.api.auth import REVIEW_ROLES
from central_ingest.api.deps import StoreDep
from central_ingest.api.errors import ApiError
from central_ingest.console.desk import Decision, ItemKind, ReviewDesk, ReviewItem
from central_ingest.console.web import (
    ConsoleUser,
    api_action_for,
    fragment,
    page_for,
    render,
    user_translator,
)
from central_ingest.core.cases import RejectReason
from central_ingest.core.clock import local
from central_ingest.store.review_stats import figures_of
from i18n import Language, Text, Translator
from i18n.formatting import cldr_locale

router = APIRouter(prefix="/console", include_in_schema=False)

REJECT_KEYS = {str(number): reason for number, reason in enumerate(RejectReason, start=1)}
SECONDS_PER_DAY = 86_400
MAX_SKIP = 50

Reviewer = Annotated[ConsoleUser, Depends(page_for(*REVIEW_ROLES))]
ReviewerCall = Annotated[ConsoleUser, Depends(api_action_for(*REVIEW_ROLES))]


def desk_of(request: Request) -> ReviewDesk:
    desk: ReviewDesk = request.app.state.review_desk
    return desk


DeskDep = Annotated[ReviewDesk, Depends(desk_of)]
Skip = Annotated[list[str] | None, Query(max_length=MAX_SKIP)]


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    fixation_id: str = Field(min_length=1, max_length=64)
    kind: ItemKind
    action: Literal["confirm", "reject"]
    seconds_spent: float = Field(ge=0, lt=SECONDS_PER_DAY, allow_inf_nan=False)
    reason: RejectReason | None = None
    note: str = Field(default="", max_length=2000)
    corrected_plate: str | None = Field(default=None, max_length=20)
    correction_reason: str | None = Field(default=None, max_length=500)
    skip: list[str] = Field(default_factory=list, max_length=MAX_SKIP)


def review_messages(translate: Translator) -> dict[str, str]:
    """What the review script says, in the page's language: the script holds no sentence of
    its own. ``{name}`` marks where the script puts a value. The digit-group separator comes
    along from CLDR: browsers' own locale data may lack Kazakh."""
    slots = {"plate": "{plate}", "case": "{case}", "reason": "{reason}"}
    messages = {
        "confirmed": Text("Confirmed %(plate)s.", **slots),
        "confirmed_case": Text("Confirmed %(plate)s: case %(case)s.", **slots),
        "rejected": Text("Rejected %(plate)s.", **slots),
        "not_recorded": Text("Not recorded: %(reason)s", **slots),
        "load_failed": Text("Could not load the next item: %(reason)s", **slots),
        "put_aside": Text("Put aside for now."),
        "refused": Text("the registry refused the request."),
        "unreachable": Text("the registry cannot be reached; check the connection."),
        "signed_out": Text("The session has ended; sign in again."),
    }
    said = {key: translate.text(message) for key, message in messages.items()}
    return {**said, "number_group": get_group_symbol(cldr_locale(translate.language))}


def item_json(item: ReviewItem | None, language: Language) -> dict[str, Any] | None:
    if item is None:
        return None
    return {
        "fixation_id": item.fixation.fixation_id,
        "kind": item.kind.value,
        "html": fragment("_item.html", language, item=item, reject_keys=REJECT_KEYS),
        "images": [f"/v1/evidence/{evidence.sha256}" for evidence in item.fixation.evidence],
    }


@router.get("/review")
def review_page(request: Request, user: Reviewer, desk: DeskDep, store: StoreDep) -> Response:
    item = desk.next_item(user.operator.username)
    now = desk.clock()
    start_of_day = local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    figures = figures_of(store, user.operator.username, start_of_day, now)
    return render(
        request,
        "review.html",
        user,
        item=item,
        reject_keys=REJECT_KEYS,
        reject_keys_json=json.dumps({key: reason.value for key, reason in REJECT_KEYS.items()}),
        messages=review_messages(user_translator(request, user)),
        queue=desk.queue_size(user.operator.username),
        figures=figures,
    )


@router.get("/api/next")
def next_item(
    request: Request, user: ReviewerCall, desk: DeskDep, skip: Skip = None
) -> dict[str, Any]:
    item = desk.next_item(user.operator.username, skip or ())
    language = user_translator(request, user).language
    return {"next": item_json(item, language), "queue": desk.queue_size(user.operator.username)}


@router.post("/api/decisions")
def decide(
    request: Request, body: DecisionBody, user: ReviewerCall, desk: DeskDep
) -> dict[str, Any]:
    translate = user_translator(request, user)
    if body.action == "reject" and body.reason is None:
        raise ApiError(
            422,
            "reject_reason_required",
            translate.text(Text("A rejection needs a reason (keys 1-7).")),
        )
    outcome = desk.decide(
        user.operator.username,
        Decision(
            fixation_id=body.fixation_id,
            kind=body.kind,
            seconds_spent=body.seconds_spent,
            reject_reason=body.reason if body.action == "reject" else None,
            note=body.note,
            corrected_plate=body.corrected_plate or None,
            correction_reason=body.correction_reason or None,
        ),
    )
    following = desk.next_item(user.operator.username, body.skip)
    return {
        "decided": {
            "fixation_id": outcome.fixation_id,
            "kind": outcome.kind.value,
            "verdict": outcome.verdict,
            "case_number": outcome.case_number,
            "agrees": outcome.agrees,
            "cancellation_request_id": outcome.cancellation_request_id,
        },
        "next": item_json(following, translate.language),
        "queue": desk.queue_size(user.operator.username),
    }
