"""What the registry shows about fixations, cases and cancellations: the API returns these
models as they are. Times are UTC; the user interface shows them in local time (UTC+5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from central_ingest.core.cases import CancellationStatus, CaseStatus, FixationStatus, RejectReason
from central_ingest.core.clock import parse_iso
from central_ingest.core.fines import amount_due_minor, discounted_minor
from contract import EvidenceRole, ViolationCode
from i18n.languages import Language, language_or_none


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _time(value: Any) -> datetime | None:
    return None if value is None else parse_iso(str(value))


def _required_time(value: Any) -> datetime:
    return parse_iso(str(value))


class EvidenceItem(_View):
    role: EvidenceRole
    sha256: str = Field(description="content hash; the image is served by it")


class RegisteredVehicle(_View):
    """What the vehicle register says about the plate as read, for the reviewer to compare
    with the photo. The owner's identity stays out of the review screen on purpose."""

    owner_kind: str
    make: str | None
    model: str | None
    colour: str | None


class FixationView(_View):
    fixation_id: str
    device_id: str
    sequence: int
    captured_at: datetime
    received_at: datetime
    violation: ViolationCode
    plate_text: str = Field(description="the plate as the camera read it")
    plate_confidence: float
    plate_format: str
    speed_kmh: float | None
    limit_kmh: int | None
    excess_kmh: float | None = Field(description="speed over the limit, for speeding")
    light_phase: str | None
    zone: str
    lat: float | None
    lon: float | None
    evidence: list[EvidenceItem]
    registered_vehicle: RegisteredVehicle | None = Field(
        description="the register's record for the plate as read; None when unknown"
    )
    status: FixationStatus
    decided_at: datetime | None
    decided_by: str | None
    reject_reason: RejectReason | None
    decision_note: str | None
    seconds_spent: float | None
    corrected_plate: str | None
    correction_reason: str | None
    case_number: str | None = Field(description="the case a confirmation opened")

    @classmethod
    def from_row(
        cls,
        row: Mapping[str, Any],
        *,
        evidence: Sequence[tuple[str, str]],
        registered_vehicle: RegisteredVehicle | None,
        case_number: str | None,
    ) -> FixationView:
        speed, limit = row["speed_kmh"], row["limit_kmh"]
        return cls(
            fixation_id=row["fixation_id"],
            device_id=row["device_id"],
            sequence=row["sequence"],
            captured_at=_required_time(row["captured_at"]),
            received_at=_required_time(row["received_at"]),
            violation=ViolationCode(row["violation"]),
            plate_text=row["plate_text"],
            plate_confidence=row["plate_confidence"],
            plate_format=row["plate_format"],
            speed_kmh=speed,
            limit_kmh=limit,
            excess_kmh=None if speed is None or limit is None else round(speed - limit, 3),
            light_phase=row["light_phase"],
            zone=row["zone"],
            lat=row["lat"],
            lon=row["lon"],
            evidence=[EvidenceItem(role=EvidenceRole(role), sha256=sha) for role, sha in evidence],
            registered_vehicle=registered_vehicle,
            status=FixationStatus(row["status"]),
            decided_at=_time(row["decided_at"]),
            decided_by=row["decided_by"],
            reject_reason=None
            if row["reject_reason"] is None
            else RejectReason(row["reject_reason"]),
            decision_note=row["decision_note"],
            seconds_spent=row["seconds_spent"],
            corrected_plate=row["corrected_plate"],
            correction_reason=row["correction_reason"],
            case_number=case_number,
        )


class CaseView(_View):
    case_number: str
    fixation_id: str | None = Field(
        description="the camera fixation it was opened from; None for a roadside protocol"
    )
    status: CaseStatus
    plate: str
    owner_id: str | None = Field(description="IIN or BIN; None when the register had no record")
    owner_name: str | None
    owner_phone: str | None
    owner_email: str | None
    owner_language: Language | None = Field(
        default=None, description="the owner's language for notices; None: unknown (kk and ru)"
    )
    violation: ViolationCode
    article: str
    part: str
    offence_at: datetime
    mrp_kzt: int = Field(description="MRP of the offence date, in KZT")
    fine_mrp: int
    full_minor: int = Field(description="the full fine, in tiyn")
    discounted_minor: int = Field(description="the fine if paid by the discount deadline")
    discount_percent: int
    amount_due_now_minor: int = Field(
        description="what is still to pay at the time of the request (0 once closed)"
    )
    paid_minor: int
    resolution_at: datetime
    resolved_by: str
    discount_deadline: datetime
    entry_into_force: datetime
    voluntary_deadline: datetime
    limitation_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, at: datetime) -> CaseView:
        status = CaseStatus(row["status"])
        full, percent = int(row["fine_minor"]), int(row["discount_percent"])
        discount_deadline = _required_time(row["discount_deadline"])
        paid = int(row["paid_minor"])
        due_now = (
            max(0, amount_due_minor(full, percent, discount_deadline, at) - paid)
            if status.unexecuted
            else 0
        )
        return cls(
            case_number=row["case_number"],
            fixation_id=row["fixation_id"],
            status=status,
            plate=row["plate"],
            owner_id=row["owner_id"],
            owner_name=row["owner_name"],
            owner_phone=row["owner_phone"],
            owner_email=row["owner_email"],
            owner_language=language_or_none(row["owner_language"]),
            violation=ViolationCode(row["violation"]),
            article=row["article"],
            part=row["part"],
            offence_at=_required_time(row["offence_at"]),
            mrp_kzt=row["mrp_kzt"],
            fine_mrp=row["fine_mrp"],
            full_minor=full,
            discounted_minor=discounted_minor(full, percent),
            discount_percent=percent,
            amount_due_now_minor=due_now,
            paid_minor=paid,
            resolution_at=_required_time(row["resolution_at"]),
            resolved_by=row["resolved_by"],
            discount_deadline=discount_deadline,
            entry_into_force=_required_time(row["entry_into_force"]),
            voluntary_deadline=_required_time(row["voluntary_deadline"]),
            limitation_at=_required_time(row["limitation_at"]),
            updated_at=_required_time(row["updated_at"]),
        )


class NoticeView(_View):
    """A notice sent to the vehicle's owner about the case, and what became of it."""

    notification_id: int
    kind: Literal[
        "case_opened",
        "discount_ending",
        "payment_received",
        "entered_into_force",
        "appeal_received",
        "appeal_decided",
        "handed_to_bailiffs",
    ] = Field(
        description="what the notice told the driver; case_opened is the resolution, the one a"
        " hand-over to bailiffs needs delivered"
    )
    attempt_round: int = Field(
        description="the resolution's notice: which attempt to tell the driver (sent again"
        " while every notice of the last round failed); 1 for the other kinds"
    )
    channel: Literal["sms", "email"]
    recipient: str
    language: str = Field(description="kk, ru, en, or kk,ru for one e-mail holding both")
    state: Literal["queued", "sent", "delivered", "failed"] = Field(
        description="queued: waiting, or to be tried again (reason: why the last try failed);"
        " sent: the SMSC or the mail relay accepted it; delivered: the operator confirmed every"
        " SMS part; failed: it will not be sent again (reason)"
    )
    attempts: int
    parts: int = Field(
        description="message ids the channel gave: one per SMS part, one for an"
        " e-mail; 0 before it was sent, and for the outbox file"
    )
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    reason: str | None = Field(description="the channel's words on the last failure")


class CancellationView(_View):
    request_id: int
    case_number: str
    case_status: CaseStatus
    status: CancellationStatus
    reason: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CancellationView:
        """``row`` is a cancellation_requests row joined with its case's status as
        ``case_status``."""
        return cls(
            request_id=row["request_id"],
            case_number=row["case_number"],
            case_status=CaseStatus(row["case_status"]),
            status=CancellationStatus(row["status"]),
            reason=row["reason"],
            requested_by=row["requested_by"],
            requested_at=_required_time(row["requested_at"]),
            decided_by=row["decided_by"],
            decided_at=_time(row["decided_at"]),
            decision_note=row["decision_note"],
        )
