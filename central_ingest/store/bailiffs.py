"""Hand-over to bailiffs over SQLite: overdue cases handed over, recalls of cases settled or
closed after it, and the numbered feed of those documents that the bailiffs' system polls.

Each document is self-contained (a bailiff needs nothing else to open or stop enforcement),
stored as canonical JSON, and its SHA-256 goes into the ledger. Functions that write run
inside the caller's write transaction (``Store.transaction``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from central_ingest.core import cases as rules
from central_ingest.core.cases import CaseStatus, RecallReason
from central_ingest.core.clock import iso
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


def hand_over_overdue(db: Database, issuer: Issuer, now: datetime, limit: int) -> list[str]:
    """Hand up to ``limit`` overdue, unpaid cases to bailiffs; returns their numbers."""
    at = iso(now)
    candidates = all_rows(
        db,
        "SELECT * FROM cases WHERE status = 'open' AND voluntary_deadline < ?"
        " AND limitation_at > ? AND paid_minor = 0 AND owner_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM payments WHERE matched_case = cases.case_number)"
        # An open appeal suspends the resolution (core/appeals.py; the database refuses too).
        " AND NOT EXISTS (SELECT 1 FROM appeals WHERE appeals.case_number = cases.case_number"
        " AND appeals.status = 'open')"
        # A payment made elsewhere held for the case (its appeal was open): never to bailiffs.
        " AND NOT EXISTS (SELECT 1 FROM inbound_payments"
        " WHERE inbound_payments.matched_case = cases.case_number)"
        " ORDER BY voluntary_deadline, case_number LIMIT ?",
        (at, at, limit),
    )
    handed: list[str] = []
    for case in candidates:
        status = rules.hand_over(case_state(case), now)
        case_number = case["case_number"]
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
        )
        document = _handover_document(case, issuer, at)
        _append_bailiff_document(
            db,
            case_number=case_number,
            document=document,
            amount_minor=document["amount_minor"],
            actor=HANDOVER_ACTOR,
            at=at,
        )
        handed.append(case_number)
    return handed


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
