"""Hand-over to bailiffs over SQLite: overdue cases handed over, recalls of cases settled or
closed after it, and the numbered feed of those documents that the bailiffs' system polls.

Each document is self-contained (a bailiff needs nothing else to open or stop enforcement),
stored as canonical JSON, and its SHA-256 goes into the ledger. Functions that write run
inside the caller's write transaction (``Store.transaction``).

A case goes only once its driver was told of the resolution (``core.driver_told``): a
delivered notice, or the failed rounds the Code's rule requires; the hand-over document says
which. An overdue case without either is held and listed for a supervisor
(``undelivered_cases``); the ``case_told_before_bailiffs`` trigger refuses the move to the
bailiffs whatever code makes it, reading the rule from ``handover_rule``, which the hand-over
keeps equal to the configuration.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from central_ingest.core import cases as rules
from central_ingest.core.cases import CaseStatus, RecallReason
from central_ingest.core.clock import iso, parse_iso
from central_ingest.core.driver_told import (
    HandoverRule,
    NoticeRound,
    NoticeState,
    Told,
    driver_told,
)
from central_ingest.store.case_reads import case_state
from central_ingest.store.case_status import case_entry, set_case_status
from central_ingest.store.db import Database
from central_ingest.store.ledger import append_entry
from central_ingest.store.rows import all_rows
from contract import canonical_json

LEGAL_CODE = "Code of the Republic of Kazakhstan on Administrative Offences"
HANDOVER_ACTOR = "system:bailiff_handover"


@dataclass(frozen=True)
class Issuer:
    """The agency that issues the cases, as the bailiffs' documents name it and link to them."""

    agency_code: str
    case_link_base_url: str

    def case_url(self, case_number: str) -> str:
        # The driver's lookup form with the case number filled in: the driver's page opens only
        # by a notice's own link or by the number with the plate, never by the number alone.
        return f"{self.case_link_base_url.rstrip('/')}/?case={quote(case_number)}"


def _handover_document(case: Mapping[str, Any], issuer: Issuer, at: str) -> dict[str, Any]:
    """Everything a bailiff needs to open enforcement, without looking anything up here."""
    return {
        "kind": "handover",
        "case_number": case["case_number"],
        "issuer": issuer.agency_code,
        "debtor": {"id": case["owner_id"], "name": case["owner_name"]},
        "vehicle_plate": case["plate"],
        "amount_minor": int(case["fine_minor"]) - int(case["paid_minor"]),
        "currency": "KZT",
        "legal_basis": {
            "code": LEGAL_CODE,
            "article": case["article"],
            "part": case["part"],
            "violation": case["violation"],
            "fine_mrp": case["fine_mrp"],
            "mrp_kzt": case["mrp_kzt"],
        },
        "offence_at": case["offence_at"],
        "resolution_at": case["resolution_at"],
        "entry_into_force": case["entry_into_force"],
        "voluntary_deadline": case["voluntary_deadline"],
        "limitation_at": case["limitation_at"],
        "case_url": issuer.case_url(case["case_number"]),
        "handed_over_at": at,
    }


def _append_bailiff_document(
    db: Database,
    *,
    case_number: str,
    document: dict[str, Any],
    amount_minor: int,
    actor: str,
    at: str,
) -> int:
    text = canonical_json(document).decode("utf-8")
    seq = int(
        db.conn.execute(
            "INSERT INTO bailiff_handovers (case_number, kind, amount_minor, recorded_at, document)"
            " VALUES (?, ?, ?, ?, ?) RETURNING seq",
            (case_number, document["kind"], amount_minor, at, text),
        ).fetchone()[0]
    )
    append_entry(
        db,
        recorded_at=at,
        entity_type="bailiff",
        entity_id=case_number,
        action=document["kind"],
        actor=actor,
        payload={
            "seq": seq,
            "amount_minor": amount_minor,
            "document_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        },
    )
    return seq


def recall(
    db: Database,
    case_number: str,
    reason: RecallReason,
    *,
    paid_minor: int,
    actor: str,
    at: str,
    issuer: Issuer,
) -> None:
    """Tell the bailiffs to stop enforcing a case they were given; nothing is left to collect."""
    document = {
        "kind": "recall",
        "case_number": case_number,
        "issuer": issuer.agency_code,
        "reason": reason.value,
        "paid_minor": paid_minor,
        "instruction": "stop enforcement of this case and lift any measures taken under it",
        "case_url": issuer.case_url(case_number),
        "recalled_at": at,
    }
    _append_bailiff_document(
        db, case_number=case_number, document=document, amount_minor=0, actor=actor, at=at
    )


# The notices of the resolution, round by round: what ``core.driver_told`` needs.
_ROUNDS = (
    "SELECT attempt_round, created_at, status, delivered_at FROM notifications"
    " WHERE case_number = ? AND kind = 'case_opened' ORDER BY attempt_round, notification_id"
)


def _state(status: str, delivered_at: object) -> NoticeState:
    if status == "pending":
        return "queued"
    if status == "failed":
        return "failed"
    return "delivered" if delivered_at is not None else "sent"


def _moment(value: object) -> datetime:
    return value if isinstance(value, datetime) else parse_iso(str(value))


def resolution_rounds(db: Database, case_number: str) -> list[NoticeRound]:
    """The rounds of the resolution's notice sent for the case, oldest first."""
    grouped: dict[int, list[tuple[object, str, object]]] = {}
    for number, created_at, status, delivered_at in db.conn.execute(
        _ROUNDS, (case_number,)
    ).fetchall():
        grouped.setdefault(int(number), []).append((created_at, status, delivered_at))
    rounds = []
    for number, notices in sorted(grouped.items()):
        delivered = [_moment(d) for _, _, d in notices if d is not None]
        rounds.append(
            NoticeRound(
                number,
                min(_moment(created) for created, _, _ in notices),
                tuple(_state(status, d) for _, status, d in notices),
                min(delivered, default=None),
            )
        )
    return rounds


def keep_rule(db: Database, rule: HandoverRule) -> None:
    """Make ``handover_rule`` (what the database's trigger reads) say what the configuration
    says, inside the hand-over's transaction."""
    db.conn.execute(
        "INSERT INTO handover_rule (rule_id, notice_attempts_required, notice_attempt_days)"
        " VALUES (1, ?, ?) ON CONFLICT (rule_id) DO UPDATE"
        " SET notice_attempts_required = excluded.notice_attempts_required,"
        " notice_attempt_days = excluded.notice_attempt_days"
        " WHERE handover_rule.notice_attempts_required != excluded.notice_attempts_required"
        " OR handover_rule.notice_attempt_days != excluded.notice_attempt_days",
        (rule.attempts_required, rule.attempt_days),
    )


def _told_document(told: Told) -> dict[str, Any]:
    """How the driver was told, as the bailiff's document states it."""
    if told.by is None:
        raise ValueError("a case whose driver was not told is never handed over")
    return {
        "by": told.by.value,
        "delivered_at": None if told.delivered_at is None else iso(told.delivered_at),
        "failed_rounds": told.failed_rounds,
        "first_failed_at": None if told.first_failed_at is None else iso(told.first_failed_at),
        "last_failed_at": None if told.last_failed_at is None else iso(told.last_failed_at),
    }


# Overdue, unpaid, enforceable, with a debtor: the cases the hand-over looks at, in order.
# Paged by (voluntary_deadline, case_number) after the last one looked at, so a case held
# (its driver not told) is not looked at again in the same run.
_OVERDUE = (
    "SELECT * FROM cases WHERE status = 'open' AND voluntary_deadline < ?"
    " AND limitation_at > ? AND paid_minor = 0 AND owner_id IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM payments WHERE matched_case = cases.case_number)"
    # An open appeal suspends the resolution (core/appeals.py; the database refuses too).
    " AND NOT EXISTS (SELECT 1 FROM appeals WHERE appeals.case_number = cases.case_number"
    " AND appeals.status = 'open')"
    # A payment made elsewhere held for the case (its appeal was open): never to bailiffs.
    " AND NOT EXISTS (SELECT 1 FROM inbound_payments"
    " WHERE inbound_payments.matched_case = cases.case_number)"
)
# Only those whose driver may have been told: a delivered resolution notice, or at least as
# many failed rounds as the rule requires (the span of days is checked by driver_told).
_MAY_HAVE_BEEN_TOLD = (
    " AND (EXISTS (SELECT 1 FROM notifications n WHERE n.case_number = cases.case_number"
    " AND n.kind = 'case_opened' AND n.delivered_at IS NOT NULL)"
    " OR (SELECT count(*) FROM (SELECT n.attempt_round FROM notifications n"
    " WHERE n.case_number = cases.case_number AND n.kind = 'case_opened'"
    " GROUP BY n.attempt_round"
    " HAVING sum(CASE WHEN n.status = 'failed' THEN 0 ELSE 1 END) = 0) AS failed) >= ?)"
)


@dataclass(frozen=True)
class HandoverBatch:
    """One batch: the cases handed over, how many were looked at, and where the next batch
    starts (None: nothing more to look at)."""

    handed: list[str]
    after: tuple[str, str] | None


def hand_over_overdue(
    db: Database,
    issuer: Issuer,
    now: datetime,
    limit: int,
    rule: HandoverRule,
    after: tuple[str, str] | None = None,
) -> HandoverBatch:
    """Hand up to ``limit`` overdue, unpaid cases whose driver was told to bailiffs, looking at
    the cases after ``after`` (the previous batch's); returns their numbers and the next
    batch's start."""
    at = iso(now)
    keep_rule(db, rule)
    sql, params = _OVERDUE + _MAY_HAVE_BEEN_TOLD, [at, at, rule.attempts_required]
    if after is not None:
        sql += " AND (voluntary_deadline > ? OR (voluntary_deadline = ? AND case_number > ?))"
        params += [after[0], after[0], after[1]]
    candidates = all_rows(
        db, sql + " ORDER BY voluntary_deadline, case_number LIMIT ?", [*params, limit]
    )
    handed: list[str] = []
    for case in candidates:
        case_number = case["case_number"]
        told = driver_told(resolution_rounds(db, case_number), rule)
        if not told.told:
            # Enough failed rounds, but not yet over enough days: held, next run looks again.
            continue
        status = rules.hand_over(case_state(case), now)
        set_case_status(
            db, case_number, expected=CaseStatus.OPEN, status=status, paid_minor=0, at=at
        )
        case_entry(
            db,
            case_number=case_number,
            status=status,
            paid_minor=0,
            action="sent_to_bailiffs",
            actor=HANDOVER_ACTOR,
            at=at,
            driver_told=told.by.value if told.by else None,
        )
        document = _handover_document(case, issuer, at)
        document["driver_told"] = _told_document(told)
        _append_bailiff_document(
            db,
            case_number=case_number,
            document=document,
            amount_minor=document["amount_minor"],
            actor=HANDOVER_ACTOR,
            at=at,
        )
        handed.append(case_number)
    if len(candidates) < limit:
        return HandoverBatch(handed, None)
    last = candidates[-1]
    return HandoverBatch(handed, (str(last["voluntary_deadline"]), str(last["case_number"])))


@dataclass(frozen=True)
class HeldCase:
    """An overdue case held from the bailiffs because its driver was not told."""

    case: dict[str, Any]
    told: Told
    last_error: str | None


def undelivered_cases(
    db: Database, now: datetime, rule: HandoverRule, limit: int
) -> list[HeldCase]:
    """Overdue cases that would go to bailiffs but for their driver not being told, oldest
    deadline first: the supervisor's list. Cases whose failed rounds already satisfy the rule
    are not held (the next hand-over takes them)."""
    at = iso(now)
    rows = all_rows(
        db,
        _OVERDUE + " AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.case_number ="
        " cases.case_number AND n.kind = 'case_opened' AND n.delivered_at IS NOT NULL)"
        " ORDER BY voluntary_deadline, case_number LIMIT ?",
        (at, at, limit),
    )
    held = []
    for case in rows:
        told = driver_told(resolution_rounds(db, case["case_number"]), rule)
        if told.told:
            continue
        error = db.conn.execute(
            "SELECT last_error FROM notifications WHERE case_number = ? AND kind = 'case_opened'"
            " AND last_error IS NOT NULL ORDER BY notification_id DESC LIMIT 1",
            (case["case_number"],),
        ).fetchone()
        held.append(HeldCase(case, told, None if error is None else str(error[0])))
    return held


def bailiff_feed(db: Database, after_seq: int, limit: int) -> list[dict[str, Any]]:
    """Hand-overs and recalls after ``after_seq``, in order. Rows are numbered when their
    transaction commits one after another (SQLite has a single writer), so a poller that keeps
    the last seq it saw never misses a document."""
    rows = db.conn.execute(
        "SELECT seq, kind, case_number, amount_minor, recorded_at, document"
        " FROM bailiff_handovers WHERE seq > ? ORDER BY seq LIMIT ?",
        (after_seq, limit),
    ).fetchall()
    return [
        {
            "seq": seq,
            "kind": kind,
            "case_number": case_number,
            "amount_minor": amount_minor,
            "recorded_at": recorded_at,
            "document": json.loads(document),
        }
        for seq, kind, case_number, amount_minor, recorded_at, document in rows
    ]
