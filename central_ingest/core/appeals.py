"""Appeals against a resolution, as pure rules: who may appeal and until when, what may be
attached, how a decision is checked, and what each decision does to the case.

The Code of Administrative Offences gives the driver the appeal period (``appeal_days`` of the
configured deadlines: the resolution enters into force when it ends). An appeal filed within it
suspends the resolution at once: it does not enter into force and the case is not handed to
bailiffs while the appeal is open (``core.cases.handover_refusal``; the database refuses the
same, store/appeal_schema.py). One appeal per case: a second complaint, to a court, comes back
to the registry as a court's decision entered on that appeal.

What each decision does, kept simple and documented (deploy/registry.example.toml, [appeals]):

- upheld: the resolution enters into force on the day of the decision (the Code: a resolution
  appealed enters into force once the complaint is dismissed); the voluntary payment period and
  the enforcement limitation are counted again from that moment; the discount window, counted
  from the resolution, is not reopened;
- cancelled: the case is cancelled (closed for good; the bailiffs never had it);
- amended to another article or part: the fine is the configured one for that article and part,
  converted with the MRP of the offence's day, as at the opening; the amended resolution enters
  into force on the day of the decision, as for upheld.

Nothing here touches a database or reads the clock: callers pass the facts and the moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from central_ingest.core.cases import CaseStatus
from central_ingest.core.clock import local
from central_ingest.core.errors import Conflict, InvalidInput
from central_ingest.core.fines import Deadlines, FineAssessment, FineSchedule
from central_ingest.core.labels import label_text
from i18n.text import Text

# The Code allows a complaint and its attachments; the registry keeps at most this many files
# per appeal (the database refuses a sixth: appeal_attachments.position is 1 to 5).
MAX_ATTACHMENTS = 5
MAX_TEXT_CHARS = 5000
MAX_FILE_NAME_CHARS = 200
MAX_COURT_REFERENCE_CHARS = 100


class AppealStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"


class AppealDecision(StrEnum):
    UPHELD = "upheld"
    CANCELLED = "cancelled"
    AMENDED = "amended"


class DecidedAs(StrEnum):
    """Who decided: a supervisor of the agency, or a court whose decision an officer enters."""

    SUPERVISOR = "supervisor"
    COURT = "court"


class AppealChannel(StrEnum):
    DRIVER_PAGE = "driver_page"
    OFFICE = "office"


class AttachmentType(StrEnum):
    JPEG = "image/jpeg"
    PNG = "image/png"
    PDF = "application/pdf"


# The statuses an appeal can be filed in: a case not yet closed nor with the bailiffs (within
# the appeal period it cannot be with them yet).
_APPEALABLE = frozenset({CaseStatus.OPEN, CaseStatus.UNDERPAID})


def local_moment(moment: datetime) -> str:
    """A moment as a sentence to the driver names it: Astana time, to the minute."""
    return local(moment).strftime("%Y-%m-%d %H:%M")


def check_filing(
    case_number: str,
    *,
    status: CaseStatus,
    due: datetime,
    already_appealed: bool,
    text: str,
    now: datetime,
) -> str:
    """Validate an appeal filed ``now`` against a case whose appeal period ends at ``due`` (the
    resolution's entry into force); returns the text as it will be stored."""
    body = text.strip()
    if already_appealed:
        raise Conflict(
            "appeal_exists",
            Text(
                "Case %(case)s has already been appealed; the appeal is decided once, and a"
                " court's decision on it is entered on the same appeal.",
                case=case_number,
            ),
        )
    if now > due:
        raise Conflict(
            "appeal_late",
            Text(
                "The appeal period of case %(case)s ended on %(due)s (Astana time): the appeal"
                " was due by then and can no longer be filed here.",
                case=case_number,
                due=local_moment(due),
            ),
        )
    if status not in _APPEALABLE:
        raise Conflict(
            "case_not_appealable",
            Text(
                "Case %(case)s is closed or with the bailiffs: it can no longer be appealed here.",
                case=case_number,
            ),
        )
    if not body:
        raise InvalidInput(
            "appeal_text_required", Text("Say in the appeal why the resolution is wrong.")
        )
    if len(body) > MAX_TEXT_CHARS:
        raise InvalidInput(
            "appeal_text_too_long",
            Text(
                "The appeal's text is %(length)s characters long; at most %(most)s are accepted:"
                " attach a longer statement as a PDF.",
                length=len(body),
                most=MAX_TEXT_CHARS,
            ),
        )
    return body


def check_attachment_count(count: int, most: int) -> None:
    if count > most:
        raise InvalidInput(
            "too_many_attachments",
            Text(
                "%(count)s files were attached; an appeal takes at most %(most)s photos or PDFs.",
                count=count,
                most=most,
            ),
        )


def check_attachment_size(name: str, size: int, most_bytes: int) -> None:
    if size == 0:
        raise InvalidInput(
            "attachment_empty", Text("The file “%(name)s” is empty.", name=_shown_name(name))
        )
    if size > most_bytes:
        megabytes, most = format(size / 1_048_576, ".1f"), format(most_bytes / 1_048_576, ".0f")
        raise InvalidInput(
            "attachment_too_large",
            Text(
                "The file “%(name)s” is %(size)s MB; each file may be at most %(most)s MB.",
                name=_shown_name(name),
                size=megabytes,
                most=most,
            ),
        )


# What a refused file really is, named in the refusal: the driver sees why.
_EXECUTABLE_MAGIC = (
    (b"MZ", Text("a Windows program")),
    (b"\x7fELF", Text("a Linux program")),
    (b"\xcf\xfa\xed\xfe", Text("a macOS program")),
    (b"#!", Text("a script")),
    (b"PK\x03\x04", Text("an archive")),
)


def sniff_attachment(name: str, head: bytes) -> AttachmentType:
    """The file's type from its first bytes, whatever its name says. A program or archive
    renamed to .jpg or .pdf is named as what it is."""
    if head.startswith(b"\xff\xd8\xff"):
        return AttachmentType.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return AttachmentType.PNG
    if head.startswith(b"%PDF-"):
        return AttachmentType.PDF
    for magic, what in _EXECUTABLE_MAGIC:
        if head.startswith(magic):
            raise InvalidInput(
                "attachment_not_allowed",
                Text(
                    "The file “%(name)s” is %(what)s, not a photo or a PDF, whatever its name"
                    " says: it was refused. Attach JPEG or PNG photos or PDF documents only.",
                    name=_shown_name(name),
                    what=what,
                ),
            )
    raise InvalidInput(
        "attachment_not_allowed",
        Text(
            "The file “%(name)s” is not a JPEG or PNG photo nor a PDF: it was refused.",
            name=_shown_name(name),
        ),
    )


def undecodable(name: str, kind: AttachmentType) -> InvalidInput:
    """The refusal of a file that starts like ``kind`` but cannot be read as one."""
    return InvalidInput(
        "attachment_corrupt",
        Text(
            "The file “%(name)s” starts like a %(kind)s but cannot be opened as one: it is"
            " damaged or disguised, and was refused.",
            name=_shown_name(name),
            kind={"image/jpeg": "JPEG", "image/png": "PNG", "application/pdf": "PDF"}[kind.value],
        ),
    )


def _shown_name(name: str) -> str:
    return name[:MAX_FILE_NAME_CHARS] or "?"


def stored_file_name(name: str) -> str:
    """The attachment's name as the registry keeps it: its last path part, bounded."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base[:MAX_FILE_NAME_CHARS] or "attachment"


# --- decisions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppealRuling:
    decision: AppealDecision
    decided_as: DecidedAs
    court_reference: str | None
    note: str
    amended_article: str | None = None
    amended_part: str | None = None


def ruling(
    *,
    decision: AppealDecision,
    decided_as: DecidedAs,
    court_reference: str | None = None,
    note: str = "",
    amended_article: str | None = None,
    amended_part: str | None = None,
) -> AppealRuling:
    """Validate a decision as entered: a court's decision names the court's reference, an
    amendment names the article and part, a cancellation says why."""
    reference = (court_reference or "").strip() or None
    if decided_as is DecidedAs.COURT and reference is None:
        raise InvalidInput(
            "court_reference_required",
            Text("A court's decision is entered with the court's reference (case number)."),
        )
    if reference is not None and len(reference) > MAX_COURT_REFERENCE_CHARS:
        raise InvalidInput(
            "court_reference_too_long",
            Text(
                "A court's reference has at most %(most)s characters.",
                most=MAX_COURT_REFERENCE_CHARS,
            ),
        )
    article = (amended_article or "").strip() or None
    part = (amended_part or "").strip() or None
    if decision is AppealDecision.AMENDED:
        if article is None or part is None:
            raise InvalidInput(
                "amendment_incomplete",
                Text("An amended resolution names the new article and its part."),
            )
    elif article is not None or part is not None:
        raise InvalidInput(
            "amendment_without_amended_decision",
            Text("An article and part are given only when the resolution is amended."),
        )
    text = note.strip()
    if decision is AppealDecision.CANCELLED and not text and reference is None:
        raise InvalidInput(
            "appeal_cancel_reason_required",
            Text("Cancelling a resolution on appeal needs a note saying why."),
        )
    return AppealRuling(
        decision=decision,
        decided_as=decided_as,
        court_reference=reference,
        note=text,
        amended_article=article,
        amended_part=part,
    )


def check_open(appeal_id: int, status: AppealStatus) -> None:
    if status is not AppealStatus.OPEN:
        raise Conflict(
            "appeal_already_decided",
            Text(
                "Appeal %(appeal)s has already been decided; a decision is final.", appeal=appeal_id
            ),
        )


def check_decidable(case_number: str, status: CaseStatus, decision: AppealDecision) -> None:
    """A case closed meanwhile (paid during the appeal) keeps its status: only "upheld" can be
    recorded on it; a cancellation or an amendment of a paid case is a refund's procedure."""
    if status.closed and decision is not AppealDecision.UPHELD:
        raise Conflict(
            "case_closed",
            Text(
                "Case %(case)s is closed (%(status)s): only “upheld” can be recorded on its"
                " appeal; a refund, if owed, is a separate procedure.",
                case=case_number,
                status=label_text(status),
            ),
        )


def amended_fine(schedule: FineSchedule, article: str, part: str) -> FineAssessment:
    """The configured fine for ``article`` part ``part``; refused if the schedule has none."""
    if article == schedule.speeding_article:
        for band in schedule.speeding_bands:
            if band.part == part:
                return FineAssessment(article=article, part=part, fine_mrp=band.fine_mrp)
    for fixed in schedule.fixed.values():
        if fixed.article == article and fixed.part == part:
            return FineAssessment(article=article, part=part, fine_mrp=fixed.fine_mrp)
    raise InvalidInput(
        "article_not_configured",
        Text(
            "No fine is configured for article %(article)s part %(part)s: choose an article"
            " and part of the fine schedule.",
            article=article,
            part=part,
        ),
    )


@dataclass(frozen=True)
class ForceDates:
    entry_into_force: datetime
    voluntary_deadline: datetime
    limitation_at: datetime


def dates_after_decision(decided_at: datetime, deadlines: Deadlines) -> ForceDates:
    """The resolution upheld or amended enters into force at the decision; the voluntary
    period and the enforcement limitation run from then (see the module's docstring)."""
    return ForceDates(
        entry_into_force=decided_at,
        voluntary_deadline=decided_at + timedelta(days=deadlines.voluntary_days),
        limitation_at=decided_at + timedelta(days=deadlines.limitation_days),
    )


def in_force(entry_into_force: datetime, appeal_open: bool, now: datetime) -> bool:
    """Whether the resolution is in force at ``now``: never while an appeal is open."""
    return not appeal_open and now >= entry_into_force
