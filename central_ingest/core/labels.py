"""What people read for the registry's codes: offences, statuses, reasons and roles.

The codes stay stable for machines (API, ledger, reports); these are the English message ids of
the words shown on screens, in notices and on paper, translated in the ``registry`` catalog
(``i18n/locale/*/LC_MESSAGES/registry.po``) with the official terms of the Code of
Administrative Offences (``i18n/GLOSSARY.md``). Pure: no catalog is read here; callers render a
label with their reader's ``Translator``: ``translator.gettext(label(code))``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from central_ingest.core.cases import (
    CancellationStatus,
    CaseStatus,
    FixationStatus,
    PaymentMatch,
    RecallReason,
    RejectReason,
)
from contract import ViolationCode
from i18n.text import N_, Message, as_text

OFFENCES: Mapping[str, str] = {
    ViolationCode.SPEEDING: N_("speeding"),
    ViolationCode.RED_LIGHT: N_("driving through a red light"),
    ViolationCode.BUS_LANE: N_("driving in a bus lane"),
    ViolationCode.PHONE: N_("using a phone while driving"),
    ViolationCode.SEAT_BELT: N_("driving without a fastened seat belt"),
}

REJECT_REASONS: Mapping[str, str] = {
    RejectReason.PLATE_UNREADABLE: N_("plate unreadable"),
    RejectReason.VEHICLE_MISMATCH: N_("vehicle does not match the register"),
    RejectReason.EMERGENCY_VEHICLE: N_("emergency vehicle"),
    RejectReason.SENSOR_FALSE_TRIGGER: N_("sensor false trigger"),
    RejectReason.WRONG_LANE_ATTRIBUTION: N_("wrong lane attribution"),
    RejectReason.DUPLICATE_EVENT: N_("duplicate event"),
    RejectReason.OTHER: N_("other reason"),
}

NOTICE_STATES: Mapping[str, str] = {
    "queued": N_("waiting to be sent"),
    "sent": N_("sent, no delivery receipt yet"),
    "delivered": N_("delivered"),
    "failed": N_("not delivered"),
}

NOTICE_CHANNELS: Mapping[str, str] = {
    "sms": N_("SMS"),
    "email": N_("e-mail"),
}

# What a notice told the driver (store.notifications.NoticeKind).
NOTICE_KINDS: Mapping[str, str] = {
    "case_opened": N_("resolution"),
    "discount_ending": N_("discount ends soon"),
    "payment_received": N_("payment received"),
    "entered_into_force": N_("entered into force"),
    "appeal_received": N_("appeal received"),
    "appeal_decided": N_("appeal decided"),
    "handed_to_bailiffs": N_("handed to a bailiff"),
}

# Why an overdue case is held from the bailiffs (core.driver_told.HeldReason).
HELD_REASONS: Mapping[str, str] = {
    "no_contact": N_("no phone or e-mail known: nothing could be sent"),
    "awaiting_delivery": N_("notice on its way, or sent without a delivery receipt"),
    "attempts_incomplete": N_("attempts failed, fewer than the rule requires so far"),
}

CASE_STATUSES: Mapping[str, str] = {
    CaseStatus.OPEN: N_("open"),
    CaseStatus.PAID: N_("paid"),
    CaseStatus.UNDERPAID: N_("partly paid"),
    CaseStatus.SENT_TO_BAILIFFS: N_("sent to bailiffs"),
    CaseStatus.CANCELLED: N_("cancelled"),
    CaseStatus.EXPIRED: N_("enforcement time-barred"),
    CaseStatus.WARNED: N_("closed with a warning"),
}

FIXATION_STATUSES: Mapping[str, str] = {
    FixationStatus.AWAITING_REVIEW: N_("awaiting review"),
    FixationStatus.CONFIRMED: N_("confirmed"),
    FixationStatus.REJECTED: N_("rejected"),
}

CANCELLATION_STATUSES: Mapping[str, str] = {
    CancellationStatus.PENDING: N_("awaiting a second officer"),
    CancellationStatus.APPROVED: N_("approved"),
    CancellationStatus.DENIED: N_("denied"),
}

# How a payment met its case (PaymentMatch); the registry's payment report lists the ones a
# person must follow up.
PAYMENT_MATCHES: Mapping[str, str] = {
    PaymentMatch.SETTLED: N_("settles the case"),
    PaymentMatch.OVERPAID: N_("more than due"),
    PaymentMatch.UNDERPAID: N_("less than due"),
    PaymentMatch.UNKNOWN_CASE: N_("no such case"),
    PaymentMatch.CASE_CLOSED: N_("case already closed"),
    PaymentMatch.AFTER_HANDOVER: N_("after the hand-over to bailiffs"),
}

RECALL_REASONS: Mapping[str, str] = {
    RecallReason.PAID: N_("paid"),
    RecallReason.PARTIALLY_PAID: N_("partly paid"),
    RecallReason.CANCELLED: N_("cancelled"),
    RecallReason.LIMITATION_EXPIRED: N_("enforcement time-barred"),
}

# Roles by their codes (central_ingest.operators.Role), kept here so that the core does not
# import the accounts service.
ROLES: Mapping[str, str] = {
    "reviewer": N_("reviewing officer"),
    "supervisor": N_("supervisor"),
    "prosecutor": N_("prosecutor"),
    "bailiff": N_("bailiff"),
    "admin": N_("administrator"),
}

_TABLES: tuple[Mapping[str, str], ...] = (
    OFFENCES,
    REJECT_REASONS,
    CASE_STATUSES,
    FIXATION_STATUSES,
    CANCELLATION_STATUSES,
    ROLES,
)


def label(code: str | StrEnum, table: Mapping[str, str] | None = None) -> str:
    """The English message id for ``code`` (looked up in ``table``, or in every table in
    turn); an unknown code is shown as it is, with underscores as spaces."""
    value = str(code)
    for candidate in (table,) if table is not None else _TABLES:
        if candidate is not None and value in candidate:
            return candidate[value]
    return value.replace("_", " ")


def label_text(code: str | StrEnum, table: Mapping[str, str] | None = None) -> Message:
    """The label as a parameter of a ``Text``: rendered in the language of the sentence around
    it (``Text("Case %(case)s is “%(status)s”.", status=label_text(status))``)."""
    return as_text(label(code, table))
