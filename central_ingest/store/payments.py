"""Payments over SQLite: a verified payment stored, matched to its case, and the case updated
(settled, under- or overpaid), with a recall to the bailiffs when it settles a case already
handed over. Runs inside the ingest's write transaction, one ledger entry per change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from central_ingest.core import cases as rules
from central_ingest.core import fines
from central_ingest.core.cases import CaseStatus, PaymentOutcome
from central_ingest.core.clock import iso, parse_iso
from central_ingest.store.bailiffs import Issuer, recall
from central_ingest.store.case_reads import case_row, case_state
from central_ingest.store.case_status import case_entry, set_case_status
from central_ingest.store.db import Database
from central_ingest.store.ledger import append_entry
from contract import Payment


def record_payment(
    db: Database,
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
            payment_id,
            message_id,
            device_id,
            payment.case_number,
            None if case is None else case_number,
            payment.amount_minor,
            payment.currency,
            iso(payment.paid_at),
            at,
            payment.channel.value,
            card.masked_pan if card else None,
            card.scheme if card else None,
            card.aid if card else None,
            acquirer.approval_code if acquirer else None,
            acquirer.rrn if acquirer else None,
            acquirer.stan if acquirer else None,
            outcome.due_minor,
            outcome.match.value,
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
        apply_to_case(db, case, outcome, actor=actor, at=at, issuer=issuer, payment_id=payment_id)
    return outcome.match.value


def apply_to_case(
    db: Database,
    case: Mapping[str, Any],
    outcome: PaymentOutcome,
    *,
    actor: str,
    at: str,
    issuer: Issuer,
    **payment_ref: str,
) -> None:
    """What a payment does to its case, wherever it was made: the new status and amount, the
    case's ledger entry naming the payment (``payment_ref``: the terminal's ``payment_id`` or a
    bank's ``inbound_payment``), and the recall from the bailiffs when it pays them off."""
    assert outcome.case_status is not None and outcome.paid_minor is not None
    case_number = case["case_number"]
    set_case_status(
        db,
        case_number,
        expected=CaseStatus(case["status"]),
        status=outcome.case_status,
        paid_minor=outcome.paid_minor,
        at=at,
    )
    case_entry(
        db,
        case_number=case_number,
        status=outcome.case_status,
        paid_minor=outcome.paid_minor,
        action="payment_applied",
        actor=actor,
        at=at,
        match_status=outcome.match.value,
        **payment_ref,
    )
    if outcome.recall is not None:
        recall(
            db,
            case_number,
            outcome.recall,
            paid_minor=outcome.paid_minor,
            actor=actor,
            at=at,
            issuer=issuer,
        )


# --- bailiffs --------------------------------------------------------------------------------
