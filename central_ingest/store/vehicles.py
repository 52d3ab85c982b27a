"""The ``vehicles`` table: the embedded vehicle register (``central_ingest.vehicles``).

Rows are plain mappings with the columns below; the register turns them into
``VehicleRecord`` and normalises plates before they reach this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from central_ingest.store.db import Database

VEHICLE_COLUMNS = (
    "plate",
    "owner_id",
    "owner_kind",
    "owner_name",
    "phone",
    "email",
    "make",
    "model",
    "colour",
    "language",
)

_SELECT_BY_PLATE = f"SELECT {', '.join(VEHICLE_COLUMNS)} FROM vehicles WHERE plate = ?"

_UPSERT = """
INSERT INTO vehicles (plate, owner_id, owner_kind, owner_name, phone, email, make, model, colour,
                      language)
VALUES (:plate, :owner_id, :owner_kind, :owner_name, :phone, :email, :make, :model, :colour,
        :language)
ON CONFLICT(plate) DO UPDATE SET
    owner_id = excluded.owner_id, owner_kind = excluded.owner_kind,
    owner_name = excluded.owner_name, phone = excluded.phone, email = excluded.email,
    make = excluded.make, model = excluded.model, colour = excluded.colour,
    language = excluded.language
"""


def vehicle_by_plate(db: Database, plate: str) -> dict[str, Any] | None:
    """The vehicle registered under ``plate`` (already normalised), keyed by column, or None."""
    row = db.conn.execute(_SELECT_BY_PLATE, (plate,)).fetchone()
    return None if row is None else dict(zip(VEHICLE_COLUMNS, row, strict=True))


def upsert_vehicles(db: Database, vehicles: Iterable[Mapping[str, Any]]) -> None:
    """Insert each vehicle, or replace every column of the one with the same plate; run inside
    the caller's transaction, so that a batch is written all or none."""
    db.conn.executemany(_UPSERT, vehicles)
