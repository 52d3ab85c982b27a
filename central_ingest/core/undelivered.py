"""The supervisor's list of undelivered cases: overdue cases held from the bailiffs because
their driver was not told of the resolution (``core.driver_told``), as the API and the console
show them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from central_ingest.core.driver_told import HandoverRule, HeldReason, Told


class HeldCaseView(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_number: str
    plate: str
    owner_id: str | None
    owner_name: str | None
    has_phone: bool
    has_email: bool
    voluntary_deadline: datetime
    limitation_at: datetime
    reason: HeldReason = Field(
        description="no_contact: the register knows no phone or e-mail, nothing can be sent;"
        " awaiting_delivery: a notice is queued, or sent without a receipt yet;"
        " attempts_incomplete: rounds failed, fewer (or over fewer days) than the rule needs"
    )
    rounds: int = Field(description="rounds of the resolution's notice sent so far")
    failed_rounds: int
    attempts_required: int
    attempt_days: int
    first_failed_at: datetime | None
    last_failed_at: datetime | None
    last_error: str | None = Field(description="the channel's words on the last failure")

    @classmethod
    def build(
        cls,
        case: dict[str, object],
        told: Told,
        rule: HandoverRule,
        last_error: str | None,
    ) -> HeldCaseView:
        if told.held is None:
            raise ValueError("only a case whose driver was not told is held")
        return cls(
            case_number=str(case["case_number"]),
            plate=str(case["plate"]),
            owner_id=None if case["owner_id"] is None else str(case["owner_id"]),
            owner_name=None if case["owner_name"] is None else str(case["owner_name"]),
            has_phone=bool(case["owner_phone"]),
            has_email=bool(case["owner_email"]),
            voluntary_deadline=_moment(case["voluntary_deadline"]),
            limitation_at=_moment(case["limitation_at"]),
            reason=told.held,
            rounds=told.rounds,
            failed_rounds=told.failed_rounds,
            attempts_required=rule.attempts_required,
            attempt_days=rule.attempt_days,
            first_failed_at=told.first_failed_at,
            last_failed_at=told.last_failed_at,
            last_error=last_error,
        )


def _moment(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
