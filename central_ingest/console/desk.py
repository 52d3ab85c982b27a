"""The review desk behind the console: which item an officer sees next, and what their decision
does. First reviews go through the registry facade (which owns the case lifecycle); blind
second reviews of sampled confirmations are served first, so that a disagreement reaches a
supervisor while the case is young."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from central_ingest.cases import REVIEW_LEASE, CaseService
from central_ingest.console.settings import ConsoleSettings
from central_ingest.core import cases as rules
from central_ingest.core.cases import RejectReason
from central_ingest.core.views import FixationView
from central_ingest.store import double_reviews
from central_ingest.store.db import Store
from central_ingest.store.fixations import case_number_of_fixation, require_fixation
from central_ingest.store.monitoring import waiting_for_officer
from central_ingest.store.operators import require_operator
from central_ingest.store.plate_history import PlateHistory, plate_history
from contract import now_utc


class ItemKind(StrEnum):
    REVIEW = "review"
    DOUBLE_REVIEW = "double_review"


@dataclass(frozen=True)
class ReviewItem:
    kind: ItemKind
    fixation: FixationView
    history: PlateHistory


@dataclass(frozen=True)
class Decision:
    """What the officer decided on the screen. ``reject_reason`` None means confirm."""

    fixation_id: str
    kind: ItemKind
    seconds_spent: float
    reject_reason: RejectReason | None = None
    note: str = ""
    corrected_plate: str | None = None
    correction_reason: str | None = None


@dataclass(frozen=True)
class Outcome:
    fixation_id: str
    kind: ItemKind
    verdict: str
    case_number: str | None = None
    sampled_for_double_review: bool = False
    agrees: bool | None = None
    cancellation_request_id: int | None = None


class ReviewDesk:
    """``settings`` and ``clock`` are plain attributes so that a deployment (or a test) can
    change the sampling rate without rebuilding the application."""

    def __init__(
        self,
        store: Store,
        registry: CaseService,
        settings: ConsoleSettings,
        *,
        clock: Callable[[], datetime] = now_utc,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._registry = registry
        self.settings = settings
        self.clock = clock
        # Unpredictable on purpose: an officer must not be able to tell which confirmations
        # will be checked.
        self._rng = rng or random.SystemRandom()
        self._leases: dict[str, tuple[str, datetime]] = {}
        self._leases_lock = threading.Lock()
        double_reviews.ensure_schema(store)

    # --- what comes next ---------------------------------------------------------------------

    def next_item(self, officer: str, skip: Sequence[str] = ()) -> ReviewItem | None:
        fixation_id = self._lease_double_review(officer, skip)
        if fixation_id is not None:
            return self._item(ItemKind.DOUBLE_REVIEW, self._registry.fixation(fixation_id))
        fixation = self._registry.next_fixation(officer, skip)
        return None if fixation is None else self._item(ItemKind.REVIEW, fixation)

    def _lease_double_review(self, officer: str, skip: Sequence[str]) -> str | None:
        now = self.clock()
        kept = set(skip)
        with self._leases_lock:
            held_by_others = [
                fixation_id
                for fixation_id, (holder, until) in self._leases.items()
                if holder != officer and until > now
            ]
            fixation_id = double_reviews.oldest_pending(
                self._store.db, officer, [*skip, *held_by_others]
            )
            self._leases = {
                key: (holder, until)
                for key, (holder, until) in self._leases.items()
                if until > now and (holder != officer or key in kept)
            }
            if fixation_id is not None:
                self._leases[fixation_id] = (officer, now + REVIEW_LEASE)
        return fixation_id

    def _item(self, kind: ItemKind, fixation: FixationView) -> ReviewItem:
        history = plate_history(
            self._store,
            fixation.plate_text,
            leave_out=fixation.fixation_id,
            limit=self.settings.history_items,
        )
        return ReviewItem(kind, fixation, history)

    def queue_size(self, officer: str) -> int:
        """What waits for this officer: fixations, and second reviews of others' decisions."""
        return waiting_for_officer(self._store.db, officer)

    # --- decisions ---------------------------------------------------------------------------

    def decide(self, officer: str, decision: Decision) -> Outcome:
        if decision.kind is ItemKind.DOUBLE_REVIEW:
            return self._second_review(officer, decision)
        if decision.reject_reason is not None:
            self._registry.reject_fixation(
                decision.fixation_id,
                officer,
                reason=decision.reject_reason,
                note=decision.note,
                seconds_spent=decision.seconds_spent,
            )
            return Outcome(decision.fixation_id, decision.kind, "rejected")
        case = self._registry.confirm_fixation(
            decision.fixation_id,
            officer,
            seconds_spent=decision.seconds_spent,
            corrected_plate=decision.corrected_plate,
            correction_reason=decision.correction_reason,
            note=decision.note or None,
        )
        sampled = self._rng.random() < self.settings.double_review_rate
        if sampled:
            # A separate transaction: a crash in between loses a sample, never a decision.
            with self._store.transaction() as db:
                double_reviews.sample(db, decision.fixation_id, case.case_number, self.clock())
        return Outcome(
            decision.fixation_id,
            decision.kind,
            "confirmed",
            case_number=case.case_number,
            sampled_for_double_review=sampled,
        )

    def _second_review(self, officer: str, decision: Decision) -> Outcome:
        fixation = require_fixation(self._store.db, decision.fixation_id)
        if decision.reject_reason is None:
            confirmation = rules.confirmation(
                read_plate=fixation["plate_text"],
                officer=officer,
                seconds_spent=decision.seconds_spent,
                corrected_plate=decision.corrected_plate,
                correction_reason=decision.correction_reason,
                note=decision.note,
            )
            verdict = double_reviews.SecondVerdict(
                officer=officer,
                confirmed=True,
                plate=confirmation.plate(fixation["plate_text"]),
                reject_reason=None,
                note=confirmation.correction_reason or confirmation.note or "",
                seconds_spent=confirmation.seconds_spent,
            )
        else:
            rejection = rules.rejection(
                officer=officer,
                reason=decision.reject_reason,
                note=decision.note,
                seconds_spent=decision.seconds_spent,
            )
            verdict = double_reviews.SecondVerdict(
                officer=officer,
                confirmed=False,
                plate=None,
                reject_reason=rejection.reason,
                note=rejection.note,
                seconds_spent=rejection.seconds_spent,
            )
        with self._store.transaction() as db:
            require_operator(db, officer)
            agreed, request_id = double_reviews.record_verdict(
                db, decision.fixation_id, verdict, self.clock()
            )
        with self._leases_lock:
            self._leases.pop(decision.fixation_id, None)
        return Outcome(
            decision.fixation_id,
            decision.kind,
            "confirmed" if verdict.confirmed else "rejected",
            case_number=case_number_of_fixation(self._store.db, decision.fixation_id),
            agrees=agreed,
            cancellation_request_id=request_id,
        )
