"""Confirming a fixation and opening its case, with the case's number.

``open_case`` runs inside the caller's write transaction (``Store.transaction``): the fixation's
confirmation, the case row and their two ledger entries are written together, and the caller
queues the owner's notices in that same transaction. What the law makes of the fixation (the
article, the fine, the deadlines) arrives worked out in ``CaseTerms``; this module only records
it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from central_ingest.core import fines
from central_ingest.core.cases import CaseStatus, Confirmation, FixationStatus
from central_ingest.core.clock import iso, local
from central_ingest.store.case_status import case_entry
from central_ingest.store.db import Database
from central_ingest.store.ledger import append_entry


def _next_case_number(db: Database, agency_code: str, year: int) -> str:
    (last,) = db.conn.execute(
        "INSERT INTO case_numbers (year, last) VALUES (?, 1)"
        " ON CONFLICT(year) DO UPDATE SET last = case_numbers.last + 1 RETURNING last",
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
    db: Database,
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
        (
            at,
            decision.officer,
            decision.note,
            decision.seconds_spent,
            decision.corrected_plate,
            decision.correction_reason,
            fixation_id,
        ),
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
    case_entry(
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
        discount_percent=terms.discount_percent,
        resolved_by=decision.officer,
        discounted_minor=fines.discounted_minor(terms.fine_minor, terms.discount_percent),
        offence_at=case["offence_at"],
        resolution_at=at,
        discount_deadline=case["discount_deadline"],
        entry_into_force=case["entry_into_force"],
        voluntary_deadline=case["voluntary_deadline"],
        limitation_at=case["limitation_at"],
    )
    return case
