"""Query results as dictionaries keyed by column name, the shape the case lifecycle's modules
hand back to the services (``CaseView.from_row`` and the others read them by name)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from central_ingest.store.db import Database


def one_row(db: Database, sql: str, params: Sequence[Any]) -> dict[str, Any] | None:
    """The first row of the query, or None when it finds nothing."""
    cursor = db.conn.execute(sql, tuple(params))
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip((column[0] for column in cursor.description), row, strict=True))


def all_rows(db: Database, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    cursor = db.conn.execute(sql, tuple(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
