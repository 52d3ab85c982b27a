"""A vehicle's history in the registry, for the reviewer: earlier fixations of the plate and the
cases opened against it. Both look-ups use the plate indexes."""

from __future__ import annotations

from dataclasses import dataclass

from central_ingest.store.db import Store


@dataclass(frozen=True)
class EarlierFixation:
    fixation_id: str
    captured_at: str
    device_id: str
    violation: str
    status: str
    reject_reason: str | None


@dataclass(frozen=True)
class EarlierCase:
    case_number: str
    offence_at: str
    violation: str
    status: str
    fine_minor: int
    paid_minor: int


@dataclass(frozen=True)
class PlateHistory:
    plate: str
    fixations: list[EarlierFixation]
    cases: list[EarlierCase]
    fixations_total: int
    cases_total: int


def plate_history(store: Store, plate: str, *, leave_out: str, limit: int) -> PlateHistory:
    """What the registry knows about ``plate``, newest first, without the fixation
    ``leave_out`` (the one on screen) and its own case."""
    conn = store.db.conn
    fixations = [
        EarlierFixation(*row)
        for row in conn.execute(
            "SELECT fixation_id, captured_at, device_id, violation, status, reject_reason"
            " FROM fixations WHERE plate_text = ? AND fixation_id != ?"
            " ORDER BY captured_at DESC LIMIT ?",
            (plate, leave_out, limit),
        )
    ]
    cases = [
        EarlierCase(*row)
        for row in conn.execute(
            "SELECT case_number, offence_at, violation, status, fine_minor, paid_minor"
            # A roadside case has no fixation: it is an earlier case all the same.
            " FROM cases WHERE plate = ? AND (fixation_id IS NULL OR fixation_id != ?)"
            " ORDER BY offence_at DESC LIMIT ?",
            (plate, leave_out, limit),
        )
    ]
    (fixations_total,) = conn.execute(
        "SELECT count(*) FROM fixations WHERE plate_text = ? AND fixation_id != ?",
        (plate, leave_out),
    ).fetchone()
    (cases_total,) = conn.execute(
        "SELECT count(*) FROM cases WHERE plate = ? AND (fixation_id IS NULL OR fixation_id != ?)",
        (plate, leave_out),
    ).fetchone()
    return PlateHistory(plate, fixations, cases, int(fixations_total), int(cases_total))
