"""The verifier's check of the records that stand beside the cases: appeals, payments made in
banks and through eGov and the statements that bring them, roadside protocols and the blocks of
numbers they are drawn up under. Each row is recomputed from the ledger entries
that wrote it and compared field by field, like fixations and cases (``verify_state``): an
appeal's decision, an amended fine, a bank's amount or a protocol's article edited behind the
service's back is named with its table, row and field.

What each entry records (store/appeals.py, store/inbound_payments.py, store/roadside.py):

- an appeal is the case's: "appeal_filed" (its id, due date, the hash of the driver's text, the
  attachments' hashes, types and sizes; the channel in its actor, its filing time as the entry's
  time) and "appeal_decided" (decision, who decided as what, the court's reference, an amended
  article, part and fine; the decider in its actor, the decision's time as the entry's);
- a payment made elsewhere is "inbound_payment" institution:reference: "received" records
  every fact of the report and its reconciliation, "reported_again" each repeat;
- a bank's statement file is "payment_statement" institution:message_id: "imported" records
  its hash and counts, who imported it (its actor) and when (the entry's time);
- a roadside protocol is "roadside_protocol" protocol_id: "received" records what the officer
  signed, its terminal in its actor and its arrival as the entry's time; a block of protocol
  numbers is "protocol_block" block_id: "issued" records its terminal, prefix and range.

Fields an entry lacks are not compared (nothing older than these entries exists).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from central_ingest.audit.recorded import Recorded, _payload
from central_ingest.audit.report import AuditReport
from central_ingest.audit.verify_state import _compare, _grouped, _merged
from central_ingest.store.audit import AuditTables
from i18n import Text

TimedEntry = tuple[Any, Any, Any, Any, Any]
"""(seq, action, actor, payload as stored, recorded_at) of one ledger entry."""

APPEAL_FIELDS = (
    "appeal_id",
    "filed_at",
    "due_at",
    "channel",
    "text",
    "status",
    "decided_at",
    "decided_by",
    "decided_as",
    "court_reference",
    "decision",
    "amended_article",
    "amended_part",
    "amended_fine_minor",
)
APPEAL_ACTIONS = ("appeal_filed", "appeal_decided")
TEXT_HASH = "sha256(text)"
"""The pseudo-field of an appeal's text: the ledger fixes the driver's words by their hash."""
ATTACHMENTS = "attachments"
"""The pseudo-field of an appeal's files: "sha256:type:size" in position order, comma-joined."""
_DECISION_FIELDS = ("decided_as", "court_reference", "decision")
_AMENDED = (("article", "amended_article"), ("part", "amended_part"))

INBOUND_KEY = "institution || ':' || reference"
"""An inbound payment's ledger id (store/inbound_payments.py ledger_id)."""
INBOUND_FIELDS = (
    "institution",
    "reference",
    "channel",
    "source",
    "case_number",
    "matched_case",
    "amount_minor",
    "paid_at",
    "received_at",
    "due_minor",
    "outcome",
    "refund_minor",
    "payload_sha256",
    "payload",
    "reported_again",
)
PAYLOAD_HASH = "sha256(payload)"
"""The pseudo-field of a payment's report as received: its hash must be the recorded one."""
_INBOUND_RECEIVED = tuple(
    name for name in INBOUND_FIELDS if name not in ("received_at", "payload", "reported_again")
)

PROTOCOL_FIELDS = (
    "protocol_number",
    "case_number",
    "device_id",
    "officer",
    "officer_iin",
    "certificate_serial",
    "outcome",
    "article",
    "part",
    "amount_minor",
    "drawn_up_at",
    "driver_signature",
    "place_manual",
    "received_at",
)
_PROTOCOL_RECEIVED = (
    "protocol_number",
    "officer",
    "officer_iin",
    "certificate_serial",
    "outcome",
    "article",
    "part",
    "amount_minor",
    "drawn_up_at",
    "driver_signature",
)
STATEMENT_KEY = "institution || ':' || message_id"
"""A bank statement's ledger id (store/inbound_payments.py ledger_id)."""
STATEMENT_FIELDS = (
    "statement_id",
    "file_sha256",
    "imported_at",
    "imported_by",
    "entries",
    "new_payments",
    "duplicates",
)
_STATEMENT_IMPORTED = ("statement_id", "file_sha256", "entries", "new_payments", "duplicates")

BLOCK_KEY = "CAST(block_id AS TEXT)"
"""A block of protocol numbers' ledger id: its id as text, ordered as the ledger's are."""
BLOCK_FIELDS = ("device_id", "prefix", "first_number", "last_number", "issued_at")
_BLOCK_ISSUED = (
    ("device_id", "device_id"),
    ("prefix", "prefix"),
    ("first", "first_number"),
    ("last", "last_number"),
)
_DEVICE_ACTOR = "device:"
_DRIVER_ACTOR = "driver:"


def _sha256(text: object) -> object:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if isinstance(text, str) else text


def _attachments_value(items: Iterable[tuple[Any, Any, Any]]) -> str:
    return ",".join(f"{sha}:{kind}:{size}" for sha, kind, size in items)


# --- what the entries record ------------------------------------------------------------------


def _fold(entries: Iterable[TimedEntry], apply: Callable[..., None]) -> Recorded:
    recorded = Recorded()
    for seq, action, actor, text, at in entries:
        payload = _payload(text)
        if payload is None:
            # The ledger check reports the entry; what it recorded is unknown.
            recorded.values.clear()
            recorded.seqs.clear()
            continue
        apply(recorded, int(seq), str(action), str(actor), payload, at)
    return recorded


def _take_from(
    recorded: Recorded, seq: int, payload: dict[str, Any], pairs: Iterable[tuple[str, str]]
) -> None:
    for key, column in pairs:
        if key in payload:
            recorded.take(column, payload[key], seq)
        else:
            recorded.forget(column)


def _apply_appeal(
    recorded: Recorded, seq: int, action: str, actor: str, payload: dict[str, Any], at: object
) -> None:
    if action == "appeal_filed":
        _take_from(recorded, seq, payload, (("appeal_id", "appeal_id"), ("due_at", "due_at")))
        _take_from(recorded, seq, payload, (("text_sha256", TEXT_HASH),))
        recorded.take("filed_at", at, seq)
        recorded.take("status", "open", seq)
        if actor.startswith(_DRIVER_ACTOR):
            recorded.take("channel", actor.removeprefix(_DRIVER_ACTOR), seq)
        files = payload.get("attachments")
        if isinstance(files, list):
            recorded.take(
                ATTACHMENTS,
                _attachments_value(
                    (item.get("sha256"), item.get("content_type"), item.get("size"))
                    for item in files
                    if isinstance(item, dict)
                ),
                seq,
            )
        for column in ("decided_at", "decided_by", *_DECISION_FIELDS):
            recorded.take(column, None, seq)
        for _key, column in (*_AMENDED, ("fine_minor", "amended_fine_minor")):
            recorded.take(column, None, seq)
    elif action == "appeal_decided":
        recorded.take("status", "decided", seq)
        recorded.take("decided_at", at, seq)
        recorded.take("decided_by", actor, seq)
        _take_from(recorded, seq, payload, ((name, name) for name in _DECISION_FIELDS))
        amended = payload.get("amended_to")
        terms = amended if isinstance(amended, dict) else {}
        for key, column in (*_AMENDED, ("fine_minor", "amended_fine_minor")):
            recorded.take(column, terms.get(key), seq)


def _apply_inbound(
    recorded: Recorded, seq: int, action: str, actor: str, payload: dict[str, Any], at: object
) -> None:
    if action == "received":
        _take_from(recorded, seq, payload, ((name, name) for name in _INBOUND_RECEIVED))
        if isinstance(payload.get("payload_sha256"), str):
            recorded.take(PAYLOAD_HASH, payload["payload_sha256"], seq)
        recorded.take("received_at", at, seq)
        recorded.take("reported_again", 0, seq)
    elif action == "reported_again":
        count = recorded.values.get("reported_again")
        if isinstance(count, int):
            recorded.take("reported_again", count + 1, seq)


def _apply_protocol(
    recorded: Recorded, seq: int, action: str, actor: str, payload: dict[str, Any], at: object
) -> None:
    if action != "received":
        return
    _take_from(recorded, seq, payload, ((name, name) for name in _PROTOCOL_RECEIVED))
    # The protocol's number is its case's (a CHECK in the schema, repeated here).
    if "protocol_number" in payload:
        recorded.take("case_number", payload["protocol_number"], seq)
    if "place_manual" in payload:
        recorded.take("place_manual", int(bool(payload["place_manual"])), seq)
    if actor.startswith(_DEVICE_ACTOR):
        recorded.take("device_id", actor.removeprefix(_DEVICE_ACTOR), seq)
    recorded.take("received_at", at, seq)


def _apply_statement(
    recorded: Recorded, seq: int, action: str, actor: str, payload: dict[str, Any], at: object
) -> None:
    if action == "imported":
        _take_from(recorded, seq, payload, ((name, name) for name in _STATEMENT_IMPORTED))
        recorded.take("imported_at", at, seq)
        recorded.take("imported_by", actor, seq)


def _apply_block(
    recorded: Recorded, seq: int, action: str, actor: str, payload: dict[str, Any], at: object
) -> None:
    if action == "issued":
        _take_from(recorded, seq, payload, _BLOCK_ISSUED)
        recorded.take("issued_at", at, seq)


# --- the check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    table: str
    key: str
    columns: tuple[str, ...]
    entity_type: str
    actions: tuple[str, ...]
    apply: Callable[..., None]


_KINDS = (
    _Kind("appeals", "case_number", APPEAL_FIELDS, "case", APPEAL_ACTIONS, _apply_appeal),
    _Kind("inbound_payments", INBOUND_KEY, INBOUND_FIELDS, "inbound_payment", (), _apply_inbound),
    _Kind(
        "payment_statements",
        STATEMENT_KEY,
        STATEMENT_FIELDS,
        "payment_statement",
        (),
        _apply_statement,
    ),
    _Kind("protocol_number_blocks", BLOCK_KEY, BLOCK_FIELDS, "protocol_block", (), _apply_block),
    _Kind(
        "roadside_protocols",
        "protocol_id",
        PROTOCOL_FIELDS,
        "roadside_protocol",
        (),
        _apply_protocol,
    ),
)


def check_records(tables: AuditTables, report: AuditReport) -> None:
    """Every appeal, payment made elsewhere, statement, roadside protocol and block of numbers
    against the state its ledger entries give: a row edited, written or deleted behind the
    service's back shows up here."""
    for kind in _KINDS:
        extra: list[Iterator[tuple[str, Any]]] = []
        if kind.table == "appeals":
            extra.append(_grouped(tables.appeal_attachments()))
        for key, (row, entries, *more) in _merged(
            tables.keyed_rows(kind.table, kind.key, kind.columns),
            _grouped(tables.ledger_entries_of(kind.entity_type, kind.actions)),
            *extra,
        ):
            # (records_checked counts fixations and cases, as the progress stage says.)
            if not _present(report, kind.table, key, row, entries):
                continue
            assert row is not None and entries is not None
            stored: dict[str, object] = dict(zip(kind.columns, row[1:], strict=True))
            if kind.table == "appeals":
                stored[TEXT_HASH] = _sha256(stored.pop("text"))
                stored[ATTACHMENTS] = _attachments_value(more[0] or ())
            elif kind.table == "inbound_payments":
                stored[PAYLOAD_HASH] = _sha256(stored.pop("payload"))
            _compare(report, kind.table, key, stored, _fold(entries, kind.apply), None)


def _present(
    report: AuditReport,
    table: str,
    key: str,
    row: tuple[Any, ...] | None,
    entries: list[TimedEntry] | None,
) -> bool:
    """Whether the row and its ledger entries both exist; reports why not."""
    if row is None:
        if entries:
            report.problem(
                Text(
                    "Table %(table)s has no row %(key)s, which the ledger records (seq %(seq)s):"
                    " the row was deleted behind the service's back.",
                    table=table,
                    key=key,
                    seq=entries[0][0],
                )
            )
        return False
    if not entries:
        report.problem(
            Text(
                "Table %(table)s, row %(key)s has no ledger entry at all: it was written behind"
                " the service's back.",
                table=table,
                key=key,
            )
        )
        return False
    return True
