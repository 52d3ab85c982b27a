"""The case lifecycle over SQLite: fixation decisions, cases, payments, bailiff hand-overs,
limitation and cancellations.

Every function here runs inside the caller's write transaction (``Store.transaction``) and
writes exactly one ledger entry per change of state, in that same transaction. The rules come
from the pure core (``central_ingest.core.cases`` and ``core.fines``); the schema's triggers
repeat the ones that must hold whatever code writes to the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from central_ingest.core import cases as rules
from central_ingest.core import fines
from central_ingest.core.cases import (
    CancellationStatus,
    CaseStatus,
    Confirmation,
    FixationStatus,
    PaymentOutcome,
    RecallReason,
    Rejection,
)
from central_ingest.core.clock import iso, local, parse_iso
from central_ingest.core.errors import Conflict, Forbidden, NotFound
from central_ingest.store.db import CASEFOLD_FUNCTION, LIKE_ESCAPE, contains_pattern
from central_ingest.store.ledger import append_entry
from contract import Payment, canonical_json
from i18n.text import Text

LEGAL_CODE = "Code of the Republic of Kazakhstan on Administrative Offences"
HANDOVER_ACTOR = "system:bailiff_handover"
LIMITATION_ACTOR = "system:limitation"


def _one(db: sqlite_utils.Database, sql: str, params: Sequence[Any]) -> dict[str, Any] | None:
    cursor = db.conn.execute(sql, tuple(params))
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip((column[0] for column in cursor.description), row, strict=True))


def _all(db: sqlite_utils.Database, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    cursor = db.conn.execute(sql, tuple(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# --- operators -------------------------------------------------------------------------------


def require_operator(db: sqlite_utils.Database, username: str) -> None:
    """Decisions are recorded against a known, active operator account."""
    row = db.conn.execute("SELECT active FROM operators WHERE username = ?", (username,)).fetchone()
    if row is None:
        raise NotFound(
            "operator_not_found", Text("There is no operator named %(name)s.", name=username)
        )
    if not row[0]:
        raise Forbidden(
            "operator_inactive", Text("Operator %(name)s is deactivated.", name=username)
        )


# --- fixations -------------------------------------------------------------------------------


def fixation_row(db: sqlite_utils.Database, fixation_id: str) -> dict[str, Any] | None:
    return _one(db, "SELECT * FROM fixations WHERE fixation_id = ?", (fixation_id,))


def require_fixation(db: sqlite_utils.Database, fixation_id: str) -> dict[str, Any]:
    row = fixation_row(db, fixation_id)
    if row is None:
        raise NotFound(
            "fixation_not_found", Text("There is no fixation %(fixation)s.", fixation=fixation_id)
        )
    return row


def fixation_evidence(db: sqlite_utils.Database, fixation_id: str) -> list[tuple[str, str]]:
    """(role, sha256) of each evidence image, full frame first."""
    rows = db.conn.execute(
        "SELECT role, sha256 FROM fixation_evidence WHERE fixation_id = ?"
        " ORDER BY CASE role WHEN 'full_frame' THEN 0 WHEN 'plate_crop' THEN 1 ELSE 2 END, sha256",
        (fixation_id,),
    ).fetchall()
    return [(str(role), str(sha256)) for role, sha256 in rows]


def case_number_of_fixation(db: sqlite_utils.Database, fixation_id: str) -> str | None:
    row = db.conn.execute(
        "SELECT case_number FROM cases WHERE fixation_id = ?", (fixation_id,)
    ).fetchone()
    return None if row is None else str(row[0])


def review_queue_size(db: sqlite_utils.Database) -> int:
    (count,) = db.conn.execute(
        "SELECT count(*) FROM fixations WHERE status = 'awaiting_review'"
    ).fetchone()
    return int(count)


def oldest_awaiting_review(
    db: sqlite_utils.Database, excluding: Sequence[str]
) -> dict[str, Any] | None:
    """The fixation that has waited longest, leaving out the ids given."""
    marks = ",".join("?" * len(excluding))
    exclusion = f" AND fixation_id NOT IN ({marks})" if excluding else ""
    return _one(
        db,
        "SELECT * FROM fixations WHERE status = 'awaiting_review'"
        f"{exclusion} ORDER BY received_at, fixation_id LIMIT 1",
        excluding,
    )


def pending_fixation(db: sqlite_utils.Database, fixation_id: str) -> dict[str, Any]:
    """The fixation, refused unless it still awaits an officer's decision."""
    row = require_fixation(db, fixation_id)
    rules.require_awaiting_review(fixation_id, FixationStatus(row["status"]))
    return row


def reject_fixation(
    db: sqlite_utils.Database, fixation_id: str, decision: Rejection, now: datetime
) -> None:
    pending_fixation(db, fixation_id)
    at = iso(now)
    db.conn.execute(
        "UPDATE fixations SET status = 'rejected', decided_at = ?, decided_by = ?,"
        " reject_reason = ?, decision_note = ?, seconds_spent = ? WHERE fixation_id = ?",
        (at, decision.officer, decision.reason.value, decision.note or None,
         decision.seconds_spent, fixation_id),
    )
    append_entry(
        db,
        recorded_at=at,
        entity_type="fixation",
        entity_id=fixation_id,
        action="rejected",
        actor=f"officer:{decision.officer}",
        payload={
            "status": FixationStatus.REJECTED.value,
            "officer": decision.officer,
            "reason": decision.reason.value,
            "note": decision.note,
            "seconds_spent": decision.seconds_spent,
        },
    )


# --- cases -----------------------------------------------------------------------------------


def case_row(db: sqlite_utils.Database, case_number: str) -> dict[str, Any] | None:
    return _one(db, "SELECT * FROM cases WHERE case_number = ?", (case_number,))


def require_case(db: sqlite_utils.Database, case_number: str) -> dict[str, Any]:
    row = case_row(db, case_number)
    if row is None:
        raise NotFound("case_not_found", Text("There is no case %(case)s.", case=case_number))
    return row


def case_rows(
    db: sqlite_utils.Database,
    *,
    plate: str | None,
    owner_id: str | None,
    owner_name: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Cases by plate, owner and/or part of the owner's name (any case, any alphabet: folded
    on both sides by the connection's ``casefold``), newest resolution first; at most
    ``limit`` of them when given."""
    conditions: list[str] = []
    params: list[str | int] = []
    if plate is not None:
        conditions.append("plate = ?")
        params.append(plate)
    if owner_id is not None:
        conditions.append("owner_id = ?")
        params.append(owner_id)
    if owner_name is not None:
        conditions.append(f"{CASEFOLD_FUNCTION}(owner_name) LIKE ? ESCAPE '{LIKE_ESCAPE}'")
        params.append(contains_pattern(owner_name))
    where = " AND ".join(conditions) or "1"
    bound = ""
    if limit is not None:
        bound = " LIMIT ?"
        params.append(limit)
    return _all(
        db,
        f"SELECT * FROM cases WHERE {where} ORDER BY resolution_at DESC, case_number{bound}",
        params,
    )


def case_state(row: Mapping[str, Any]) -> rules.CaseState:
    return rules.CaseState(
        case_number=row["case_number"],
        status=CaseStatus(row["status"]),
        paid_minor=int(row["paid_minor"]),
        has_debtor=row["owner_id"] is not None,
        voluntary_deadline=parse_iso(row["voluntary_deadline"]),
        limitation_at=parse_iso(row["limitation_at"]),
    )


def _case_entry(
    db: sqlite_utils.Database,
    *,
    case_number: str,
    status: CaseStatus,
    paid_minor: int,
    action: str,
    actor: str,
    at: str,
    **details: Any,
) -> None:
    append_entry(
        db,
        recorded_at=at,
        entity_type="case",
        entity_id=case_number,
        action=action,
        actor=actor,
        payload={"status": status.value, "paid_minor": paid_minor, **details},
    )


def _set_case_status(
    db: sqlite_utils.Database,
    case_number: str,
    *,
    expected: CaseStatus,
    status: CaseStatus,
    paid_minor: int,
    at: str,
) -> None:
    cursor = db.conn.execute(
        "UPDATE cases SET status = ?, paid_minor = ?, updated_at = ?"
        " WHERE case_number = ? AND status = ?",
        (status.value, paid_minor, at, case_number, expected.value),
    )
    if cursor.rowcount != 1:
        raise Conflict(
            "case_changed",
            Text(
                "Case %(case)s changed while it was being updated; look at it again.",
                case=case_number,
            ),
        )


def _next_case_number(db: sqlite_utils.Database, agency_code: str, year: int) -> str:
    (last,) = db.conn.execute(
        "INSERT INTO case_numbers (year, last) VALUES (?, 1)"
        " ON CONFLICT(year) DO UPDATE SET last = last + 1 RETURNING last",
        (year,),
    ).fetchone()
    # Seven digits is the minimum width; a year with more cases widens the number, never wraps.
    return f"{agency_code}-{year}-{int(last):07d}"


@dataclass(frozen=True)
class CaseOwner:
    """The vehicle's registered owner as the case records them: who the case is against and
    where their notices go, in which language (None: the register does not know it)."""

    owner_id: str
    name: str
    phone: str | None
    email: str | None
    language: str | None


@dataclass(frozen=True)
class CaseTerms:
    """What the law makes of a confirmed fixation, worked out by the service from the
    configured legal figures (``core.fines``): the article, the fine and the deadlines."""

    article: str
    part: str
    fine_mrp: int
    mrp_kzt: int
    fine_minor: int
    discount_percent: int
    offence_at: datetime
    deadlines: fines.CaseDeadlines


def open_case(
    db: sqlite_utils.Database,
    fixation: Mapping[str, Any],
    decision: Confirmation,
    owner: CaseOwner | None,
    terms: CaseTerms,
    *,
    agency_code: str,
    now: datetime,
) -> dict[str, Any]:
    """Confirm a fixation and open its case; returns the case row. ``fixation`` is the row
    ``pending_fixation`` read in this transaction. ``owner`` is the register's owner of the
    confirmed plate, None when it has none (the case is still opened, without an owner, and
    cannot go to bailiffs until one is known). The caller queues the owner's notices in the
    same transaction."""
    fixation_id = fixation["fixation_id"]
    plate = decision.plate(fixation["plate_text"])
    deadlines = terms.deadlines
    at = iso(now)

    db.conn.execute(
        "UPDATE fixations SET status = 'confirmed', decided_at = ?, decided_by = ?,"
        " decision_note = ?, seconds_spent = ?, corrected_plate = ?, correction_reason = ?"
        " WHERE fixation_id = ?",
        (at, decision.officer, decision.note, decision.seconds_spent, decision.corrected_plate,
         decision.correction_reason, fixation_id),
    )
    case_number = _next_case_number(db, agency_code, local(now).year)
    case = {
        "case_number": case_number,
        "fixation_id": fixation_id,
        "plate": plate,
        "owner_id": owner.owner_id if owner else None,
        "owner_name": owner.name if owner else None,
        "owner_phone": owner.phone if owner else None,
        "owner_email": owner.email if owner else None,
        "owner_language": owner.language if owner else None,
        "violation": fixation["violation"],
        "article": terms.article,
        "part": terms.part,
        "offence_at": iso(terms.offence_at),
        "mrp_kzt": terms.mrp_kzt,
        "fine_mrp": terms.fine_mrp,
        "fine_minor": terms.fine_minor,
        "discount_percent": terms.discount_percent,
        "resolution_at": at,
        "resolved_by": decision.officer,
        "discount_deadline": iso(deadlines.discount_deadline),
        "entry_into_force": iso(deadlines.entry_into_force),
        "voluntary_deadline": iso(deadlines.voluntary_deadline),
        "limitation_at": iso(deadlines.limitation_at),
        "status": CaseStatus.OPEN.value,
        "paid_minor": 0,
        "updated_at": at,
    }
    columns = ", ".join(case)
    db.conn.execute(
        f"INSERT INTO cases ({columns}) VALUES ({', '.join('?' * len(case))})",
        tuple(case.values()),
    )
    officer = f"officer:{decision.officer}"
    append_entry(
        db,
        recorded_at=at,
        entity_type="fixation",
        entity_id=fixation_id,
        action="confirmed",
        actor=officer,
        payload={
            "status": FixationStatus.CONFIRMED.value,
            "officer": decision.officer,
            "seconds_spent": decision.seconds_spent,
            "corrected_plate": decision.corrected_plate,
            "correction_reason": decision.correction_reason,
            "note": decision.note,
            "case_number": case_number,
        },
    )
    _case_entry(
        db,
        case_number=case_number,
        status=CaseStatus.OPEN,
        paid_minor=0,
        action="opened",
        actor=officer,
        at=at,
        fixation_id=fixation_id,
        plate=plate,
        owner_id=case["owner_id"],
        article=terms.article,
        part=terms.part,
        fine_mrp=terms.fine_mrp,
        mrp_kzt=terms.mrp_kzt,
        fine_minor=terms.fine_minor,
        discounted_minor=fines.discounted_minor(terms.fine_minor, terms.discount_percent),
        offence_at=case["offence_at"],
        resolution_at=at,
        discount_deadline=case["discount_deadline"],
        entry_into_force=case["entry_into_force"],
        voluntary_deadline=case["voluntary_deadline"],
        limitation_at=case["limitation_at"],
    )
    return case


# --- payments --------------------------------------------------------------------------------


def record_payment(
    db: sqlite_utils.Database,
    *,
    payment: Payment,
    message_id: str,
    device_id: str,
    received_at: datetime,
    issuer: Issuer,
) -> str:
    """Store a verified payment, match it to its case and update the case; returns the match
    status. Runs inside the ingest's transaction; the ingest has already made sure that the
    message and the payment id are new."""
    case_number = payment.case_number.strip().upper()
    case = case_row(db, case_number)
    if case is None:
        outcome = rules.apply_payment(None, payment.amount_minor, 0)
    else:
        due = fines.amount_due_minor(
            int(case["fine_minor"]),
            int(case["discount_percent"]),
            parse_iso(case["discount_deadline"]),
            payment.paid_at,
        )
        outcome = rules.apply_payment(case_state(case), payment.amount_minor, due)
    at = iso(received_at)
    payment_id = str(payment.payment_id)
    card, acquirer = payment.card, payment.acquirer
    db.conn.execute(
        "INSERT INTO payments (payment_id, message_id, device_id, case_number, matched_case,"
        " amount_minor, currency, paid_at, received_at, channel, masked_pan, scheme, aid,"
        " approval_code, rrn, stan, due_minor, match_status)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            payment_id, message_id, device_id, payment.case_number,
            None if case is None else case_number, payment.amount_minor, payment.currency,
            iso(payment.paid_at), at, payment.channel.value,
            card.masked_pan if card else None, card.scheme if card else None,
            card.aid if card else None, acquirer.approval_code if acquirer else None,
            acquirer.rrn if acquirer else None, acquirer.stan if acquirer else None,
            outcome.due_minor, outcome.match.value,
        ),
    )
    actor = f"device:{device_id}"
    append_entry(
        db,
        recorded_at=at,
        entity_type="payment",
        entity_id=payment_id,
        action="received",
        actor=actor,
        payload={
            "case_number": payment.case_number,
            "matched_case": None if case is None else case_number,
            "amount_minor": payment.amount_minor,
            "due_minor": outcome.due_minor,
            "paid_at": iso(payment.paid_at),
            "channel": payment.channel.value,
            "match_status": outcome.match.value,
        },
    )
    if case is not None and outcome.changes_case:
        _apply_to_case(
            db, case, outcome, payment_id=payment_id, actor=actor, at=at, issuer=issuer
        )
    return outcome.match.value


def _apply_to_case(
    db: sqlite_utils.Database,
    case: Mapping[str, Any],
    outcome: PaymentOutcome,
    *,
    payment_id: str,
    actor: str,
    at: str,
    issuer: Issuer,
) -> None:
    assert outcome.case_status is not None and outcome.paid_minor is not None
    case_number = case["case_number"]
    _set_case_status(
        db,
        case_number,
        expected=CaseStatus(case["status"]),
        status=outcome.case_status,
        paid_minor=outcome.paid_minor,
        at=at,
    )
    _case_entry(
        db,
        case_number=case_number,
        status=outcome.case_status,
        paid_minor=outcome.paid_minor,
        action="payment_applied",
        actor=actor,
        at=at,
        payment_id=payment_id,
        match_status=outcome.match.value,
    )
    if outcome.recall is not None:
        _recall(
            db, case_number, outcome.recall, paid_minor=outcome.paid_minor, actor=actor, at=at,
            issuer=issuer,
        )


# --- bailiffs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """The agency that issues the cases, as the bailiffs' documents name it and link to them."""

    agency_code: str
    case_link_base_url: str

    def case_url(self, case_number: str) -> str:
        return f"{self.case_link_base_url.rstrip('/')}/{case_number}"


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
    db: sqlite_utils.Database,
    *,
    case_number: str,
    document: dict[str, Any],
    amount_minor: int,
    actor: str,
    at: str,
) -> int:
    text = canonical_json(document).decode("utf-8")
    cursor = db.conn.execute(
        "INSERT INTO bailiff_handovers (case_number, kind, amount_minor, recorded_at, document)"
        " VALUES (?, ?, ?, ?, ?)",
        (case_number, document["kind"], amount_minor, at, text),
    )
    seq = int(cursor.lastrowid or 0)
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


def _recall(
    db: sqlite_utils.Database,
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


def hand_over_overdue(
    db: sqlite_utils.Database, issuer: Issuer, now: datetime, limit: int
) -> list[str]:
    """Hand up to ``limit`` overdue, unpaid cases to bailiffs; returns their numbers."""
    at = iso(now)
    candidates = _all(
        db,
        "SELECT * FROM cases WHERE status = 'open' AND voluntary_deadline < ?"
        " AND limitation_at > ? AND paid_minor = 0 AND owner_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM payments WHERE matched_case = cases.case_number)"
        " ORDER BY voluntary_deadline, case_number LIMIT ?",
        (at, at, limit),
    )
    handed: list[str] = []
    for case in candidates:
        status = rules.hand_over(case_state(case), now)
        case_number = case["case_number"]
        _set_case_status(
            db, case_number, expected=CaseStatus.OPEN, status=status, paid_minor=0, at=at
        )
        _case_entry(
            db, case_number=case_number, status=status, paid_minor=0,
            action="sent_to_bailiffs", actor=HANDOVER_ACTOR, at=at,
        )
        document = _handover_document(case, issuer, at)
        _append_bailiff_document(
            db, case_number=case_number, document=document,
            amount_minor=document["amount_minor"], actor=HANDOVER_ACTOR, at=at,
        )
        handed.append(case_number)
    return handed


def bailiff_feed(db: sqlite_utils.Database, after_seq: int, limit: int) -> list[dict[str, Any]]:
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


# --- limitation ------------------------------------------------------------------------------

_UNEXECUTED = tuple(status.value for status in CaseStatus if status.unexecuted)
_UNEXECUTED_MARKS = ",".join("?" * len(_UNEXECUTED))


def expire_limited(
    db: sqlite_utils.Database, issuer: Issuer, now: datetime, limit: int
) -> list[str]:
    """Expire up to ``limit`` unexecuted cases whose limitation is reached; returns them."""
    at = iso(now)
    candidates = _all(
        db,
        f"SELECT * FROM cases WHERE status IN ({_UNEXECUTED_MARKS}) AND limitation_at <= ?"
        " ORDER BY limitation_at, case_number LIMIT ?",
        (*_UNEXECUTED, at, limit),
    )
    expired: list[str] = []
    for case in candidates:
        state = case_state(case)
        status = rules.expire(state, now)
        _set_case_status(
            db, state.case_number, expected=state.status, status=status,
            paid_minor=state.paid_minor, at=at,
        )
        _case_entry(
            db, case_number=state.case_number, status=status, paid_minor=state.paid_minor,
            action="expired", actor=LIMITATION_ACTOR, at=at,
        )
        reason = rules.recall_reason_on_close(state.status, status)
        if reason is not None:
            _recall(
                db, state.case_number, reason, paid_minor=state.paid_minor,
                actor=LIMITATION_ACTOR, at=at, issuer=issuer,
            )
        expired.append(state.case_number)
    return expired


def limitation_candidates(db: sqlite_utils.Database, until: datetime) -> list[dict[str, Any]]:
    """Unexecuted cases whose limitation falls on or before ``until``, soonest first."""
    return _all(
        db,
        f"SELECT * FROM cases WHERE status IN ({_UNEXECUTED_MARKS}) AND limitation_at <= ?"
        " ORDER BY limitation_at, case_number",
        (*_UNEXECUTED, iso(until)),
    )


# --- cancellations ---------------------------------------------------------------------------

_CANCELLATION_SELECT = (
    "SELECT r.*, c.status AS case_status FROM cancellation_requests r"
    " JOIN cases c ON c.case_number = r.case_number"
)


def cancellation_not_found(request_id: int) -> NotFound:
    return NotFound(
        "cancellation_not_found",
        Text("There is no cancellation request %(request)s.", request=request_id),
    )


def cancellation_row(db: sqlite_utils.Database, request_id: int) -> dict[str, Any] | None:
    return _one(db, f"{_CANCELLATION_SELECT} WHERE r.request_id = ?", (request_id,))


def pending_cancellation_rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return _all(
        db,
        f"{_CANCELLATION_SELECT} WHERE r.status = 'pending' ORDER BY r.requested_at, r.request_id",
        (),
    )


def request_cancellation(
    db: sqlite_utils.Database, case_number: str, officer: str, reason: str, now: datetime
) -> int:
    """Record a request to cancel a case; a second officer decides it. Returns its id."""
    case = require_case(db, case_number)
    text = rules.check_cancellation_request(case_number, CaseStatus(case["status"]), reason)
    pending = db.conn.execute(
        "SELECT request_id FROM cancellation_requests WHERE case_number = ? AND status = 'pending'",
        (case_number,),
    ).fetchone()
    if pending is not None:
        raise Conflict(
            "cancellation_pending",
            Text(
                "Case %(case)s already has cancellation request %(request)s waiting for a"
                " decision.",
                case=case_number,
                request=pending[0],
            ),
        )
    at = iso(now)
    cursor = db.conn.execute(
        "INSERT INTO cancellation_requests (case_number, requested_by, requested_at, reason)"
        " VALUES (?, ?, ?, ?)",
        (case_number, officer, at, text),
    )
    request_id = int(cursor.lastrowid or 0)
    append_entry(
        db,
        recorded_at=at,
        entity_type="cancellation",
        entity_id=str(request_id),
        action="requested",
        actor=f"officer:{officer}",
        payload={
            "status": CancellationStatus.PENDING.value,
            "case_number": case_number,
            "reason": text,
        },
    )
    return request_id


def decide_cancellation(
    db: sqlite_utils.Database,
    request_id: int,
    supervisor: str,
    *,
    approve: bool,
    note: str,
    issuer: Issuer,
    now: datetime,
) -> None:
    request = cancellation_row(db, request_id)
    if request is None:
        raise cancellation_not_found(request_id)
    rules.check_cancellation_decision(
        request_id,
        request_status=CancellationStatus(request["status"]),
        requested_by=request["requested_by"],
        supervisor=supervisor,
    )
    case_number = request["case_number"]
    case_status = CaseStatus(request["case_status"])
    if approve:
        # The case may have been paid or expired since the request was made.
        rules.check_cancellation_request(case_number, case_status, request["reason"])
    decision = CancellationStatus.APPROVED if approve else CancellationStatus.DENIED
    at = iso(now)
    actor = f"officer:{supervisor}"
    db.conn.execute(
        "UPDATE cancellation_requests SET status = ?, decided_by = ?, decided_at = ?,"
        " decision_note = ? WHERE request_id = ?",
        (decision.value, supervisor, at, note.strip() or None, request_id),
    )
    append_entry(
        db,
        recorded_at=at,
        entity_type="cancellation",
        entity_id=str(request_id),
        action=decision.value,
        actor=actor,
        payload={
            "status": decision.value,
            "case_number": case_number,
            "requested_by": request["requested_by"],
            "note": note.strip(),
        },
    )
    if not approve:
        return
    case = require_case(db, case_number)
    paid_minor = int(case["paid_minor"])
    _set_case_status(
        db, case_number, expected=case_status, status=CaseStatus.CANCELLED,
        paid_minor=paid_minor, at=at,
    )
    _case_entry(
        db, case_number=case_number, status=CaseStatus.CANCELLED, paid_minor=paid_minor,
        action="cancelled", actor=actor, at=at, request_id=request_id,
        requested_by=request["requested_by"], reason=request["reason"],
    )
    reason = rules.recall_reason_on_close(case_status, CaseStatus.CANCELLED)
    if reason is not None:
        _recall(db, case_number, reason, paid_minor=paid_minor, actor=actor, at=at, issuer=issuer)

