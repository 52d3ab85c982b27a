"""The notification outbox: the notices queued for a vehicle's owner when a case opens.

Rows are written inside the case-opening transaction, so a notice exists if and only if the case
does; the delivery worker sends them later. Each notice is written in the owner's language, as
the vehicle register records it on the case (``owner_language``). Where the register does not
know it, the notice goes out in both official languages, Kazakh (the state language) first, as
state bodies send theirs: two SMS, Kazakh then Russian, and one e-mail holding the Kazakh text
then the Russian, under a subject in both (``RegistryConfig.unknown_language_notices`` can
choose the registry's default language instead).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from central_ingest.config import RegistryConfig
from central_ingest.core.clock import iso
from central_ingest.driver.links import notice_link
from central_ingest.notify.texts import CaseNotice, email_body, email_subject, sms_text
from central_ingest.store.db import Database
from central_ingest.store.notifications import NewNotice, insert_notices
from i18n import BOTH_OFFICIAL, Language, language_or_none, translator

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
    case: Mapping[str, Any], config: RegistryConfig, now: datetime
) -> list[NewNotice]:
    """The SMS (one per language) and the e-mail (one, in every language) for a newly opened
    case, each only if the owner has that contact."""
    notice = CaseNotice.from_case(case, config.case_link_base_url, now)
    languages = notice_languages(
        case.get("owner_language"),
        unknown=config.unknown_language_notices,
        default=config.language,
    )
    readers = [translator(DOMAIN, language) for language in languages]
    notices: list[NewNotice] = []
    if case.get("owner_phone"):
        notices.extend(
            NewNotice(
                notice.case_number,
                "sms",
                case["owner_phone"],
                None,
                sms_text(notice, t),
                t.language,
            )
            for t in readers
        )
    if case.get("owner_email"):
        notices.append(
            NewNotice(
                notice.case_number,
                "email",
                case["owner_email"],
                SUBJECT_SEPARATOR.join(email_subject(notice, t) for t in readers),
                SECTION_BREAK.join(email_body(notice, t) for t in readers),
                recorded_language(languages),
            )
        )
    return notices


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
