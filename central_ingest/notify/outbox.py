"""The notification outbox: the texts sent to a vehicle's owner when a case opens.

Rows are written inside the case-opening transaction, so a notice exists if and only if the case
does; the delivery worker sends them later. Times are shown in Kazakhstan time (UTC+5), amounts
in KZT with thousands separators.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from central_ingest.config import RegistryConfig
from central_ingest.core.clock import iso, local, parse_iso
from central_ingest.core.fines import amount_due_minor
from central_ingest.store.db import Database
from central_ingest.store.notifications import NewNotice, insert_notices
from contract import ViolationCode

SMS_MAX_SEPTETS = 160

VIOLATION_DESCRIPTIONS: dict[str, str] = {
    ViolationCode.SPEEDING: "speeding",
    ViolationCode.RED_LIGHT: "driving through a red light",
    ViolationCode.BUS_LANE: "driving in a bus lane",
    ViolationCode.PHONE: "using a phone while driving",
    ViolationCode.SEAT_BELT: "driving without a fastened seat belt",
}

# GSM 03.38: the basic set costs one septet a character, the extension set two (escape + char).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


def gsm7_length(text: str) -> int | None:
    """Septets the text takes in the GSM 7-bit alphabet, or None if it needs UCS-2."""
    length = 0
    for char in text:
        if char in _GSM7_BASIC:
            length += 1
        elif char in _GSM7_EXTENSION:
            length += 2
        else:
            return None
    return length


def format_kzt(amount_minor: int) -> str:
    """``4325000`` -> ``"43,250 KZT"``; tiyn are shown only when there are any."""
    tenge, tiyn = divmod(amount_minor, 100)
    return f"{tenge:,}.{tiyn:02d} KZT" if tiyn else f"{tenge:,} KZT"


def _local_time(moment: datetime) -> str:
    return local(moment).strftime("%d.%m.%Y %H:%M")


def _local_date(moment: datetime) -> str:
    return local(moment).strftime("%d.%m.%Y")


def _moment(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return parse_iso(value)
    raise TypeError(f"expected a time, got {value!r}")


@dataclass(frozen=True, slots=True)
class CaseNotice:
    """What a notice says, taken from the cases row."""

    case_number: str
    link: str
    plate: str
    owner_name: str | None
    violation: str
    article: str
    part: str
    offence_at: datetime
    fine_mrp: int
    mrp_kzt: int
    full_minor: int
    discount_percent: int
    discounted_minor: int
    discount_deadline: datetime
    entry_into_force: datetime
    voluntary_deadline: datetime

    @classmethod
    def from_case(cls, case: Mapping[str, Any], base_url: str, now: datetime) -> CaseNotice:
        discount_deadline = _moment(case["discount_deadline"])
        full_minor = int(case["fine_minor"])
        discount_percent = int(case["discount_percent"])
        return cls(
            case_number=case["case_number"],
            link=f"{base_url.rstrip('/')}/{case['case_number']}",
            plate=case["plate"],
            owner_name=case.get("owner_name"),
            violation=VIOLATION_DESCRIPTIONS.get(case["violation"], str(case["violation"])),
            article=str(case["article"]),
            part=str(case["part"]),
            offence_at=_moment(case["offence_at"]),
            fine_mrp=int(case["fine_mrp"]),
            mrp_kzt=int(case["mrp_kzt"]),
            full_minor=full_minor,
            discount_percent=discount_percent,
            discounted_minor=amount_due_minor(full_minor, discount_percent, discount_deadline, now),
            discount_deadline=discount_deadline,
            entry_into_force=_moment(case["entry_into_force"]),
            voluntary_deadline=_moment(case["voluntary_deadline"]),
        )

    @property
    def has_discount(self) -> bool:
        return self.discounted_minor < self.full_minor


def sms_text(notice: CaseNotice) -> str:
    """The shortest useful notice: offence, amount due now and until when, the link.

    Variants from fullest to shortest; the first that fits one SMS is used. The link is never
    dropped: with a very long base URL the gateway sends a concatenated SMS instead.
    """
    head = f"Fine art.{notice.article} p.{notice.part}, {notice.plate}"
    date = f", {_local_date(notice.offence_at)}"
    if notice.has_discount:
        due = (
            f"pay {format_kzt(notice.discounted_minor)} until "
            f"{_local_time(notice.discount_deadline)}"
        )
        later = f", then {format_kzt(notice.full_minor)}"
    else:
        due = f"pay {format_kzt(notice.full_minor)} by {_local_time(notice.voluntary_deadline)}"
        later = ""
    variants = [
        f"{head}{date}: {due}{later}. {notice.link}",
        f"{head}: {due}{later}. {notice.link}",
        f"{head}: {due}. {notice.link}",
    ]
    for text in variants:
        septets = gsm7_length(text)
        if septets is not None and septets <= SMS_MAX_SEPTETS:
            return text
    return variants[-1]


def email_subject(notice: CaseNotice) -> str:
    return f"Administrative case {notice.case_number}: {notice.violation}, vehicle {notice.plate}"


def email_body(notice: CaseNotice) -> str:
    greeting = f"Dear {notice.owner_name}," if notice.owner_name else "Dear vehicle owner,"
    full = format_kzt(notice.full_minor)
    if notice.has_discount:
        amounts = (
            f"  {format_kzt(notice.discounted_minor)} if paid by "
            f"{_local_time(notice.discount_deadline)} ({notice.discount_percent}% discount,"
            " provided you do not appeal);\n"
            f"  {full} after that, until {_local_time(notice.voluntary_deadline)}."
        )
    else:
        amounts = f"  {full}, until {_local_time(notice.voluntary_deadline)}."
    return (
        f"{greeting}\n\n"
        f"An administrative case has been opened against the registered owner of vehicle"
        f" {notice.plate}.\n\n"
        f"Case number:  {notice.case_number}\n"
        f"Offence:      {notice.violation}, article {notice.article} part {notice.part}"
        " of the Code of Administrative Offences\n"
        f"Recorded at:  {_local_time(notice.offence_at)}\n"
        f"Fine:         {notice.fine_mrp} MRP x {format_kzt(notice.mrp_kzt * 100)} = {full}\n\n"
        f"Amount due:\n{amounts}\n\n"
        f"The resolution enters into force on {_local_time(notice.entry_into_force)}; you may"
        " appeal it until then. A fine still unpaid after"
        f" {_local_time(notice.voluntary_deadline)} is handed to bailiffs for enforcement.\n\n"
        f"The photographs of the offence, the resolution and the ways to pay: {notice.link}\n"
        "When paying through the eGov portal or a banking app, quote the case number.\n\n"
        "All times are Astana time (UTC+5).\n"
        "This message was sent automatically by the unified registry of administrative"
        " proceedings (ERAP); replies are not read.\n"
    )


def enqueue_case_opened(
    db: Database, case: Mapping[str, Any], config: RegistryConfig, now: datetime
) -> int:
    """Queue the SMS and the e-mail for a newly opened case, each only if the owner has that
    contact. Runs inside the caller's transaction; returns how many notices were queued."""
    notice = CaseNotice.from_case(case, config.case_link_base_url, now)
    messages: list[NewNotice] = []
    if case.get("owner_phone"):
        messages.append(
            NewNotice(notice.case_number, "sms", case["owner_phone"], None, sms_text(notice))
        )
    if case.get("owner_email"):
        messages.append(
            NewNotice(
                notice.case_number,
                "email",
                case["owner_email"],
                email_subject(notice),
                email_body(notice),
            )
        )
    insert_notices(db, messages, iso(now))
    return len(messages)
