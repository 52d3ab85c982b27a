"""The driver's case page in the database: its links, and what the page reads about a case.

A link is a random token the driver holds (in a notice, or after looking the case up by number
and plate); the table keeps only its SHA-256, so a copy of the database opens no page. Every
query here is answered from an index: ``case_links`` by its primary key, the case's evidence
by the case's and ``fixation_evidence``'s keys, its history by ``ledger_entity``, its notices
by ``notifications_case`` (schema 6), its payments by ``payments_case``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from central_ingest.store.db import Database
from central_ingest.store.rows import all_rows

LinkPurpose = Literal["notice", "lookup"]


@dataclass(frozen=True, slots=True)
class StoredLink:
    case_number: str
    purpose: LinkPurpose
    expires_at: str


def insert_link(
    db: Database,
    *,
    token_hash: str,
    case_number: str,
    purpose: LinkPurpose,
    created_at: str,
    expires_at: str,
) -> None:
    """Inside the caller's transaction (a notice's link is born with the notice)."""
    db.conn.execute(
        "INSERT INTO case_links (token_hash, case_number, purpose, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (token_hash, case_number, purpose, created_at, expires_at),
    )


def find_link(db: Database, token_hash: str) -> StoredLink | None:
    row = db.conn.execute(
        "SELECT case_number, purpose, expires_at FROM case_links WHERE token_hash = ?",
        (token_hash,),
    ).fetchone()
    if row is None:
        return None
    return StoredLink(str(row[0]), row[1], str(row[2]))


def purge_expired_lookups(db: Database, before: str) -> int:
    """Lookup links that stopped opening their case before ``before``: nothing needs them
    (a notice's link is kept, so that its expiry can be told apart from a mistyped link)."""
    cursor = db.conn.execute(
        "DELETE FROM case_links WHERE expires_at < ? AND purpose = 'lookup'", (before,)
    )
    return int(cursor.rowcount)


def case_plate(db: Database, case_number: str) -> str | None:
    """The plate the case was opened for (after any correction by the officer)."""
    row = db.conn.execute(
        "SELECT plate FROM cases WHERE case_number = ?", (case_number,)
    ).fetchone()
    return None if row is None else str(row[0])


def case_history(db: Database, case_number: str) -> list[dict[str, Any]]:
    """What happened to the case, oldest first: its own ledger entries (opening, payments,
    status changes) and the bailiffs' hand-over or recall, as (seq, recorded_at, entity_type,
    action, payload)."""
    return all_rows(
        db,
        "SELECT seq, recorded_at, entity_type, action, payload FROM ledger"
        " WHERE (entity_type = 'case' AND entity_id = ?)"
        " OR (entity_type = 'bailiff' AND entity_id = ?) ORDER BY seq",
        (case_number, case_number),
    )


def case_payments(db: Database, case_number: str) -> list[dict[str, Any]]:
    """The payments matched to the case (amount, when, how), oldest first; no card data. A
    payment made in a bank or through eGov counts too, once, whatever its reconciliation."""
    return all_rows(
        db,
        "SELECT amount_minor, paid_at, channel FROM payments WHERE matched_case = ?"
        " UNION ALL SELECT amount_minor, paid_at, channel FROM inbound_payments"
        " WHERE matched_case = ? ORDER BY paid_at",
        (case_number, case_number),
    )


def case_image(db: Database, case_number: str, sha256: str) -> str | None:
    """The role of image ``sha256`` if it is evidence of this case's fixation, else None: the
    page serves only its own case's photos, whatever hash is asked for."""
    row = db.conn.execute(
        "SELECT fe.role FROM cases c JOIN fixation_evidence fe ON fe.fixation_id = c.fixation_id"
        " WHERE c.case_number = ? AND fe.sha256 = ?",
        (case_number, sha256),
    ).fetchone()
    return None if row is None else str(row[0])
