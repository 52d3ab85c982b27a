"""The notification outbox: the notices queued for a vehicle's owner when a case opens, and at
each later change of its status (``queue_status_notice``).

Rows are written inside the transaction that opens or changes the case, so a notice exists if
and only if the change does; the delivery worker sends them later. Each notice is written in
the owner's language, as the vehicle register records it on the case (``owner_language``).
Where the register does not know it, the notice goes out in both official languages, Kazakh
(the state language) first, as state bodies send theirs: two SMS, Kazakh then Russian, and
one e-mail holding the Kazakh text then the Russian, under a subject in both
(``RegistryConfig.unknown_language_notices`` can choose the registry's default language
instead).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from central_ingest.config import RegistryConfig
from central_ingest.core.clock import iso
from central_ingest.driver.links import notice_link
from central_ingest.notify.status_texts import (
    APPEAL_DECISIONS,
    STATUS_KINDS,
    StatusFacts,
    StatusKind,
    status_email,
    status_sms,
    status_subject,
)
from central_ingest.notify.texts import CaseNotice, email_body, email_subject, sms_text
from central_ingest.store.case_reads import case_row
from central_ingest.store.db import Database
from central_ingest.store.notifications import RESOLUTION, NewNotice, NoticeKind, insert_notices
from i18n import BOTH_OFFICIAL, Language, Translator, language_or_none, translator

DOMAIN = "notices"
# Between the Kazakh and the Russian text of a bilingual e-mail.
SECTION_BREAK = "\n* * *\n\n"
SUBJECT_SEPARATOR = " / "

UnknownLanguagePolicy = Literal["both", "default"]


def notice_languages(
    owner_language: str | None,
    *,
    unknown: UnknownLanguagePolicy = "both",
    default: Language = "ru",
) -> tuple[Language, ...]:
    """The languages a notice goes out in, in order: the owner's own, or for an owner whose
    language is unknown Kazakh then Russian (``unknown="both"``) or ``default``."""
    language = language_or_none(owner_language)
    if language is not None:
        return (language,)
    return BOTH_OFFICIAL if unknown == "both" else (default,)


def recorded_language(languages: Sequence[Language]) -> str:
    """What the notifications table records: ``kk``, ``ru``, ``en``, or ``kk,ru`` for one
    e-mail holding both texts."""
    return ",".join(languages)


def case_opened_notices(
    case: Mapping[str, Any], config: RegistryConfig, now: datetime, attempt_round: int = 1
) -> list[NewNotice]:
    """The SMS (one per language) and the e-mail (one, in every language) for a newly opened
    case, each only if the owner has that contact. ``attempt_round``: sent again because every
    notice of the previous round failed (``core.driver_told.next_round``)."""
    notice = CaseNotice.from_case(case, config.case_link_base_url, now)
    return _to_contacts(
        case,
        _readers(case, config),
        sms=lambda t: sms_text(notice, t),
        subject=lambda t: email_subject(notice, t),
        body=lambda t: email_body(notice, t),
        case_number=notice.case_number,
        attempt_round=attempt_round,
    )


def _readers(case: Mapping[str, Any], config: RegistryConfig) -> list[Translator]:
    languages = notice_languages(
        case.get("owner_language"),
        unknown=config.unknown_language_notices,
        default=config.language,
    )
    return [translator(DOMAIN, language) for language in languages]


def status_notices(
    case: Mapping[str, Any],
    kind: StatusKind,
    facts: StatusFacts,
    config: RegistryConfig,
    now: datetime,
) -> list[NewNotice]:
    """The SMS and the e-mail telling the owner of a change of the case's status, in the same
    languages and to the same contacts as the resolution's."""
    notice = CaseNotice.from_case(case, config.case_link_base_url, now)
    return _to_contacts(
        case,
        _readers(case, config),
        sms=lambda t: status_sms(kind, notice, facts, t),
        subject=lambda t: status_subject(kind, notice, facts, t),
        body=lambda t: status_email(kind, notice, facts, t),
        case_number=notice.case_number,
        kind=kind,
    )


def _to_contacts(
    case: Mapping[str, Any],
    readers: list[Translator],
    *,
    sms: Callable[[Translator], str],
    subject: Callable[[Translator], str],
    body: Callable[[Translator], str],
    case_number: str,
    kind: NoticeKind = RESOLUTION,
    attempt_round: int = 1,
) -> list[NewNotice]:
    """One SMS per reader's language to the owner's phone, and one e-mail to the owner's
    address holding every language, each only where the owner has that contact."""
    notices: list[NewNotice] = []
    if case.get("owner_phone"):
        notices.extend(
            NewNotice(
                case_number,
                "sms",
                case["owner_phone"],
                None,
                sms(t),
                t.language,
                kind=kind,
                attempt_round=attempt_round,
            )
            for t in readers
        )
    if case.get("owner_email"):
        notices.append(
            NewNotice(
                case_number,
                "email",
                case["owner_email"],
                SUBJECT_SEPARATOR.join(subject(t) for t in readers),
                SECTION_BREAK.join(body(t) for t in readers),
                recorded_language([t.language for t in readers]),
                kind=kind,
                attempt_round=attempt_round,
            )
        )
    return notices


def queue_status_notice(
    db: Database,
    case_number: str,
    kind: str,
    now: datetime,
    *,
    config: RegistryConfig,
    **params: Any,
) -> int:
    """Queue the notices of a change of the case's status, inside the caller's transaction
    (the one making the change, read after it: the case row says the new amounts). Returns how
    many were queued: none for an unknown case or an owner with no contact.

    ``kind`` and its ``params``: ``discount_ending``, ``entered_into_force``,
    ``handed_to_bailiffs`` (none); ``appeal_received`` (``appeal_id``, optional);
    ``payment_received`` (``amount_minor``: the payment just recorded); ``appeal_decided``
    (``decision``: upheld, cancelled or amended; for amended ``article``, ``part`` and
    ``fine_minor``, the new terms, unless the case row holds them already)."""
    if kind not in STATUS_KINDS:
        raise ValueError(f"no status notice of kind {kind!r}; one of {', '.join(STATUS_KINDS)}")

    decision = params.pop("decision", None)
    if kind == "appeal_decided" and decision not in APPEAL_DECISIONS:
        raise ValueError(f"an appeal's decision is one of {', '.join(APPEAL_DECISIONS)}")
    received = int(params.pop("amount_minor", 0))
    if kind == "payment_received" and received <= 0:
        raise ValueError("a payment_received notice needs the amount_minor received")
    params.pop("appeal_id", None)  # the notice names the case; the appeal is the case's one
    amended: dict[str, Any] = {
        name: params.pop(name) for name in ("article", "part", "fine_minor") if name in params
    }
    if params:
        raise ValueError(f"unexpected parameters for {kind}: {', '.join(sorted(params))}")
    found = case_row(db, case_number)
    if found is None:
        return 0
    case: dict[str, Any] = {**found, **amended}
    facts = StatusFacts(
        paid_minor=int(case["paid_minor"]), received_minor=received, decision=decision
    )
    if not (case.get("owner_phone") or case.get("owner_email")):
        return 0  # nobody to tell: no link made either
    case = {**case, "page_link": notice_link(db, case_number, config, now)}
    notices = status_notices(case, kind, facts, config, now)
    insert_notices(db, notices, iso(now))
    return len(notices)


def enqueue_case_opened(
    db: Database, case: Mapping[str, Any], config: RegistryConfig, now: datetime
) -> int:
    """Queue the notices of a newly opened case. Runs inside the caller's transaction;
    returns how many notices were queued."""
    # The link the notices carry: a fresh one to the driver's case page, born in this
    # transaction with the notices (central_ingest/driver/links.py).
    case = {**case, "page_link": notice_link(db, case["case_number"], config, now)}
    notices = case_opened_notices(case, config, now)
    insert_notices(db, notices, iso(now))
    return len(notices)
