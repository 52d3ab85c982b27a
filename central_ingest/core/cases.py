"""The life of a fixation and of the administrative case it may become, as pure rules.

A fixation waits for an officer, who confirms or rejects it once; only a confirmation opens a
case. A case then moves between the statuses below, and the functions here say which moves are
lawful and what a payment, a hand-over, an expiry or a cancellation does to it. Nothing here
touches a database or reads the clock: callers pass the facts and the moment.

The rule the prosecutor's office cares most about: a case with any payment is never handed to
bailiffs, and a payment that arrives after the hand-over recalls the case from them. The
database enforces the same rule with triggers, so that no other code path can break it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from central_ingest.core.errors import Conflict, DomainError, Forbidden, InvalidInput
from i18n.text import Message, Text


def _label(code: StrEnum) -> Message:
    """A status or reason inside a sentence, as people read it in the sentence's language."""
    # Imported here: the label tables are keyed by this module's enums.
    from central_ingest.core.labels import label_text

    return label_text(code)


class FixationStatus(StrEnum):
    AWAITING_REVIEW = "awaiting_review"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class RejectReason(StrEnum):
    """Why an officer rejects a fixation: a fixed list, so that removals can be counted per car,
    per officer and per camera."""

    PLATE_UNREADABLE = "plate_unreadable"
    VEHICLE_MISMATCH = "vehicle_mismatch"
    EMERGENCY_VEHICLE = "emergency_vehicle"
    SENSOR_FALSE_TRIGGER = "sensor_false_trigger"
    WRONG_LANE_ATTRIBUTION = "wrong_lane_attribution"
    DUPLICATE_EVENT = "duplicate_event"
    OTHER = "other"


class CaseStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    UNDERPAID = "underpaid"
    SENT_TO_BAILIFFS = "sent_to_bailiffs"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    # A roadside protocol that ends in a warning: its case is closed at once, with no fine.
    WARNED = "warned"

    @property
    def closed(self) -> bool:
        """Paid, cancelled, expired or warned: nothing more happens to the case itself."""
        return self in _CLOSED

    @property
    def unexecuted(self) -> bool:
        """Still waiting to be executed, so the enforcement limitation matters."""
        return self in _UNEXECUTED


_CLOSED = frozenset({CaseStatus.PAID, CaseStatus.CANCELLED, CaseStatus.EXPIRED, CaseStatus.WARNED})
_UNEXECUTED = frozenset({CaseStatus.OPEN, CaseStatus.UNDERPAID, CaseStatus.SENT_TO_BAILIFFS})

CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset(
        {
            CaseStatus.PAID,
            CaseStatus.UNDERPAID,
            CaseStatus.SENT_TO_BAILIFFS,
            CaseStatus.CANCELLED,
            CaseStatus.EXPIRED,
        }
    ),
    # An underpaid case has money on it, so the bailiffs are out of reach for good.
    CaseStatus.UNDERPAID: frozenset({CaseStatus.PAID, CaseStatus.CANCELLED, CaseStatus.EXPIRED}),
    CaseStatus.SENT_TO_BAILIFFS: frozenset(
        {CaseStatus.PAID, CaseStatus.UNDERPAID, CaseStatus.CANCELLED, CaseStatus.EXPIRED}
    ),
    CaseStatus.PAID: frozenset(),
    CaseStatus.CANCELLED: frozenset(),
    CaseStatus.EXPIRED: frozenset(),
    CaseStatus.WARNED: frozenset(),
}


class PaymentMatch(StrEnum):
    SETTLED = "settled"
    OVERPAID = "overpaid"
    UNDERPAID = "underpaid"
    UNKNOWN_CASE = "unknown_case"
    CASE_CLOSED = "case_closed"
    AFTER_HANDOVER = "after_handover"


class CancellationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class RecallReason(StrEnum):
    """Why the bailiffs must stop enforcing a case they were given."""

    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    CANCELLED = "cancelled"
    LIMITATION_EXPIRED = "limitation_expired"


# --- fixation decisions ----------------------------------------------------------------------

_PLATE = re.compile(r"^[A-Z0-9]{2,12}$")
_PLATE_SEPARATORS = re.compile(r"[\s-]+")
# An officer typing a correction on a Russian keyboard gets Cyrillic look-alikes of the Latin
# letters on the plate; they name the same vehicle.
_CYRILLIC_LOOKALIKES = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")


def normalise_plate(text: str) -> str:
    """A plate as the registry stores it: Latin capitals and digits, no spaces ("123ABC01").
    The one reading of a plate: officers' corrections here, the vehicle register's records and
    lookups (``central_ingest.vehicles``) alike."""
    plate = _PLATE_SEPARATORS.sub("", text).upper().translate(_CYRILLIC_LOOKALIKES)
    if not _PLATE.fullmatch(plate):
        raise InvalidInput(
            "invalid_plate",
            Text(
                "“%(text)s” is not a plate: use 2 to 12 Latin letters and digits, e.g. 123ABC01.",
                text=text,
            ),
        )
    return plate


def _checked_seconds(seconds_spent: float) -> float:
    if not math.isfinite(seconds_spent) or seconds_spent < 0:
        raise InvalidInput(
            "invalid_seconds_spent",
            Text(
                "The time spent on a review must be zero or more seconds, not %(seconds)s.",
                seconds=seconds_spent,
            ),
        )
    return float(seconds_spent)


def _checked_officer(officer: str) -> str:
    if not officer.strip():
        raise InvalidInput(
            "officer_required", Text("Every decision names the officer who made it.")
        )
    return officer


def require_awaiting_review(fixation_id: str, status: FixationStatus) -> None:
    """A fixation is decided once: a second decision, even the same one, is refused."""
    if status is not FixationStatus.AWAITING_REVIEW:
        raise Conflict(
            "fixation_already_decided",
            Text(
                "Fixation %(fixation)s has already been decided (%(status)s); a decision is final.",
                fixation=fixation_id,
                status=_label(status),
            ),
        )


@dataclass(frozen=True)
class Confirmation:
    officer: str
    seconds_spent: float
    corrected_plate: str | None
    correction_reason: str | None
    note: str | None

    def plate(self, read_plate: str) -> str:
        """The plate the case is opened against: the officer's correction, if any."""
        return self.corrected_plate or read_plate


def confirmation(
    *,
    read_plate: str,
    officer: str,
    seconds_spent: float,
    corrected_plate: str | None = None,
    correction_reason: str | None = None,
    note: str | None = None,
) -> Confirmation:
    """Validate an officer's confirmation. A corrected plate needs a reason, because a changed
    plate changes who is fined and the prosecutor will ask why."""
    corrected = normalise_plate(corrected_plate) if corrected_plate is not None else None
    reason = (correction_reason or "").strip() or None
    if corrected is not None:
        if corrected == read_plate:
            raise InvalidInput(
                "correction_unchanged",
                Text(
                    "The corrected plate %(plate)s is the plate that was read; leave it empty to"
                    " confirm the plate as read.",
                    plate=corrected,
                ),
            )
        if reason is None:
            raise InvalidInput(
                "correction_reason_required",
                Text(
                    "Correcting the plate from %(read)s to %(corrected)s needs a reason.",
                    read=read_plate,
                    corrected=corrected,
                ),
            )
    elif reason is not None:
        raise InvalidInput(
            "correction_reason_without_correction",
            Text("A correction reason was given but no corrected plate."),
        )
    return Confirmation(
        officer=_checked_officer(officer),
        seconds_spent=_checked_seconds(seconds_spent),
        corrected_plate=corrected,
        correction_reason=reason,
        note=(note or "").strip() or None,
    )


@dataclass(frozen=True)
class Rejection:
    officer: str
    reason: RejectReason
    note: str
    seconds_spent: float


def rejection(
    *, officer: str, reason: RejectReason, note: str = "", seconds_spent: float
) -> Rejection:
    """Validate an officer's rejection. "other" says nothing by itself, so it needs a note."""
    text = note.strip()
    if reason is RejectReason.OTHER and not text:
        raise InvalidInput(
            "reject_note_required",
            Text("A rejection for “%(reason)s” needs a note saying why.", reason=_label(reason)),
        )
    return Rejection(
        officer=_checked_officer(officer),
        reason=RejectReason(reason),
        note=text,
        seconds_spent=_checked_seconds(seconds_spent),
    )


# --- cases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseState:
    """What the rules need to know about a case."""

    case_number: str
    status: CaseStatus
    paid_minor: int
    has_debtor: bool
    voluntary_deadline: datetime
    limitation_at: datetime
    # An appeal filed and not yet decided suspends the resolution (core/appeals.py).
    appeal_open: bool = False


def check_transition(case_number: str, current: CaseStatus, target: CaseStatus) -> None:
    if target not in CASE_TRANSITIONS[current]:
        raise Conflict(
            "case_transition_refused",
            Text(
                "Case %(case)s is “%(status)s” and cannot become “%(target)s”.",
                case=case_number,
                status=_label(current),
                target=_label(target),
            ),
        )


def limitation_reached(case: CaseState, now: datetime) -> bool:
    """From limitation_at on, the resolution can no longer be enforced."""
    return now >= case.limitation_at


def handover_refusal(case: CaseState, now: datetime) -> DomainError | None:
    """Why the case may not go to bailiffs now, or None when it must go."""
    if case.paid_minor > 0 or case.status in {CaseStatus.PAID, CaseStatus.UNDERPAID}:
        return Conflict(
            "paid_never_to_bailiffs",
            Text(
                "Case %(case)s has a payment: a paid case is never handed to bailiffs.",
                case=case.case_number,
            ),
        )
    if case.appeal_open:
        return Conflict(
            "appeal_open",
            Text(
                "Case %(case)s is under appeal: it goes to no bailiff until the appeal is decided.",
                case=case.case_number,
            ),
        )
    if case.status is not CaseStatus.OPEN:
        return Conflict(
            "case_transition_refused",
            Text(
                "Case %(case)s is “%(status)s”: only an open case goes to bailiffs.",
                case=case.case_number,
                status=_label(case.status),
            ),
        )
    if now <= case.voluntary_deadline:
        return Conflict(
            "not_overdue",
            Text(
                "Case %(case)s may still be paid voluntarily until %(deadline)s.",
                case=case.case_number,
                deadline=case.voluntary_deadline.isoformat(),
            ),
        )
    if limitation_reached(case, now):
        return Conflict(
            "limitation_reached",
            Text(
                "Case %(case)s has reached its enforcement limitation and cannot be enforced.",
                case=case.case_number,
            ),
        )
    if not case.has_debtor:
        return Conflict(
            "no_debtor",
            Text("Case %(case)s has no known owner to enforce against.", case=case.case_number),
        )
    return None


def hand_over(case: CaseState, now: datetime) -> CaseStatus:
    """The status after handing an overdue case to bailiffs; refuses any case that may not go."""
    refusal = handover_refusal(case, now)
    if refusal is not None:
        raise refusal
    return CaseStatus.SENT_TO_BAILIFFS


def expire(case: CaseState, now: datetime) -> CaseStatus:
    """The status of an unexecuted case once its enforcement limitation is reached."""
    if not case.status.unexecuted:
        raise Conflict(
            "case_transition_refused",
            Text(
                "Case %(case)s is “%(status)s”: only a case not yet executed expires.",
                case=case.case_number,
                status=_label(case.status),
            ),
        )
    if not limitation_reached(case, now):
        raise Conflict(
            "limitation_not_reached",
            Text(
                "Case %(case)s can be enforced until %(limitation)s.",
                case=case.case_number,
                limitation=case.limitation_at.isoformat(),
            ),
        )
    return CaseStatus.EXPIRED


@dataclass(frozen=True)
class PaymentOutcome:
    """What a payment does. ``due_minor`` is what was still due on the case when the payment
    was made (None for an unknown case, 0 for a closed one); ``case_status`` and ``paid_minor``
    are the case's new values (None when no case matched); ``recall`` says why the bailiffs
    must be told to stop, when they hold the case."""

    match: PaymentMatch
    due_minor: int | None
    case_status: CaseStatus | None
    paid_minor: int | None
    recall: RecallReason | None = None

    @property
    def changes_case(self) -> bool:
        return self.match not in {PaymentMatch.UNKNOWN_CASE, PaymentMatch.CASE_CLOSED}


def apply_payment(
    case: CaseState | None, amount_minor: int, amount_due_at_payment: int
) -> PaymentOutcome:
    """Match a payment of ``amount_minor`` to a case whose fine, at the moment of payment,
    amounts to ``amount_due_at_payment`` (discounted or full). Money is never dropped: an
    unknown or closed case still keeps the payment (for manual matching or a refund), it just
    does not change the case.

    Earlier partial payments count: the case is paid when everything paid so far covers the
    amount due at the moment of the latest payment."""
    if amount_minor <= 0:
        raise InvalidInput("invalid_amount", Text("A payment amount must be positive."))
    if case is None:
        return PaymentOutcome(PaymentMatch.UNKNOWN_CASE, None, None, None)
    if case.status.closed:
        return PaymentOutcome(PaymentMatch.CASE_CLOSED, 0, case.status, case.paid_minor)
    still_due = max(0, amount_due_at_payment - case.paid_minor)
    total = case.paid_minor + amount_minor
    status = CaseStatus.PAID if amount_minor >= still_due else CaseStatus.UNDERPAID
    if case.status is CaseStatus.SENT_TO_BAILIFFS:
        # The 52,000-citizens problem: any payment stops enforcement at once.
        recall = RecallReason.PAID if status is CaseStatus.PAID else RecallReason.PARTIALLY_PAID
        return PaymentOutcome(PaymentMatch.AFTER_HANDOVER, still_due, status, total, recall)
    if amount_minor > still_due:
        match = PaymentMatch.OVERPAID
    elif amount_minor == still_due:
        match = PaymentMatch.SETTLED
    else:
        match = PaymentMatch.UNDERPAID
    return PaymentOutcome(match, still_due, status, total)


# --- cancellation (two people) ---------------------------------------------------------------


def check_cancellation_request(case_number: str, status: CaseStatus, reason: str) -> str:
    """Validate a request to cancel; returns the reason as it will be stored."""
    text = reason.strip()
    if not text:
        raise InvalidInput("cancellation_reason_required", Text("A cancellation needs a reason."))
    if status is CaseStatus.PAID:
        raise Conflict(
            "case_closed",
            Text(
                "Case %(case)s is paid and therefore closed: it cannot be cancelled (a refund,"
                " if owed, is a separate procedure).",
                case=case_number,
            ),
        )
    if status.closed:
        raise Conflict(
            "case_closed",
            Text(
                "Case %(case)s is “%(status)s” and therefore closed: it cannot be cancelled.",
                case=case_number,
                status=_label(status),
            ),
        )
    return text


def check_cancellation_decision(
    request_id: int,
    *,
    request_status: CancellationStatus,
    requested_by: str,
    supervisor: str,
) -> None:
    if request_status is not CancellationStatus.PENDING:
        raise Conflict(
            "cancellation_already_decided",
            Text(
                "Cancellation request %(request)s has already been decided (%(status)s).",
                request=request_id,
                status=_label(request_status),
            ),
        )
    if supervisor == requested_by:
        raise Forbidden(
            "two_person_rule",
            Text(
                "%(officer)s asked for this cancellation and cannot also decide it: a second"
                " officer must.",
                officer=supervisor,
            ),
        )


def recall_reason_on_close(previous: CaseStatus, target: CaseStatus) -> RecallReason | None:
    """Closing a case the bailiffs hold (cancelled, expired) must tell them to stop."""
    if previous is not CaseStatus.SENT_TO_BAILIFFS:
        return None
    if target is CaseStatus.CANCELLED:
        return RecallReason.CANCELLED
    if target is CaseStatus.EXPIRED:
        return RecallReason.LIMITATION_EXPIRED
    return None
