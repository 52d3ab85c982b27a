"""The appeals service: owns the transactions, the clock and the configuration; the rules are
core/appeals.py's, the SQL store/appeals.py's, the files store/appeal_files.py's.

Filing checks everything before writing anything: the period, the text, then each file's size
and real type (a refusal names the file and why, and nothing is stored). The files are written
(content-addressed, durable) before the transaction that records the appeal, so a committed
appeal never names a missing file; a refusal after that leaves only unreferenced files.

Who may decide (a supervisor; for a court's decision, an officer of the review desk entering
it, as the registry has no clerk's role) is checked by the API and the console; the service
records the decision against the signed-in operator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from central_ingest.appeals.content import checked_type
from central_ingest.config import RegistryConfig
from central_ingest.core import appeals as rules
from central_ingest.core import cases as case_rules
from central_ingest.core import fines
from central_ingest.core.appeal_views import AppealView
from central_ingest.core.appeals import (
    AppealChannel,
    AppealDecision,
    AppealStatus,
    AttachmentType,
    DecidedAs,
)
from central_ingest.core.cases import CaseStatus
from central_ingest.core.clock import parse_iso
from central_ingest.core.errors import Forbidden, InvalidInput, NotFound
from central_ingest.notify.outbox import queue_status_notice
from central_ingest.store import appeals as store
from central_ingest.store.appeal_files import AppealFiles
from central_ingest.store.case_reads import case_row, require_case
from central_ingest.store.db import Database, Store
from central_ingest.store.operators import operator_row, require_operator
from contract import now_utc
from i18n.text import Text

MAX_OPEN_LIST = 500
NO_SUCH_CASE_FOR_DRIVER = "case_plate_mismatch"
# Who may record which decision (the API's Supervisor and ReviewOfficer dependencies).
_DECIDERS = {
    DecidedAs.SUPERVISOR: frozenset({"supervisor"}),
    DecidedAs.COURT: frozenset({"reviewer", "supervisor"}),
}


@dataclass(frozen=True)
class Upload:
    """A file as the driver sent it: the name their device gave it, and its bytes."""

    name: str
    data: bytes


def no_such_case_for_driver() -> NotFound:
    """The one answer for a wrong case number and for a wrong plate, so the form tells nobody
    which cases exist."""
    return NotFound(
        NO_SUCH_CASE_FOR_DRIVER,
        Text("No case matches this case number and plate; check both on the notice."),
    )


class AppealService:
    def __init__(
        self, store: Store, config: RegistryConfig, clock: Callable[[], datetime] = now_utc
    ) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self._files = AppealFiles(config.evidence_dir)

    def _now(self) -> datetime:
        moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the registry clock must return timezone-aware UTC times")
        return moment

    # --- filing ------------------------------------------------------------------------------

    def file_for_driver(
        self, case_number: str, plate: str, text: str, files: Sequence[Upload]
    ) -> AppealView:
        """An appeal from someone who names the case and its plate (the notice carries both)."""
        row = case_row(self._store.db, case_number)
        try:
            plate_given = case_rules.normalise_plate(plate)
        except InvalidInput:
            raise no_such_case_for_driver() from None
        if row is None or row["plate"] != plate_given:
            raise no_such_case_for_driver()
        return self.file(case_number, text, files, channel=AppealChannel.DRIVER_PAGE)

    def file(
        self,
        case_number: str,
        text: str,
        files: Sequence[Upload],
        *,
        channel: AppealChannel = AppealChannel.DRIVER_PAGE,
    ) -> AppealView:
        """File an appeal on a case the caller has already tied the driver to (the driver's
        page's token, or case number and plate)."""
        now = self._now()
        db = self._store.db
        case = require_case(db, case_number)
        body = rules.check_filing(
            case_number,
            status=CaseStatus(case["status"]),
            due=parse_iso(case["entry_into_force"]),
            already_appealed=store.appeal_of_case(db, case_number) is not None,
            text=text,
            now=now,
        )
        checked = self._checked_files(files)
        records = [
            store.AttachmentRecord(
                sha256=self._files.put(upload.data, kind),
                file_name=rules.stored_file_name(upload.name),
                content_type=kind,
                size_bytes=len(upload.data),
            )
            for upload, kind in checked
        ]
        with self._store.transaction() as tx:
            # Read again under the write lock: the case may have moved since.
            fresh = require_case(tx, case_number)
            due = parse_iso(fresh["entry_into_force"])
            rules.check_filing(
                case_number,
                status=CaseStatus(fresh["status"]),
                due=due,
                already_appealed=store.appeal_of_case(tx, case_number) is not None,
                text=body,
                now=now,
            )
            appeal_id = store.file_appeal(
                tx, fresh, text=body, channel=channel, due=due, attachments=records, now=now
            )
            # The driver is told in the same transaction (notify/outbox.py).
            queue_status_notice(
                tx, case_number, "appeal_received", now, config=self._config, appeal_id=appeal_id
            )
        return self.appeal(appeal_id)

    def _checked_files(self, files: Sequence[Upload]) -> list[tuple[Upload, AttachmentType]]:
        settings = self._config.appeals
        rules.check_attachment_count(len(files), settings.max_files)
        checked = []
        for upload in files:
            rules.check_attachment_size(upload.name, len(upload.data), settings.max_file_bytes)
            kind = checked_type(upload.name, upload.data, max_pixels=settings.max_image_pixels)
            checked.append((upload, kind))
        return checked

    # --- deciding ----------------------------------------------------------------------------

    def decide(
        self,
        appeal_id: int,
        officer: str,
        *,
        decision: AppealDecision,
        decided_as: DecidedAs,
        court_reference: str | None = None,
        note: str = "",
        amended_article: str | None = None,
        amended_part: str | None = None,
    ) -> AppealView:
        ruling = rules.ruling(
            decision=decision,
            decided_as=decided_as,
            court_reference=court_reference,
            note=note,
            amended_article=amended_article,
            amended_part=amended_part,
        )
        now = self._now()
        config = self._config
        with self._store.transaction() as tx:
            require_operator(tx, officer)
            appeal = store.require_appeal(tx, appeal_id)
            rules.check_open(appeal_id, AppealStatus(appeal["status"]))
            case = require_case(tx, appeal["case_number"])
            rules.check_decidable(case["case_number"], CaseStatus(case["status"]), decision)
            amended = None
            if ruling.decision is AppealDecision.AMENDED:
                assert ruling.amended_article is not None and ruling.amended_part is not None
                assessment = rules.amended_fine(
                    config.fines, ruling.amended_article, ruling.amended_part
                )
                # The MRP of the offence's day, as when the case was opened.
                mrp = fines.mrp_on(
                    fines.offence_day(parse_iso(case["offence_at"])), config.mrp_by_year
                )
                amended = store.AmendedTerms(assessment, fines.fine_minor(assessment.fine_mrp, mrp))
            store.decide_appeal(
                tx,
                appeal,
                case,
                ruling,
                decided_by=officer,
                dates=rules.dates_after_decision(now, config.deadlines),
                amended=amended,
                now=now,
            )
            params: dict[str, Any] = {"appeal_id": appeal_id, "decision": decision.value}
            if amended is not None:
                params.update(
                    article=amended.assessment.article,
                    part=amended.assessment.part,
                    fine_minor=amended.fine_minor,
                )
            queue_status_notice(
                tx, case["case_number"], "appeal_decided", now, config=config, **params
            )
        return self.appeal(appeal_id)

    def check_decider(self, officer: str, decided_as: DecidedAs) -> None:
        """The roles the API checks, for callers without a session (``erap-registry appeals
        decide --by``): a supervisor decides; a court's decision is entered by a reviewer or
        a supervisor."""
        row = operator_row(self._store.db, officer)
        allowed = _DECIDERS[decided_as]
        if row is None or not row.active or row.role not in allowed:
            raise Forbidden(
                "not_a_decider",
                Text(
                    "%(officer)s is not an active operator who may record this decision.",
                    officer=officer,
                ),
            )

    # --- reading -----------------------------------------------------------------------------

    def appeal(self, appeal_id: int) -> AppealView:
        db = self._store.db
        row = store.require_appeal(db, appeal_id)
        return self._view(db, row)

    def appeal_of_case(self, case_number: str) -> AppealView | None:
        db = self._store.db
        require_case(db, case_number)
        row = store.appeal_of_case(db, case_number)
        return None if row is None else self._view(db, row)

    def open_appeals(self, limit: int = MAX_OPEN_LIST) -> list[AppealView]:
        db = self._store.db
        return [
            AppealView.from_row(
                row,
                CaseStatus(row["case_status"]),
                store.attachment_rows(db, int(row["appeal_id"])),
            )
            for row in store.open_appeal_rows(db, limit)
        ]

    def attachment_file(self, appeal_id: int, position: int) -> tuple[Path, AttachmentType, str]:
        """The stored file of an attachment: its path, type and the name it was sent with."""
        view = self.appeal(appeal_id)
        for item in view.attachments:
            if item.position == position:
                return (
                    self._files.path_for(item.sha256, item.content_type),
                    item.content_type,
                    (item.file_name),
                )
        raise NotFound(
            "attachment_not_found",
            Text(
                "Appeal %(appeal)s has no attachment %(position)s.",
                appeal=appeal_id,
                position=position,
            ),
        )

    def _view(self, db: Database, row: dict[str, Any]) -> AppealView:
        case = require_case(db, row["case_number"])
        return AppealView.from_row(
            row, CaseStatus(case["status"]), store.attachment_rows(db, int(row["appeal_id"]))
        )
