"""What the registry shows about appeals: the API returns these models as they are. Times are
UTC; the pages show them in Astana time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from central_ingest.core.appeals import (
    AppealChannel,
    AppealDecision,
    AppealStatus,
    AttachmentType,
    DecidedAs,
)
from central_ingest.core.cases import CaseStatus
from central_ingest.core.clock import parse_iso


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _time(value: Any) -> datetime | None:
    return None if value is None else parse_iso(str(value))


class AttachmentView(_View):
    position: int = Field(description="1 to 5, in the order the driver attached them")
    sha256: str
    file_name: str
    content_type: AttachmentType
    size_bytes: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AttachmentView:
        return cls(
            position=int(row["position"]),
            sha256=row["sha256"],
            file_name=row["file_name"],
            content_type=AttachmentType(row["content_type"]),
            size_bytes=int(row["size_bytes"]),
        )


class AppealView(_View):
    appeal_id: int
    case_number: str
    case_status: CaseStatus
    status: AppealStatus
    channel: AppealChannel
    text: str
    filed_at: datetime
    due_at: datetime = Field(description="the end of the appeal period it was filed within")
    decision: AppealDecision | None
    decided_as: DecidedAs | None
    decided_by: str | None
    decided_at: datetime | None
    court_reference: str | None
    decision_note: str | None
    amended_article: str | None
    amended_part: str | None
    amended_fine_minor: int | None
    attachments: list[AttachmentView]

    @classmethod
    def from_row(
        cls,
        row: Mapping[str, Any],
        case_status: CaseStatus,
        attachments: Sequence[Mapping[str, Any]],
    ) -> AppealView:
        fine = row["amended_fine_minor"]
        return cls(
            appeal_id=int(row["appeal_id"]),
            case_number=row["case_number"],
            case_status=case_status,
            status=AppealStatus(row["status"]),
            channel=AppealChannel(row["channel"]),
            text=row["text"],
            filed_at=parse_iso(str(row["filed_at"])),
            due_at=parse_iso(str(row["due_at"])),
            decision=None if row["decision"] is None else AppealDecision(row["decision"]),
            decided_as=None if row["decided_as"] is None else DecidedAs(row["decided_as"]),
            decided_by=row["decided_by"],
            decided_at=_time(row["decided_at"]),
            court_reference=row["court_reference"],
            decision_note=row["decision_note"],
            amended_article=row["amended_article"],
            amended_part=row["amended_part"],
            amended_fine_minor=None if fine is None else int(fine),
            attachments=[AttachmentView.from_row(item) for item in attachments],
        )
