"""The case-opened notice in one language: the SMS and the e-mail a vehicle's owner receives.

Every sentence is a gettext message of the ``notices`` domain, rendered with the reader's
``Translator``: amounts as CLDR writes them (``21 625,00 ₸``), times in Astana time, the offence
by its label in the ``registry`` catalog, and the article cited as the Code's own texts cite it
(``ч. 1 ст. 592 КоАП РК``, ``ӘҚБтК 592-бабының 1-бөлігі``; ``i18n/GLOSSARY.md``).

The SMS says what happened, what is due now and until when, then what is due after, and the
link to the case; variants run from fullest to shortest and the first that fits two SMS is
sent (``MAX_SMS_SEGMENTS``). The e-mail says everything: case number, offence, fine in MRP,
both amounts and deadlines, entry into force, appeal, bailiffs, the link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from central_ingest.core.clock import parse_iso
from central_ingest.core.fines import amount_due_minor
from central_ingest.core.labels import OFFENCES, label
from central_ingest.core.sms import gsm7_septets, sms_segments
from i18n import Text, Translator

MAX_SMS_SEGMENTS = 2
"""Two parts at most in every language: 134 Cyrillic characters (UCS-2), 306 Latin (GSM)."""

# Spaces CLDR puts inside amounts and English times (no-break, narrow no-break). In a Cyrillic
# SMS they cost what a space costs and keep ``21 625,00 ₸`` on one line of the phone's screen;
# in an otherwise Latin text they alone would force UCS-2 and halve the room, so they go.
_CLDR_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


def _moment(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return parse_iso(value)
    raise TypeError(f"expected a time, got {value!r}")


@dataclass(frozen=True, slots=True)
class CaseNotice:
    """What a notice says, taken from the cases row; the same in every language."""

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
            # The driver page's link made with the notice (driver/links.py), when given.
            link=case.get("page_link") or f"{base_url.rstrip('/')}/{case['case_number']}",
            plate=case["plate"],
            owner_name=case.get("owner_name"),
            violation=str(case["violation"]),
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


def article_citation(notice: CaseNotice, t: Translator) -> str:
    """``ч. 1 ст. 592 КоАП РК`` (ru), ``ӘҚБтК 592-бабының 1-бөлігі`` (kk)."""
    return t.text(
        # TRANSLATORS: the citation as the Code's own texts write it:
        # "ч. 1 ст. 592 КоАП РК", "ӘҚБтК 592-бабының 1-бөлігі" (GLOSSARY.md).
        Text(
            "art. %(article)s part %(part)s of the CAO",
            article=notice.article,
            part=notice.part,
        )
    )


def offence_name(notice: CaseNotice, t: Translator) -> str:
    """The offence as the registry's catalog names it (the notices domain falls back to it)."""
    return t.gettext(label(notice.violation, OFFENCES))


def _values(notice: CaseNotice, t: Translator) -> dict[str, object]:
    return {
        "article": article_citation(notice, t),
        "offence": offence_name(notice, t),
        "plate": notice.plate,
        "case": notice.case_number,
        "day": t.day(notice.offence_at),
        "recorded": t.date_time(notice.offence_at),
        "discounted": t.money(notice.discounted_minor),
        "discount_until": t.date_time(notice.discount_deadline),
        "percent": t.percent(notice.discount_percent / 100, 0),
        "full": t.money(notice.full_minor),
        "pay_by": t.date_time(notice.voluntary_deadline),
        "force": t.date_time(notice.entry_into_force),
        "mrp": t.number(notice.fine_mrp),
        "mrp_value": t.money(notice.mrp_kzt * 100),
        "link": notice.link,
    }


def sms_variants(notice: CaseNotice, t: Translator) -> list[str]:
    """Every form of the SMS, fullest first; each ends with the link, which is never dropped."""
    v = _values(notice, t)
    if notice.has_discount:
        texts = [
            # TRANSLATORS: SMS variants, fullest first; the first that fits
            # two SMS (134 Cyrillic characters with the link) is sent. Keep
            # each as short as the meaning allows (test_notification_texts).
            Text(
                "Fine under %(article)s, vehicle %(plate)s, %(day)s, case %(case)s: %(discounted)s"
                " if paid by %(discount_until)s, otherwise %(full)s by %(pay_by)s. %(link)s",
                **v,
            ),
            Text(
                "Fine under %(article)s, vehicle %(plate)s: %(full)s; %(discounted)s if paid by"
                " %(discount_until)s. %(link)s",
                **v,
            ),
            Text(
                "Fine under %(article)s: %(full)s; %(discounted)s if paid by %(discount_until)s."
                " %(link)s",
                **v,
            ),
            Text(
                "Fine under %(article)s: %(discounted)s if paid by %(discount_until)s. %(link)s",
                **v,
            ),
        ]
    else:
        texts = [
            Text(
                "Fine under %(article)s, vehicle %(plate)s, %(day)s, case %(case)s: %(full)s,"
                " to be paid by %(pay_by)s. %(link)s",
                **v,
            ),
            Text(
                "Fine under %(article)s, vehicle %(plate)s: %(full)s, to be paid by %(pay_by)s."
                " %(link)s",
                **v,
            ),
            Text("Fine under %(article)s: %(full)s, to be paid by %(pay_by)s. %(link)s", **v),
        ]
    return [for_sms(t.text(text)) for text in texts]


def for_sms(text: str) -> str:
    """The text as the gateway gets it: CLDR's no-break spaces become plain ones where that
    lets the text go out in the GSM alphabet (English), and stay otherwise."""
    plain = text.translate(_CLDR_SPACES)
    return plain if gsm7_septets(plain) is not None else text


def sms_text(notice: CaseNotice, t: Translator) -> str:
    """The fullest variant that fits ``MAX_SMS_SEGMENTS``; the shortest one if none does (a
    base URL far longer than any real one), which the gateway then sends in more parts."""
    variants = sms_variants(notice, t)
    for text in variants:
        if sms_segments(text).segments <= MAX_SMS_SEGMENTS:
            return text
    return variants[-1]


def email_subject(notice: CaseNotice, t: Translator) -> str:
    return t.text(
        Text(
            "Administrative case %(case)s: %(offence)s, vehicle %(plate)s",
            **_values(notice, t),
        )
    )


def email_body(notice: CaseNotice, t: Translator) -> str:
    v = _values(notice, t)
    if notice.owner_name:
        greeting = Text("Dear %(name)s,", name=notice.owner_name)
    else:
        greeting = Text("Dear vehicle owner,")
    if notice.has_discount:
        amounts = [
            Text(
                "– %(discounted)s if paid by %(discount_until)s (%(percent)s of the fine, on"
                " condition that you do not appeal the resolution);",
                **v,
            ),
            Text("– %(full)s after that, until %(pay_by)s.", **v),
        ]
    else:
        amounts = [Text("– %(full)s, until %(pay_by)s.", **v)]
    paragraphs: list[list[Text]] = [
        [greeting],
        [
            Text(
                "A resolution on an administrative offence has been issued against the"
                " registered owner of vehicle %(plate)s.",
                **v,
            )
        ],
        [
            Text("Case number: %(case)s", **v),
            Text("Offence: %(offence)s (%(article)s)", **v),
            Text("Recorded at: %(recorded)s", **v),
            Text("Fine: %(mrp)s MRP × %(mrp_value)s = %(full)s", **v),
        ],
        [Text("Amount due:"), *amounts],
        [
            Text(
                "The resolution enters into force on %(force)s unless it is appealed before"
                " then. A fine not paid by %(pay_by)s is handed to a private bailiff for"
                " enforcement.",
                **v,
            )
        ],
        [
            Text(
                "The photographs of the offence, the resolution and the ways to pay: %(link)s",
                **v,
            ),
            Text("When paying through the eGov portal or a banking app, quote the case number."),
        ],
        [
            Text("All times are Astana time (UTC+5)."),
            Text(
                "This message was sent automatically by the unified registry of administrative"
                " proceedings (ERAP); replies are not read."
            ),
        ],
    ]
    return "\n\n".join("\n".join(t.text(line) for line in lines) for lines in paragraphs) + "\n"
