"""Payments made elsewhere (banks, eGov): their nonces, the statement files imported, each
payment once with its reconciliation, and the case it changes; one ledger entry per change.
Every function runs inside the caller's write transaction (``Store.transaction``).

A payment is an ``inbound_payments`` row, keyed by its institution and the institution's own
reference, so that the notification and the statement line of one payment count once. Its
facts never change (triggers); only what later reports say of it does (``reported_again``,
``statement_confirmed_at``, ``discrepancy``). A case an inbound payment is matched to is never
handed to bailiffs, whatever became of the payment (triggers, like ``payments``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from central_ingest.core import fines
from central_ingest.core import reconciliation as recon
from central_ingest.core.clock import iso, parse_iso
from central_ingest.store.appeals import appeal_of_case
from central_ingest.store.bailiffs import Issuer
from central_ingest.store.case_reads import case_row, case_state
from central_ingest.store.db import Database
from central_ingest.store.ledger import append_entry
from central_ingest.store.payments import apply_to_case
from central_ingest.store.rows import all_rows, one_row

LEDGER_ENTITY = "inbound_payment"


@dataclass(frozen=True)
class PaymentReport:
    """One institution's report of one payment: a notification's body or a statement line.
    ``payload`` is what it said, verbatim (the notification's JSON, the entry's XML)."""

    institution: str
    reference: str
    channel: str
    source: recon.Source
    case_number: str
    amount_minor: int
    currency: str
    paid_at: datetime
    payload: str
    payload_sha256: str

    @property
    def facts(self) -> recon.ReportedFacts:
        return recon.ReportedFacts(self.case_number, self.amount_minor, self.currency)


def ledger_id(institution: str, reference: str) -> str:
    return f"{institution}:{reference}"


# --- nonces ----------------------------------------------------------------------------------


def nonce_seen(db: Database, institution: str, nonce: str) -> str | None:
    """The body hash a nonce was first used with, or None for a nonce never seen."""
    row = db.conn.execute(
        "SELECT body_sha256 FROM payment_nonces WHERE institution = ? AND nonce = ?",
        (institution, nonce),
    ).fetchone()
    return None if row is None else str(row[0])


def keep_nonce(
    db: Database, institution: str, nonce: str, body_sha256: str, now: datetime, window: timedelta
) -> None:
    """Remember a nonce; nonces older than twice the replay window go, since a request signed
    that long ago is refused by its timestamp anyway."""
    db.conn.execute("DELETE FROM payment_nonces WHERE seen_at < ?", (iso(now - 2 * window),))
    db.conn.execute(
        "INSERT INTO payment_nonces (institution, nonce, body_sha256, seen_at) VALUES (?, ?, ?, ?)",
        (institution, nonce, body_sha256, iso(now)),
    )


# --- payments --------------------------------------------------------------------------------


def inbound_payment(db: Database, institution: str, reference: str) -> dict[str, Any] | None:
    return one_row(
        db,
        "SELECT * FROM inbound_payments WHERE institution = ? AND reference = ?",
        (institution, reference),
    )


def record_inbound(
    db: Database,
    report: PaymentReport,
    *,
    received_at: datetime,
    statement_id: int | None,
    actor: str,
    issuer: Issuer,
) -> dict[str, Any]:
    """Reconcile a payment reported for the first time, store it and apply it to its case;
    returns its row. The caller has made sure that the reference is new. A case under appeal
    keeps the payment aside (flagged) until the appeal is decided: the decision says whether
    anything is owed."""
    case_number = report.case_number.strip().upper()
    case = case_row(db, case_number)
    if case is None:
        result = recon.reconcile(None, report.amount_minor, 0)
    else:
        due = fines.amount_due_minor(
            int(case["fine_minor"]),
            int(case["discount_percent"]),
            parse_iso(case["discount_deadline"]),
            report.paid_at,
        )
        appeal = appeal_of_case(db, case_number)
        result = recon.reconcile(
            case_state(case),
            report.amount_minor,
            due,
            under_appeal=appeal is not None and appeal["status"] == "open",
        )
    at = iso(received_at)
    matched = None if case is None else case_number
    db.conn.execute(
        "INSERT INTO inbound_payments (institution, reference, channel, source, statement_id,"
        " case_number, matched_case, amount_minor, currency, paid_at, received_at, due_minor,"
        " outcome, refund_minor, payload_sha256, payload, reported_again,"
        " statement_confirmed_at, discrepancy)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, NULL)",
        (
            report.institution,
            report.reference,
            report.channel,
            report.source.value,
            statement_id,
            report.case_number,
            matched,
            report.amount_minor,
            report.currency,
            iso(report.paid_at),
            at,
            result.due_minor,
            result.outcome.value,
            result.refund_minor,
            report.payload_sha256,
            report.payload,
            at if report.source is recon.Source.STATEMENT else None,
        ),
    )
    entity_id = ledger_id(report.institution, report.reference)
    append_entry(
        db,
        recorded_at=at,
        entity_type=LEDGER_ENTITY,
        entity_id=entity_id,
        action="received",
        actor=actor,
        payload={
            "institution": report.institution,
            "reference": report.reference,
            "channel": report.channel,
            "source": report.source.value,
            "case_number": report.case_number,
            "matched_case": matched,
            "amount_minor": report.amount_minor,
            "paid_at": iso(report.paid_at),
            "due_minor": result.due_minor,
            "outcome": result.outcome.value,
            "refund_minor": result.refund_minor,
            "payload_sha256": report.payload_sha256,
        },
    )
    change = result.case_change
    if case is not None and change is not None and change.case_status is not None:
        apply_to_case(
            db, case, change, actor=actor, at=at, issuer=issuer, inbound_payment=entity_id
        )
    row = inbound_payment(db, report.institution, report.reference)
    assert row is not None
    return row


def note_reported_again(
    db: Database,
    first: Mapping[str, Any],
    report: PaymentReport,
    *,
    received_at: datetime,
    actor: str,
) -> list[str]:
    """A later report of a payment already recorded: counted, the statement's confirmation
    noted, and any fact it disagrees on flagged for a supervisor; the payment itself and its
    case stay as they are (it counts once). Returns the facts that disagree."""
    stored = recon.ReportedFacts(
        str(first["case_number"]), int(first["amount_minor"]), str(first["currency"])
    )
    differing = recon.discrepancy(stored, report.facts)
    at = iso(received_at)
    confirmed = first["statement_confirmed_at"]
    if confirmed is None and report.source is recon.Source.STATEMENT and not differing:
        confirmed = at
    flagged = first["discrepancy"]
    if differing and flagged is None:
        flagged = json.dumps(
            {
                "source": report.source.value,
                "differs": differing,
                "case_number": report.case_number,
                "amount_minor": report.amount_minor,
                "currency": report.currency,
                "payload_sha256": report.payload_sha256,
            },
            sort_keys=True,
            ensure_ascii=False,
        )
    db.conn.execute(
        "UPDATE inbound_payments SET reported_again = reported_again + 1,"
        " statement_confirmed_at = ?, discrepancy = ? WHERE inbound_id = ?",
        (confirmed, flagged, first["inbound_id"]),
    )
    append_entry(
        db,
        recorded_at=at,
        entity_type=LEDGER_ENTITY,
        entity_id=ledger_id(report.institution, report.reference),
        action="reported_again",
        actor=actor,
        payload={
            "source": report.source.value,
            "payload_sha256": report.payload_sha256,
            "differs": differing,
        },
    )
    return differing


# --- statements ------------------------------------------------------------------------------


def statement_row(db: Database, institution: str, message_id: str) -> dict[str, Any] | None:
    return one_row(
        db,
        "SELECT * FROM payment_statements WHERE institution = ? AND message_id = ?",
        (institution, message_id),
    )


def add_statement(
    db: Database,
    *,
    institution: str,
    message_id: str,
    file_sha256: str,
    imported_at: datetime,
    imported_by: str,
    entries: int,
    new_payments: int,
    duplicates: int,
) -> int:
    """Record a statement file being imported, before its lines, which name it; the caller
    counts its new payments and duplicates first, in the same transaction."""
    at = iso(imported_at)
    statement_id = int(
        db.conn.execute(
            "INSERT INTO payment_statements (institution, message_id, file_sha256, imported_at,"
            " imported_by, entries, new_payments, duplicates) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING statement_id",
            (
                institution,
                message_id,
                file_sha256,
                at,
                imported_by,
                entries,
                new_payments,
                duplicates,
            ),
        ).fetchone()[0]
    )
    append_entry(
        db,
        recorded_at=at,
        entity_type="payment_statement",
        entity_id=ledger_id(institution, message_id),
        action="imported",
        actor=imported_by,
        payload={
            "statement_id": statement_id,
            "file_sha256": file_sha256,
            "entries": entries,
            "new_payments": new_payments,
            "duplicates": duplicates,
        },
    )
    return statement_id


# --- supervisors' lists ----------------------------------------------------------------------

_FLAGGED = ", ".join(f"'{outcome.value}'" for outcome in sorted(recon.FLAGGED))
_LIST_COLUMNS = (
    "inbound_id, institution, reference, channel, source, case_number, matched_case,"
    " amount_minor, currency, paid_at, received_at, due_minor, outcome, refund_minor,"
    " reported_again, statement_confirmed_at, discrepancy"
)


def exception_rows(db: Database, limit: int) -> list[dict[str, Any]]:
    """Payments a supervisor must look at: every outcome but a clean match, and any payment a
    later report contradicted; newest first."""
    return all_rows(
        db,
        f"SELECT {_LIST_COLUMNS} FROM inbound_payments"
        f" WHERE outcome IN ({_FLAGGED}) OR discrepancy IS NOT NULL"
        " ORDER BY received_at DESC, inbound_id DESC LIMIT ?",
        (limit,),
    )


def refund_rows(db: Database, limit: int) -> list[dict[str, Any]]:
    """Payments with money to give back (an overpayment, a payment for a closed or cancelled
    case), newest first."""
    return all_rows(
        db,
        f"SELECT {_LIST_COLUMNS} FROM inbound_payments WHERE refund_minor > 0"
        " ORDER BY received_at DESC, inbound_id DESC LIMIT ?",
        (limit,),
    )
