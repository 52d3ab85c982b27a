"""Roadside protocols in the store: the terminals' blocks of numbers, the officers by IIN, and a
protocol written with the case it opens (schema version 8, ``store/roadside_schema.py``).

Everything here runs inside the caller's write transaction: a block is counted off the
agency's one counter and recorded together with its ledger entry; a protocol's message, its
row, its photos, its case and their ledger entries are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from central_ingest.core.cases import CaseStatus
from central_ingest.store.case_status import case_entry
from central_ingest.store.db import Database
from central_ingest.store.errors import translated_errors
from central_ingest.store.ingest import INSERT_MESSAGE
from central_ingest.store.ledger import append_entry

Row = tuple[object, ...]


@dataclass(frozen=True)
class IssuedBlock:
    block_id: int
    first: int
    last: int


def allocate_block(
    db: Database, *, device_id: str, prefix: str, size: int, issued_at: str
) -> IssuedBlock:
    """The next ``size`` numbers of ``prefix``, set aside for ``device_id``. The counter's row
    is locked by the update until the commit (SQLite: the write lock), so two terminals asking
    at once get consecutive blocks, never the same numbers."""
    (last,) = db.conn.execute(
        "INSERT INTO protocol_number_sequence (prefix, last) VALUES (?, ?)"
        " ON CONFLICT(prefix) DO UPDATE SET last = protocol_number_sequence.last + excluded.last"
        " RETURNING last",
        (prefix, size),
    ).fetchone()
    first = int(last) - size + 1
    (block_id,) = db.conn.execute(
        "INSERT INTO protocol_number_blocks (device_id, prefix, first_number, last_number,"
        " issued_at) VALUES (?, ?, ?, ?, ?) RETURNING block_id",
        (device_id, prefix, first, int(last), issued_at),
    ).fetchone()
    append_entry(
        db,
        recorded_at=issued_at,
        entity_type="protocol_block",
        entity_id=str(block_id),
        action="issued",
        actor=f"device:{device_id}",
        payload={"prefix": prefix, "first": first, "last": int(last), "device_id": device_id},
    )
    return IssuedBlock(int(block_id), first, int(last))


def block_containing(db: Database, *, device_id: str, prefix: str, n: int) -> int | None:
    """The block issued to ``device_id`` that holds number ``n`` of ``prefix``, if any."""
    row = db.conn.execute(
        "SELECT block_id FROM protocol_number_blocks WHERE device_id = ? AND prefix = ?"
        " AND first_number <= ? AND last_number >= ?",
        (device_id, prefix, n, n),
    ).fetchone()
    return None if row is None else int(row[0])


@dataclass(frozen=True)
class OfficerRecord:
    username: str
    unit: str | None
    active: bool


def officer_by_iin(db: Database, iin: str) -> OfficerRecord | None:
    row = db.conn.execute(
        "SELECT username, unit, active FROM operators WHERE iin = ?", (iin,)
    ).fetchone()
    return None if row is None else OfficerRecord(str(row[0]), row[1], bool(row[2]))


def set_officer_identity(db: Database, username: str, *, iin: str | None, unit: str | None) -> bool:
    """The operator's IIN (as his signing certificate names it) and unit; False if there is no
    such operator. Another operator's IIN is refused by the unique index (``StoreConflict``)."""
    with translated_errors():
        cursor = db.conn.execute(
            "UPDATE operators SET iin = ?, unit = ? WHERE username = ?", (iin, unit, username)
        )
    return cursor.rowcount == 1


def officer_identity(db: Database, username: str) -> tuple[str | None, str | None] | None:
    row = db.conn.execute(
        "SELECT iin, unit FROM operators WHERE username = ?", (username,)
    ).fetchone()
    return None if row is None else (row[0], row[1])


def operator_holding_iin(db: Database, iin: str) -> str | None:
    row = db.conn.execute("SELECT username FROM operators WHERE iin = ?", (iin,)).fetchone()
    return None if row is None else str(row[0])


def stored_protocol_ids(db: Database, protocol_ids: set[str]) -> set[str]:
    if not protocol_ids:
        return set()
    marks = ", ".join("?" * len(protocol_ids))
    rows = db.conn.execute(
        f"SELECT protocol_id FROM roadside_protocols WHERE protocol_id IN ({marks})",
        tuple(protocol_ids),
    ).fetchall()
    return {str(row[0]) for row in rows}


_PROTOCOL_COLUMNS = (
    "protocol_id",
    "message_id",
    "protocol_number",
    "case_number",
    "block_id",
    "device_id",
    "officer_iin",
    "officer",
    "officer_unit",
    "plate",
    "person_iin",
    "outcome",
    "article",
    "part",
    "amount_minor",
    "lat",
    "lon",
    "address",
    "place_manual",
    "drawn_up_at",
    "driver_signature",
    "driver_signature_sha256",
    "officer_cms",
    "certificate_serial",
    "received_at",
)


def store_protocol(
    db: Database,
    message: Row,
    *,
    protocol: Mapping[str, Any],
    photos: Sequence[str],
    case: Mapping[str, Any],
    case_details: Mapping[str, Any],
) -> None:
    """The protocol's message (a row as ``INSERT_MESSAGE``), its row and photos, its ledger
    entry, then its case (opened, or at once closed as a warning) and the case's entry. The
    case rule (``case_needs_confirmed_fixation``) finds the protocol row written first."""
    at = str(protocol["received_at"])
    with translated_errors():
        db.conn.execute(INSERT_MESSAGE, message)
        db.conn.execute(
            f"INSERT INTO roadside_protocols ({', '.join(_PROTOCOL_COLUMNS)})"
            f" VALUES ({', '.join('?' * len(_PROTOCOL_COLUMNS))})",
            tuple(protocol[column] for column in _PROTOCOL_COLUMNS),
        )
        db.conn.executemany(
            "INSERT INTO roadside_protocol_photos (protocol_id, sha256, position) VALUES (?, ?, ?)",
            [(protocol["protocol_id"], sha, position) for position, sha in enumerate(photos)],
        )
        append_entry(
            db,
            recorded_at=at,
            entity_type="roadside_protocol",
            entity_id=str(protocol["protocol_id"]),
            action="received",
            actor=f"device:{protocol['device_id']}",
            payload={
                "protocol_number": protocol["protocol_number"],
                "officer": protocol["officer"],
                "officer_iin": protocol["officer_iin"],
                "certificate_serial": protocol["certificate_serial"],
                "outcome": protocol["outcome"],
                "article": protocol["article"],
                "part": protocol["part"],
                "amount_minor": protocol["amount_minor"],
                "drawn_up_at": protocol["drawn_up_at"],
                "driver_signature": protocol["driver_signature"],
                "place_manual": bool(protocol["place_manual"]),
                "envelope_sha256": message[5],
            },
        )
        columns = ", ".join(case)
        db.conn.execute(
            f"INSERT INTO cases ({columns}) VALUES ({', '.join('?' * len(case))})",
            tuple(case.values()),
        )
        status = CaseStatus(case["status"])
        case_entry(
            db,
            case_number=str(case["case_number"]),
            status=status,
            paid_minor=0,
            action="opened",
            actor=f"officer:{case['resolved_by']}",
            at=at,
            **case_details,
        )


OFFICER_REPORT_COLUMNS = (
    "officer",
    "unit",
    "protocols",
    "warnings",
    "fines",
    "cancelled",
    "cancelled_by_officer",
    "cancelled_by_unit",
)

# A case cancelled on a request its own officer made or approved counts against the officer;
# one another officer of his unit asked for or approved, against the unit. That is the pattern
# the prosecutor looks for: protocols written, then quietly undone from inside.
_BY_OFFICER = "(r.requested_by = p.officer OR r.decided_by = p.officer)"
_BY_UNIT = (
    "(p.officer_unit IS NOT NULL AND NOT (r.requested_by = p.officer OR r.decided_by = p.officer)"
    " AND (asked.unit = p.officer_unit OR approved.unit = p.officer_unit))"
)
_OFFICER_REPORT = f"""SELECT p.officer, p.officer_unit, count(*),
 sum(CASE WHEN p.outcome = 'warning' THEN 1 ELSE 0 END),
 sum(CASE WHEN p.outcome = 'fine' THEN 1 ELSE 0 END),
 sum(CASE WHEN c.status = 'cancelled' THEN 1 ELSE 0 END),
 sum(CASE WHEN c.status = 'cancelled' AND {_BY_OFFICER} THEN 1 ELSE 0 END),
 sum(CASE WHEN c.status = 'cancelled' AND {_BY_UNIT} THEN 1 ELSE 0 END)
FROM roadside_protocols p
JOIN cases c ON c.case_number = p.case_number
LEFT JOIN cancellation_requests r ON r.case_number = p.case_number AND r.status = 'approved'
LEFT JOIN operators asked ON asked.username = r.requested_by
LEFT JOIN operators approved ON approved.username = r.decided_by
WHERE p.drawn_up_at >= ? AND p.drawn_up_at < ?
GROUP BY p.officer, p.officer_unit"""


def officer_report(db: Database, *, since: str, until: str) -> list[dict[str, Any]]:
    """Per officer (and the unit he wrote in), the protocols drawn up in [since, until)."""
    rows = db.conn.execute(_OFFICER_REPORT, (since, until)).fetchall()
    report = [dict(zip(OFFICER_REPORT_COLUMNS, row, strict=True)) for row in rows]
    for row in report:
        for key in OFFICER_REPORT_COLUMNS[2:]:
            row[key] = int(row[key] or 0)
    report.sort(
        key=lambda row: (
            -(row["cancelled_by_officer"] + row["cancelled_by_unit"]),
            -row["protocols"],
            row["officer"],
        )
    )
    return report


def protocol_of_case(db: Database, case_number: str) -> dict[str, Any] | None:
    """What the console shows of the protocol a roadside case was opened from."""
    row = db.conn.execute(
        "SELECT p.protocol_number, p.officer, o.display_name, p.officer_unit, p.device_id,"
        " p.drawn_up_at, p.outcome, p.driver_signature, p.place_manual, p.address, p.lat, p.lon,"
        " p.certificate_serial, p.received_at"
        " FROM roadside_protocols p JOIN operators o ON o.username = p.officer"
        " WHERE p.case_number = ?",
        (case_number,),
    ).fetchone()
    if row is None:
        return None
    keys = (
        "protocol_number",
        "officer",
        "officer_name",
        "unit",
        "device_id",
        "drawn_up_at",
        "outcome",
        "driver_signature",
        "place_manual",
        "address",
        "lat",
        "lon",
        "certificate_serial",
        "received_at",
    )
    return dict(zip(keys, row, strict=True))
