"""The notices at each later change of a case's status, in one language: the SMS and the e-mail.

The case-opened notice (the resolution) is ``texts.py``; these follow it: the discount ends in
two days, a payment was received, the resolution entered into force, an appeal was received and
decided (upheld, cancelled, amended), the case was handed to a private bailiff. Each is a
gettext message of the ``notices`` domain with the same values as the resolution's (amounts as
CLDR writes them, Astana time, the article as the Code cites it), and each SMS comes in variants
from fullest to shortest, of which the first that fits two SMS is sent (``texts.sms_text``'s
rule). The e-mail says everything, then the link and the same footer as the resolution's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from central_ingest.core.sms import sms_segments
from central_ingest.notify.texts import MAX_SMS_SEGMENTS, CaseNotice, _values, for_sms
from i18n import Text, Translator

StatusKind = Literal[
    "discount_ending",
    "payment_received",
    "entered_into_force",
    "appeal_received",
    "appeal_decided",
    "handed_to_bailiffs",
]
STATUS_KINDS: tuple[StatusKind, ...] = (
    "discount_ending",
    "payment_received",
    "entered_into_force",
    "appeal_received",
    "appeal_decided",
    "handed_to_bailiffs",
)
AppealDecision = Literal["upheld", "cancelled", "amended"]
APPEAL_DECISIONS: tuple[AppealDecision, ...] = ("upheld", "cancelled", "amended")


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """What a status notice says beyond the case itself: the money paid so far and what is
    still due now, the amount just received, the appeal's decision."""

    paid_minor: int = 0
    received_minor: int = 0
    decision: AppealDecision | None = None

    def remaining_minor(self, notice: CaseNotice) -> int:
        return max(0, notice.discounted_minor - self.paid_minor)


def _status_values(notice: CaseNotice, facts: StatusFacts, t: Translator) -> dict[str, object]:
    return {
        **_values(notice, t),
        "received": t.money(facts.received_minor),
        "remaining": t.money(facts.remaining_minor(notice)),
        "due": t.money(max(0, notice.full_minor - facts.paid_minor)),
    }


def _sms_texts(
    kind: StatusKind, notice: CaseNotice, facts: StatusFacts, v: dict[str, object]
) -> list[Text]:
    """The SMS variants of ``kind``, fullest first; every one ends with the link."""
    if kind == "discount_ending":
        return [
            # TRANSLATORS: SMS variants of the later notices, fullest first; the first
            # that fits two SMS (134 Cyrillic characters with the link) is sent.
            Text(
                "Case %(case)s, vehicle %(plate)s: the discount ends %(discount_until)s. Pay"
                " %(discounted)s by then, %(full)s after. %(link)s",
                **v,
            ),
            Text("Case %(case)s: pay %(discounted)s by %(discount_until)s. %(link)s", **v),
        ]
    if kind == "payment_received":
        if facts.remaining_minor(notice) == 0:
            return [
                Text(
                    "Case %(case)s: payment of %(received)s received. The fine is paid in"
                    " full, nothing more is due. %(link)s",
                    **v,
                ),
                Text("Case %(case)s: %(received)s received, fine paid. %(link)s", **v),
            ]
        return [
            Text(
                "Case %(case)s: payment of %(received)s received; %(remaining)s is still due"
                " by %(pay_by)s. %(link)s",
                **v,
            ),
            Text("Case %(case)s: %(received)s received, %(remaining)s still due. %(link)s", **v),
        ]
    if kind == "entered_into_force":
        return [
            Text(
                "Case %(case)s: the resolution under %(article)s is in force. Pay %(due)s by"
                " %(pay_by)s, otherwise a private bailiff enforces it. %(link)s",
                **v,
            ),
            Text("Case %(case)s is in force: pay %(due)s by %(pay_by)s. %(link)s", **v),
        ]
    if kind == "appeal_received":
        return [
            Text(
                "Case %(case)s: your appeal was received. The resolution does not enter into"
                " force and nothing is enforced until it is decided. %(link)s",
                **v,
            ),
            Text("Case %(case)s: appeal received, enforcement suspended. %(link)s", **v),
        ]
    if kind == "appeal_decided":
        if facts.decision == "cancelled":
            return [
                Text(
                    "Case %(case)s: your appeal was granted and the resolution cancelled."
                    " Nothing is due. %(link)s",
                    **v,
                ),
                Text("Case %(case)s: appeal granted, resolution cancelled. %(link)s", **v),
            ]
        if facts.decision == "amended":
            return [
                Text(
                    "Case %(case)s: on your appeal the resolution was amended to %(article)s,"
                    " fine %(full)s, to be paid by %(pay_by)s. %(link)s",
                    **v,
                ),
                Text("Case %(case)s: amended to %(article)s, fine %(full)s. %(link)s", **v),
            ]
        return [
            Text(
                "Case %(case)s: your appeal was dismissed and the resolution stands. Pay %(due)s"
                " by %(pay_by)s. %(link)s",
                **v,
            ),
            Text("Case %(case)s: appeal dismissed, pay %(due)s. %(link)s", **v),
        ]
    return [
        Text(
            "Case %(case)s: the fine of %(due)s was not paid by %(pay_by)s and has been handed"
            " to a private bailiff for enforcement. %(link)s",
            **v,
        ),
        Text("Case %(case)s: %(due)s unpaid, handed to a bailiff. %(link)s", **v),
    ]


def status_sms(kind: StatusKind, notice: CaseNotice, facts: StatusFacts, t: Translator) -> str:
    """The fullest variant that fits ``MAX_SMS_SEGMENTS`` (the shortest if none does)."""
    v = _status_values(notice, facts, t)
    variants = [for_sms(t.text(text)) for text in _sms_texts(kind, notice, facts, v)]
    for text in variants:
        if sms_segments(text).segments <= MAX_SMS_SEGMENTS:
            return text
    return variants[-1]


def status_subject(kind: StatusKind, notice: CaseNotice, facts: StatusFacts, t: Translator) -> str:
    v = _values(notice, t)
    subjects: dict[str, Text] = {
        "discount_ending": Text("Case %(case)s: the discount ends %(discount_until)s", **v),
        "payment_received": Text("Case %(case)s: payment received", **v),
        "entered_into_force": Text("Case %(case)s: the resolution has entered into force", **v),
        "appeal_received": Text("Case %(case)s: your appeal was received", **v),
        "appeal_decided": Text("Case %(case)s: your appeal was decided", **v),
        "handed_to_bailiffs": Text("Case %(case)s: handed to a private bailiff", **v),
    }
    return t.text(subjects[kind])


def _email_lines(
    kind: StatusKind, notice: CaseNotice, facts: StatusFacts, v: dict[str, object]
) -> list[list[Text]]:
    """The paragraphs particular to ``kind``."""
    if kind == "discount_ending":
        return [
            [
                Text(
                    "The discount on the fine in case %(case)s (%(offence)s, %(article)s,"
                    " vehicle %(plate)s) ends at %(discount_until)s.",
                    **v,
                )
            ],
            [
                Text("Paid by then: %(discounted)s (%(percent)s of the fine).", **v),
                Text("Paid later, until %(pay_by)s: %(full)s.", **v),
            ],
        ]
    if kind == "payment_received":
        tail = (
            Text("The fine is paid in full; nothing more is due and the case is closed.")
            if facts.remaining_minor(notice) == 0
            else Text(
                "%(remaining)s is still due; pay it by %(pay_by)s, quoting the case number.",
                **v,
            )
        )
        return [
            [
                Text(
                    "A payment of %(received)s for case %(case)s (%(offence)s, vehicle"
                    " %(plate)s) has been received.",
                    **v,
                )
            ],
            [tail],
        ]
    if kind == "entered_into_force":
        return [
            [
                Text(
                    "The resolution in case %(case)s (%(offence)s, %(article)s, vehicle"
                    " %(plate)s) entered into force on %(force)s.",
                    **v,
                )
            ],
            [
                Text(
                    "%(due)s is due by %(pay_by)s. A fine not paid by then is handed to a"
                    " private bailiff for enforcement.",
                    **v,
                )
            ],
        ]
    if kind == "appeal_received":
        return [
            [Text("Your appeal in case %(case)s (vehicle %(plate)s) has been received.", **v)],
            [
                Text(
                    "Until it is decided the resolution does not enter into force, and the case"
                    " is not handed to a bailiff. You will be told of the decision.",
                )
            ],
        ]
    if kind == "appeal_decided":
        if facts.decision == "cancelled":
            decided = Text(
                "Your appeal in case %(case)s has been granted: the resolution is cancelled and"
                " nothing is due. Any amount paid will be refunded.",
                **v,
            )
        elif facts.decision == "amended":
            decided = Text(
                "On your appeal the resolution in case %(case)s has been amended: %(offence)s,"
                " %(article)s, fine %(mrp)s MRP = %(full)s, to be paid by %(pay_by)s.",
                **v,
            )
        else:
            decided = Text(
                "Your appeal in case %(case)s has been dismissed: the resolution stands. %(due)s"
                " is due by %(pay_by)s.",
                **v,
            )
        return [[decided]]
    return [
        [
            Text(
                "The fine in case %(case)s (%(offence)s, %(article)s, vehicle %(plate)s) was"
                " not paid by %(pay_by)s. The case has been handed to a private bailiff for"
                " enforcement of %(due)s.",
                **v,
            )
        ],
        [Text("Paying now stops the enforcement: the bailiff is told at once.")],
    ]


def status_email(kind: StatusKind, notice: CaseNotice, facts: StatusFacts, t: Translator) -> str:
    v = _status_values(notice, facts, t)
    greeting = (
        Text("Dear %(name)s,", name=notice.owner_name)
        if notice.owner_name
        else Text("Dear vehicle owner,")
    )
    paragraphs: list[list[Text]] = [
        [greeting],
        *_email_lines(kind, notice, facts, v),
        [Text("The case, its photographs and the ways to pay: %(link)s", **v)],
        [
            Text("All times are Astana time (UTC+5)."),
            Text(
                "This message was sent automatically by the unified registry of administrative"
                " proceedings (ERAP); replies are not read."
            ),
        ],
    ]
    return "\n\n".join("\n".join(t.text(line) for line in lines) for lines in paragraphs) + "\n"
