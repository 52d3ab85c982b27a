"""The cases service: the case lifecycle the API, the console and the command line call,
from a camera's fixation through review, the case, cancellation and hand-over to bailiffs to
expiry at the limitation date.

It owns the transactions, the clock and the configuration: the rules live in the pure core, the
SQL in the store's case lifecycle modules (``store.fixations``, ``case_opening``,
``case_reads``, ``cancellations``, ``bailiffs``, ``limitation``), which take what the
configuration decides (the fine, the deadlines, the issuing agency) as arguments. Who may
call what (reviewer, supervisor, prosecutor) is checked by the API; the rules that are not
about roles are enforced here and in the database: a fixation is decided once, a cancellation
needs two different people, a paid case never goes to bailiffs.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from central_ingest.config import RegistryConfig
from central_ingest.core import cases as rules
from central_ingest.core import fines
from central_ingest.core.cases import FixationStatus, RejectReason
from central_ingest.core.clock import parse_iso
from central_ingest.core.errors import InvalidInput
from central_ingest.core.undelivered import HeldCaseView
from central_ingest.core.views import (
    CancellationView,
    CaseView,
    FixationView,
    NoticeView,
    RegisteredVehicle,
)
from central_ingest.notify.outbox import enqueue_case_opened, queue_status_notice
from central_ingest.notify.reminders import DailyNotices, handover_rule, queue_daily_notices
from central_ingest.store import (
    bailiffs,
    cancellations,
    case_opening,
    case_reads,
    fixations,
    limitation,
)
from central_ingest.store.bailiffs import Issuer
from central_ingest.store.case_opening import CaseOwner, CaseTerms
from central_ingest.store.db import Store
from central_ingest.store.notifications import notices_of_case
from central_ingest.store.operators import require_operator
from central_ingest.vehicles import VehicleRecord, VehicleRegister
from contract import ViolationCode, now_utc
from i18n.text import PluralText, Text

DEFAULT_BATCH_SIZE = 500
MAX_FEED_PAGE = 10_000
# How long a fixation shown to one reviewer is kept from the others, so that two reviewers do
# not work on the same fixation; a decision or the officer's next request ends it earlier.
REVIEW_LEASE = timedelta(minutes=5)


# A name search scans the cases (no index serves "contains"): the text typed is bounded, and
# so is the answer, which a person reads.
MAX_NAME_SEARCH_LENGTH = 100
MIN_NAME_SEARCH_LENGTH = 2
MAX_NAME_SEARCH_RESULTS = 200


def _checked_name_search(text: str) -> str:
    """The typed name with runs of spaces made one; refused if too short or too long."""
    name = " ".join(text.split())
    if not MIN_NAME_SEARCH_LENGTH <= len(name) <= MAX_NAME_SEARCH_LENGTH:
        raise InvalidInput(
            "invalid_name_search",
            PluralText(
                "Type %(least)s to %(most)s character of the owner's name to search by it.",
                "Type %(least)s to %(most)s characters of the owner's name to search by it.",
                MAX_NAME_SEARCH_LENGTH,
                least=MIN_NAME_SEARCH_LENGTH,
                most=MAX_NAME_SEARCH_LENGTH,
            ),
        )
    return name


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise InvalidInput("invalid_batch_size", Text("A batch holds at least one case."))


def _case_owner(vehicle: VehicleRecord | None) -> CaseOwner | None:
    """What the case keeps of the register's record: the owner and their contacts."""
    if vehicle is None:
        return None
    return CaseOwner(
        owner_id=vehicle.owner_id,
        name=vehicle.owner_name,
        phone=vehicle.phone,
        email=vehicle.email,
        language=vehicle.language,
    )


@dataclass(frozen=True)
class FeedExport:
    path: Path
    documents: int
    last_seq: int


class CaseService:
    def __init__(
        self,
        store: Store,
        config: RegistryConfig,
        vehicles: VehicleRegister,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self._store = store
        self._config = config
        self._vehicles = vehicles
        self._clock = clock
        self._leases: dict[str, tuple[str, datetime]] = {}  # fixation_id -> (officer, until)
        self._leases_lock = threading.Lock()

    def _issuer(self) -> Issuer:
        return Issuer(
            agency_code=self._config.agency_code,
            case_link_base_url=self._config.case_link_base_url,
        )

    def _case_terms(self, fixation: Mapping[str, Any], now: datetime) -> CaseTerms:
        """The article, fine and deadlines of a fixation confirmed ``now``, from the configured
        figures: the MRP of the offence's day, the deadlines counted from the resolution."""
        config = self._config
        assessment = fines.assess_fine(
            ViolationCode(fixation["violation"]),
            fixation["speed_kmh"],
            fixation["limit_kmh"],
            config.fines,
        )
        offence_at = parse_iso(fixation["captured_at"])
        mrp_kzt = fines.mrp_on(fines.offence_day(offence_at), config.mrp_by_year)
        return CaseTerms(
            article=assessment.article,
            part=assessment.part,
            fine_mrp=assessment.fine_mrp,
            mrp_kzt=mrp_kzt,
            fine_minor=fines.fine_minor(assessment.fine_mrp, mrp_kzt),
            discount_percent=config.deadlines.discount_percent,
            offence_at=offence_at,
            deadlines=fines.case_deadlines(now, config.deadlines),
        )

    def now(self) -> datetime:
        """The registry's time (its clock), for pages that show what is due at this moment."""
        return self._now()

    def _now(self) -> datetime:
        moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the registry clock must return timezone-aware UTC times")
        return moment

    # --- review ------------------------------------------------------------------------------

    def review_queue_size(self) -> int:
        return fixations.review_queue_size(self._store.db)

    def next_fixation(self, officer: str, skip: Sequence[str] = ()) -> FixationView | None:
        """The fixation that has waited longest, other than those in ``skip`` and those another
        reviewer has just been shown; it is then kept from the others for a few minutes.

        The officer keeps their hold on the fixations named in ``skip``: the console asks for
        the next item while the officer is still looking at the current one (preloading)."""
        now = self._now()
        kept = set(skip)
        with self._leases_lock:
            held_by_others = [
                fixation_id
                for fixation_id, (holder, until) in self._leases.items()
                if holder != officer and until > now
            ]
            row = fixations.oldest_awaiting_review(self._store.db, [*skip, *held_by_others])
            self._leases = {
                fixation_id: (holder, until)
                for fixation_id, (holder, until) in self._leases.items()
                if until > now and (holder != officer or fixation_id in kept)
            }
            if row is None:
                return None
            self._leases[row["fixation_id"]] = (officer, now + REVIEW_LEASE)
        return self._fixation_view(row)

    def _release(self, fixation_id: str) -> None:
        with self._leases_lock:
            self._leases.pop(fixation_id, None)

    def fixation(self, fixation_id: str) -> FixationView:
        return self._fixation_view(fixations.require_fixation(self._store.db, fixation_id))

    def _fixation_view(self, row: dict[str, Any]) -> FixationView:
        db = self._store.db
        vehicle = self._vehicles.lookup(row["plate_text"])
        return FixationView.from_row(
            row,
            evidence=fixations.fixation_evidence(db, row["fixation_id"]),
            registered_vehicle=None
            if vehicle is None
            else RegisteredVehicle(
                owner_kind=vehicle.owner_kind,
                make=vehicle.make,
                model=vehicle.model,
                colour=vehicle.colour,
            ),
            case_number=fixations.case_number_of_fixation(db, row["fixation_id"]),
        )

    def confirm_fixation(
        self,
        fixation_id: str,
        officer: str,
        *,
        seconds_spent: float,
        corrected_plate: str | None = None,
        correction_reason: str | None = None,
        note: str | None = None,
    ) -> CaseView:
        """The officer's "yes": the fixation is confirmed and its case opened, in one
        transaction with the owner's notices, so that a notice exists if and only if its case
        does."""
        fixation = fixations.require_fixation(self._store.db, fixation_id)
        rules.require_awaiting_review(fixation_id, FixationStatus(fixation["status"]))
        decision = rules.confirmation(
            read_plate=fixation["plate_text"],
            officer=officer,
            seconds_spent=seconds_spent,
            corrected_plate=corrected_plate,
            correction_reason=correction_reason,
            note=note,
        )
        # The register may be a remote system: ask it before taking the write lock.
        owner = _case_owner(self._vehicles.lookup(decision.plate(fixation["plate_text"])))
        now = self._now()
        with self._store.transaction() as db:
            require_operator(db, officer)
            pending = fixations.pending_fixation(db, fixation_id)
            terms = self._case_terms(pending, now)
            case = case_opening.open_case(
                db,
                pending,
                decision,
                owner,
                terms,
                agency_code=self._config.agency_code,
                now=now,
            )
            enqueue_case_opened(db, case, self._config, now)
        self._release(fixation_id)
        return CaseView.from_row(case, at=now)

    def reject_fixation(
        self,
        fixation_id: str,
        officer: str,
        *,
        reason: RejectReason,
        note: str = "",
        seconds_spent: float,
    ) -> FixationView:
        decision = rules.rejection(
            officer=officer, reason=reason, note=note, seconds_spent=seconds_spent
        )
        now = self._now()
        with self._store.transaction() as db:
            require_operator(db, officer)
            fixations.reject_fixation(db, fixation_id, decision, now)
        self._release(fixation_id)
        return self.fixation(fixation_id)

    # --- cases -------------------------------------------------------------------------------

    def case(self, case_number: str) -> CaseView:
        row = case_reads.require_case(self._store.db, case_number)
        return CaseView.from_row(row, at=self._now())

    def case_notices(self, case_number: str) -> list[NoticeView]:
        """The notices sent about the case, oldest first, with what became of each."""
        case_reads.require_case(self._store.db, case_number)
        return [
            NoticeView(**asdict(notice)) for notice in notices_of_case(self._store.db, case_number)
        ]

    def find_cases(
        self,
        *,
        plate: str | None = None,
        owner_id: str | None = None,
        owner_name: str | None = None,
    ) -> list[CaseView]:
        """Cases by plate, by the owner's IIN/BIN, or by part of the owner's name as a person
        types it (any letter case, Kazakh and Russian letters alike); criteria combine. A name
        search returns at most ``MAX_NAME_SEARCH_RESULTS`` cases, newest first."""
        if plate is None and owner_id is None and owner_name is None:
            raise InvalidInput(
                "search_criteria_required",
                Text("Search cases by plate, by the owner's IIN or BIN, or by the owner's name."),
            )
        name = None if owner_name is None else _checked_name_search(owner_name)
        rows = case_reads.case_rows(
            self._store.db,
            plate=None if plate is None else rules.normalise_plate(plate),
            owner_id=None if owner_id is None else owner_id.strip(),
            owner_name=name,
            limit=None if name is None else MAX_NAME_SEARCH_RESULTS,
        )
        now = self._now()
        return [CaseView.from_row(row, at=now) for row in rows]

    # --- cancellation ------------------------------------------------------------------------

    def request_cancellation(self, case_number: str, officer: str, reason: str) -> CancellationView:
        now = self._now()
        with self._store.transaction() as db:
            require_operator(db, officer)
            request_id = cancellations.request_cancellation(db, case_number, officer, reason, now)
        return self._cancellation(request_id)

    def decide_cancellation(
        self, request_id: int, supervisor: str, *, approve: bool, note: str = ""
    ) -> CancellationView:
        now = self._now()
        with self._store.transaction() as db:
            require_operator(db, supervisor)
            cancellations.decide_cancellation(
                db,
                request_id,
                supervisor,
                approve=approve,
                note=note,
                issuer=self._issuer(),
                now=now,
            )
        return self._cancellation(request_id)

    def _cancellation(self, request_id: int) -> CancellationView:
        row = cancellations.cancellation_row(self._store.db, request_id)
        if row is None:
            raise cancellations.cancellation_not_found(request_id)
        return CancellationView.from_row(row)

    def pending_cancellations(self) -> list[CancellationView]:
        return [
            CancellationView.from_row(row)
            for row in cancellations.pending_cancellation_rows(self._store.db)
        ]

    # --- bailiffs and limitation -------------------------------------------------------------

    def hand_over_overdue(self, batch_size: int = DEFAULT_BATCH_SIZE) -> list[str]:
        """Send every unpaid case past its voluntary deadline whose driver was told of the
        resolution to bailiffs, with a notice telling him so, one transaction per batch so that
        payments arriving meanwhile are not held up for long. The others wait on the
        supervisor's list (``undelivered_cases``)."""
        _check_batch_size(batch_size)
        now = self._now()
        rule = handover_rule(self._config)
        handed: list[str] = []
        after: tuple[str, str] | None = None
        while True:
            with self._store.transaction() as db:
                batch = bailiffs.hand_over_overdue(
                    db, self._issuer(), now, batch_size, rule, after=after
                )
                for case_number in batch.handed:
                    queue_status_notice(
                        db, case_number, "handed_to_bailiffs", now, config=self._config
                    )
            handed.extend(batch.handed)
            if batch.after is None:
                return handed
            after = batch.after

    def undelivered_cases(self, limit: int = MAX_NAME_SEARCH_RESULTS) -> list[HeldCaseView]:
        """Overdue cases held from the bailiffs because their driver was not told of the
        resolution, oldest deadline first, with why (the supervisor's list)."""
        if not 1 <= limit <= MAX_FEED_PAGE:
            raise InvalidInput(
                "invalid_limit",
                Text("The list shows between 1 and %(most)s cases.", most=MAX_FEED_PAGE),
            )
        now = self._now()
        rule = handover_rule(self._config)
        return [
            HeldCaseView.build(held.case, held.told, rule, held.last_error)
            for held in bailiffs.undelivered_cases(self._store.db, now, rule, limit)
        ]

    def queue_daily_notices(self) -> DailyNotices:
        """The notices the calendar makes due today: the discount ends, the resolution entered
        into force, another round of the resolution's notice."""
        return queue_daily_notices(self._store, self._config, self._now())

    def bailiff_feed(self, after_seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Hand-over and recall documents after the bailiffs' cursor ``after_seq``, in order."""
        if after_seq < 0 or not 1 <= limit <= MAX_FEED_PAGE:
            raise InvalidInput(
                "invalid_feed_page",
                Text(
                    "after_seq must be 0 or more and limit between 1 and %(most)s.",
                    most=MAX_FEED_PAGE,
                ),
            )
        return bailiffs.bailiff_feed(self._store.db, after_seq, limit)

    def export_bailiff_feed(self, path: Path, after_seq: int = 0) -> FeedExport:
        """Write every document after ``after_seq`` to ``path`` as JSON lines. The file appears
        complete or not at all, so a system picking it up never reads half of it."""
        partial = path.with_name(f".{path.name}.partial")
        documents, last_seq = 0, after_seq
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("w", encoding="utf-8") as out:
            while page := self.bailiff_feed(last_seq, MAX_FEED_PAGE):
                for item in page:
                    out.write(json.dumps(item, sort_keys=True, ensure_ascii=False) + "\n")
                documents += len(page)
                last_seq = int(page[-1]["seq"])
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)
        return FeedExport(path=path, documents=documents, last_seq=last_seq)

    def expire_limited(self, batch_size: int = DEFAULT_BATCH_SIZE) -> list[str]:
        """Close every unexecuted case whose enforcement limitation has been reached."""
        _check_batch_size(batch_size)
        now = self._now()
        expired: list[str] = []
        while True:
            with self._store.transaction() as db:
                batch = limitation.expire_limited(db, self._issuer(), now, batch_size)
            expired.extend(batch)
            if len(batch) < batch_size:
                return expired

    def limitation_report(self, within_days: int | None = None) -> list[dict[str, Any]]:
        """Unexecuted cases whose enforcement limitation falls within ``within_days`` (default:
        the configured warning period), soonest first. ``days_left`` is in whole days; a
        negative number means the limitation has passed and the case awaits expiry."""
        warning_days = self._config.deadlines.limitation_warning_days
        days = warning_days if within_days is None else within_days
        if days < 0:
            raise InvalidInput("invalid_days", Text("The report looks 0 or more days ahead."))
        now = self._now()
        rows = limitation.limitation_candidates(self._store.db, now + timedelta(days=days))
        return [
            {
                "case_number": row["case_number"],
                "status": row["status"],
                "plate": row["plate"],
                "owner_id": row["owner_id"],
                "owner_name": row["owner_name"],
                "fine_minor": row["fine_minor"],
                "paid_minor": row["paid_minor"],
                "entry_into_force": row["entry_into_force"],
                "limitation_at": row["limitation_at"],
                "days_left": (parse_iso(row["limitation_at"]) - now).days,
            }
            for row in rows
        ]
