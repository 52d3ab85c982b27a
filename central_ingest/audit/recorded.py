"""What the ledger says a fixation's or a case's row must hold: its entries folded in order,
each field taking the value of the last entry that recorded it.

Every field that matters in law has an entry that records it: a fixation's reading and
its device at "received" (the rest of what it measured is in the device-signed envelope,
whose hash that entry records), the officer's decision at "confirmed" or "rejected"; a case's
plate, owner, article, fine and deadlines at "opened", its status and paid amount at every
change. Entries written before a field was added to their payload simply lack it: the field
is then not compared, and the entry is counted as predating full payloads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

FIXATION_FIELDS = (
    "status",
    "plate_text",
    "corrected_plate",
    "violation",
    "speed_kmh",
    "limit_kmh",
    "captured_at",
    "device_id",
    "decided_by",
    "reject_reason",
)
"""The fixation's columns compared (its evidence links are compared as well, see
``EVIDENCE``)."""

EVIDENCE = "evidence"
"""The pseudo-field naming a fixation's evidence links: "role:sha256" sorted, comma-joined."""

CASE_FIELDS = (
    "fixation_id",
    "plate",
    "owner_id",
    "article",
    "part",
    "offence_at",
    "fine_mrp",
    "mrp_kzt",
    "fine_minor",
    "discount_percent",
    "discount_deadline",
    "entry_into_force",
    "voluntary_deadline",
    "limitation_at",
    "status",
    "paid_minor",
    "resolved_by",
)

# (payload key, column) that each fixation action records. What an action leaves empty in the
# row is recorded as empty too: nothing is decided at receipt, a confirmation has no rejection
# reason and a rejection no corrected plate.
_FIXATION_ACTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "received": (
        ("plate", "plate_text"),
        ("violation", "violation"),
        ("captured_at", "captured_at"),
    ),
    "confirmed": (("officer", "decided_by"), ("corrected_plate", "corrected_plate")),
    "rejected": (("officer", "decided_by"), ("reason", "reject_reason")),
}
_FIXATION_CLEARS = {
    "received": ("decided_by", "reject_reason", "corrected_plate"),
    "confirmed": ("reject_reason",),
    "rejected": ("corrected_plate",),
}
_CASE_OPENED = tuple((name, name) for name in CASE_FIELDS if name not in ("status", "paid_minor"))
# What an appeal's decision records (store/appeals.py): the dates an upheld or amended
# resolution runs from again, and an amended one's article, part and fine under "amended_to".
_APPEAL_DECIDED_DATES = ("entry_into_force", "voluntary_deadline", "limitation_at")
_AMENDED_TO = ("article", "part", "fine_mrp", "fine_minor")
_DEVICE_ACTOR = "device:"
_OFFICER_ACTOR = "officer:"


@dataclass
class Recorded:
    """The state the ledger gives one row: each field's value and the seq of the entry that
    recorded it. ``envelope_sha256`` is the hash of the fixation's envelope as received."""

    values: dict[str, object] = field(default_factory=dict)
    seqs: dict[str, int] = field(default_factory=dict)
    envelope_sha256: str | None = None
    entries_before_full_payloads: int = 0

    def take(self, column: str, value: object, seq: int) -> None:
        self.values[column] = value
        self.seqs[column] = seq

    def forget(self, column: str) -> None:
        """An entry that should have recorded the column and predates it: what the column
        held before that entry no longer tells what it holds after, so it is not compared."""
        self.values.pop(column, None)
        self.seqs.pop(column, None)


Entry = tuple[Any, Any, Any, Any]
"""(seq, action, actor, payload as stored) of one ledger entry about the row."""


def _payload(text: object) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _fold(
    entries: Iterable[Entry],
    recorded: Recorded,
    apply: Any,
) -> Recorded:
    for seq, action, actor, text in entries:
        payload = _payload(text)
        if payload is None:
            # The ledger check reports the entry; what it recorded is unknown, and so is
            # every field it may have changed.
            recorded.values.clear()
            recorded.seqs.clear()
            continue
        complete = apply(recorded, int(seq), str(action), str(actor), payload)
        if "status" in payload:
            recorded.take("status", payload["status"], int(seq))
        else:
            recorded.forget("status")
            complete = False
        if not complete:
            recorded.entries_before_full_payloads += 1
    return recorded


def _apply_fixation(
    recorded: Recorded, seq: int, action: str, actor: str, payload: dict[str, Any]
) -> bool:
    complete = True
    for key, column in _FIXATION_ACTIONS.get(action, ()):
        if key in payload:
            recorded.take(column, payload[key], seq)
        else:
            recorded.forget(column)
            complete = False
    for column in _FIXATION_CLEARS.get(action, ()):
        recorded.take(column, None, seq)
    if action == "received":
        if actor.startswith(_DEVICE_ACTOR):
            recorded.take("device_id", actor.removeprefix(_DEVICE_ACTOR), seq)
        sha = payload.get("envelope_sha256")
        if isinstance(sha, str):
            recorded.envelope_sha256 = sha
        else:
            complete = False
    return complete


def _apply_case(
    recorded: Recorded, seq: int, action: str, actor: str, payload: dict[str, Any]
) -> bool:
    complete = "paid_minor" in payload
    if complete:
        recorded.take("paid_minor", payload["paid_minor"], seq)
    else:
        recorded.forget("paid_minor")
    if action == "appeal_decided":
        for column in _APPEAL_DECIDED_DATES:
            if column in payload:
                recorded.take(column, payload[column], seq)
        amended = payload.get("amended_to")
        if isinstance(amended, dict):
            for column in _AMENDED_TO:
                if column in amended:
                    recorded.take(column, amended[column], seq)
        return complete
    if action != "opened":
        return complete
    for key, column in _CASE_OPENED:
        if key in payload:
            recorded.take(column, payload[key], seq)
        elif key == "resolved_by" and actor.startswith(_OFFICER_ACTOR):
            # Entries from before resolved_by joined the payload: the officer who confirmed
            # the fixation opened the case and is its actor, which the entry's hash covers.
            recorded.take(column, actor.removeprefix(_OFFICER_ACTOR), seq)
        else:
            recorded.forget(column)
            complete = False
    return complete


def fixation_recorded(entries: Iterable[Entry]) -> Recorded:
    """The fixation's state from its ledger entries, in seq order."""
    return _fold(entries, Recorded(), _apply_fixation)


def case_recorded(entries: Iterable[Entry]) -> Recorded:
    """The case's state from its ledger entries, in seq order."""
    return _fold(entries, Recorded(), _apply_case)
