"""The verifier's check of the state tables: each fixation's and case's row recomputed from its
ledger entries (``recorded``) and, for a fixation's measured facts, from the envelope its device
signed (``envelopes``), field by field.

One pass: the rows, the ledger entries and the evidence links are each read once, sorted by
the row's key (the ledger's entity index gives that order), and merged in Python, so no row
costs a query of its own.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

from central_ingest.audit.envelopes import DeviceKeys, Signed, evidence_value, signed_facts
from central_ingest.audit.recorded import (
    CASE_FIELDS,
    EVIDENCE,
    FIXATION_FIELDS,
    Recorded,
    case_recorded,
    fixation_recorded,
)
from central_ingest.audit.report import STAGE_RECORDS, AuditReport, Progress, ProgressCallback
from central_ingest.store.audit import AuditTables
from i18n import PluralText, Text

_TABLES = {"fixation": "fixations", "case": "cases"}


def check_state(
    tables: AuditTables, report: AuditReport, progress: ProgressCallback | None
) -> None:
    """Every fixation and case against the state its ledger entries (and its envelope) give:
    a row edited without a ledger entry, written without one, or deleted, shows up here."""
    counter = Progress(progress, STAGE_RECORDS, tables.state_record_count())
    keys = DeviceKeys(*tables.device_keys())
    before_full = 0
    for key, (row, entries, links) in _merged(
        tables.state_rows("fixation", FIXATION_FIELDS),
        _grouped(tables.ledger_by_entity("fixation")),
        _grouped(tables.fixation_evidence()),
    ):
        if row is not None:
            counter.step()
            report.records_checked += 1
        recorded = fixation_recorded(entries or ())
        before_full += recorded.entries_before_full_payloads
        _check_fixation(report, key, row, entries is not None, recorded, links or [], keys)
    for key, (row, entries) in _merged(
        tables.state_rows("case", CASE_FIELDS), _grouped(tables.ledger_by_entity("case"))
    ):
        if row is not None:
            counter.step()
            report.records_checked += 1
        recorded = case_recorded(entries or ())
        before_full += recorded.entries_before_full_payloads
        if _present(report, "case", key, row, entries is not None, recorded):
            assert row is not None
            stored = dict(zip(CASE_FIELDS, row[1:], strict=True))
            _compare(report, "case", key, stored, recorded, None)
    counter.finish()
    if keys.from_table:
        report.warnings.append(
            PluralText(
                "%(count)s device's key is not in the ledger (%(devices)s): its envelopes were"
                " checked against the key in the devices table.",
                "%(count)s devices' keys are not in the ledger (%(devices)s): their envelopes were"
                " checked against the keys in the devices table.",
                len(keys.from_table),
                count=len(keys.from_table),
                devices=", ".join(sorted(keys.from_table)),
            )
        )
    if before_full:
        report.warnings.append(
            PluralText(
                "%(count)s ledger entry about fixations and cases predates full payloads: the fields"  # noqa: E501 - a message id, one literal
                " it lacks were not compared with the rows.",
                "%(count)s ledger entries about fixations and cases predate full payloads: the"
                " fields they lack were not compared with the rows.",
                before_full,
                count=before_full,
            )
        )


def _check_fixation(
    report: AuditReport,
    key: str,
    row: tuple[Any, ...] | None,
    has_entries: bool,
    recorded: Recorded,
    links: list[tuple[Any, ...]],
    keys: DeviceKeys,
) -> None:
    if not _present(report, "fixation", key, row, has_entries, recorded):
        return
    assert row is not None
    stored: dict[str, object] = dict(zip(FIXATION_FIELDS, row[1:-1], strict=True))
    stored[EVIDENCE] = evidence_value([(str(role), str(sha)) for role, sha in links])
    signed: Signed | None = None
    if recorded.envelope_sha256 is not None:
        facts = signed_facts(key, row[-1], recorded.envelope_sha256, keys)
        if isinstance(facts, Signed):
            signed = facts
        else:
            report.problem(facts)
    _compare(report, "fixation", key, stored, recorded, signed)


def _present(
    report: AuditReport,
    kind: str,
    key: str,
    row: tuple[Any, ...] | None,
    has_entries: bool,
    recorded: Recorded,
) -> bool:
    """Whether the row and its ledger entries both exist; reports why not. (An entry that
    cannot be read is reported by the ledger check.)"""
    fixation = kind == "fixation"
    if row is None:
        report.problem(
            Text(
                "Fixation %(id)s is in the ledger but has no row in the fixations table: the"
                " row was deleted behind the service's back.",
                id=key,
            )
            if fixation
            else Text(
                "Case %(id)s is in the ledger but has no row in the cases table: the row was"
                " deleted behind the service's back.",
                id=key,
            )
        )
        return False
    if not has_entries:
        report.problem(
            Text(
                "Fixation %(id)s has no ledger entry at all: it was written behind the service's"
                " back.",
                id=key,
            )
            if fixation
            else Text(
                "Case %(id)s has no ledger entry at all: it was written behind the service's back.",
                id=key,
            )
        )
        return False
    return True


def _compare(
    report: AuditReport,
    kind: str,
    key: str,
    stored: dict[str, object],
    recorded: Recorded,
    signed: Signed | None,
) -> None:
    """Each stored field against the ledger's value, or, for what the ledger does not record
    itself, the signed envelope's. Values are shown as stored (codes and integers), for
    comparison with the database itself."""
    table = _TABLES.get(kind, kind)  # the records beside them pass their table's name
    for column, value in stored.items():
        if column in recorded.values:
            expected = recorded.values[column]
            if not _same(value, expected):
                report.problem(
                    Text(
                        "Table %(table)s, row %(key)s: %(field)s is %(stored)s but the ledger says"
                        " %(recorded)s (seq %(seq)s): the row was edited behind the service's back.",  # noqa: E501 - a message id, one literal
                        table=table,
                        key=key,
                        field=column,
                        stored=repr(value),
                        recorded=repr(expected),
                        seq=recorded.seqs[column],
                    )
                )
        elif signed is not None and column in signed.values:
            expected = signed.values[column]
            if not _same(value, expected):
                report.problem(
                    Text(
                        "Table %(table)s, row %(key)s: %(field)s is %(stored)s but the envelope its"
                        " device signed says %(signed)s: the row was edited behind the service's"
                        " back.",
                        table=table,
                        key=key,
                        field=column,
                        stored=repr(value),
                        signed=repr(expected),
                    )
                )


def _same(stored: object, expected: object) -> bool:
    """Equal values, a REAL column's integer-valued float equal to the integer it was sent as
    (SQLite stores 60 in a REAL column as 60.0), but never a number equal to a string."""
    if isinstance(stored, bool) or isinstance(expected, bool):
        return stored is expected
    if isinstance(stored, int | float) and isinstance(expected, int | float):
        return float(stored) == float(expected)
    return type(stored) is type(expected) and stored == expected


Keyed = tuple[str, Any]


def _grouped(rows: Iterable[tuple[Any, ...]]) -> Iterator[Keyed]:
    """Rows sorted by their first column, grouped: (key, [rows without their key])."""
    for key, group in groupby(rows, key=itemgetter(0)):
        yield str(key), [row[1:] for row in group]


def _tagged(stream: Iterable[Keyed], index: int) -> Iterator[tuple[str, int, Any]]:
    return ((key, index, value) for key, value in stream)


def _merged(rows: Iterable[tuple[Any, ...]], *streams: Iterator[Keyed]) -> Iterator[Keyed]:
    """The state rows (sorted by key, unique) merged with streams of (key, value) sorted by
    key: (key, (row or None, value of each stream or None))."""
    tagged = [_tagged(((str(row[0]), row) for row in rows), 0)] + [
        _tagged(stream, index) for index, stream in enumerate(streams, start=1)
    ]
    merged = heapq.merge(*tagged, key=itemgetter(0, 1))
    for key, group in groupby(merged, key=itemgetter(0)):
        found: list[Any] = [None] * (len(streams) + 1)
        for _key, index, value in group:
            found[index] = value
        yield key, tuple(found)
