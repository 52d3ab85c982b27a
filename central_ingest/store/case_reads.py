"""Cases as rows: one by its number, the search by plate, owner and owner's name, and a row's
state as the rules of ``core.cases`` read it. Readers only: they take any handle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from central_ingest.core import cases as rules
from central_ingest.core.cases import CaseStatus
from central_ingest.core.clock import parse_iso
from central_ingest.core.errors import NotFound
from central_ingest.store.db import CASEFOLD_FUNCTION, LIKE_ESCAPE, Database, contains_pattern
from central_ingest.store.rows import all_rows, one_row
from i18n.text import Text


def case_row(db: Database, case_number: str) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM cases WHERE case_number = ?", (case_number,))


def require_case(db: Database, case_number: str) -> dict[str, Any]:
    row = case_row(db, case_number)
    if row is None:
        raise NotFound("case_not_found", Text("There is no case %(case)s.", case=case_number))
    return row


def case_rows(
    db: Database,
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
    return all_rows(
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
