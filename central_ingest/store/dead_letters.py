"""The dead-letter table: everything refused, with a precise reason, never silently dropped.

What a row keeps depends on who could have sent it. A refusal from before the signature check
(``signed`` 0) may come from anyone, so it keeps only the digest, the size and the first
``HEAD_BYTES`` of what came, and its claimed ids and sentence cut short: a stranger's junk costs
a few hundred bytes, not the whole message. A refusal after the signature verified (``signed``
1) comes from a registered device: it keeps the whole message (up to the message size limit),
which is what an engineer needs to see why the device's message was refused.

Retention deletes rows older than a number of days; the size budget drops the oldest unsigned
rows first, and signed rows only when unsigned ones alone cannot bring the table under it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from central_ingest.store.db import Database

PAYLOAD_LIMIT = 64 * 1024
"""The most a signed refusal keeps: the registry's message size limit (max_message_bytes)."""

HEAD_BYTES = 256
"""The first bytes kept of an unsigned refusal: enough to recognise what it was."""

# Claimed ids and the sentence of an unsigned refusal are the sender's words (a schema error
# may quote its input): cut, so that they cannot grow the row.
_ID_LIMIT = 64
_TOPIC_LIMIT = 128
_DETAIL_LIMIT = 160

INSERT_DEAD_LETTER = (
    "INSERT INTO dead_letters (received_at, channel, topic, device_id, message_id, reason,"
    " detail, retryable, payload, source, payload_sha256, payload_size, signed)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# What a row costs on disk, for the budget: every variable column plus a fixed allowance for
# the row's header, its id, its index entry and the time stamp.
_ROW_BYTES = (
    "length(payload) + length(detail) + coalesce(length(topic), 0)"
    " + coalesce(length(device_id), 0) + coalesce(length(message_id), 0)"
    " + coalesce(length(source), 0) + coalesce(length(payload_sha256), 0) + 96"
)


def _cut(text: str | None, limit: int) -> str | None:
    return None if text is None else text[:limit]


def dead_letter_row(
    *,
    received_at: str,
    channel: str,
    reason: str,
    detail: str,
    payload: bytes,
    signed: bool,
    retryable: bool = False,
    topic: str | None = None,
    device_id: str | None = None,
    message_id: str | None = None,
    source: str | None = None,
) -> tuple[object, ...]:
    """The values of one row, in ``INSERT_DEAD_LETTER``'s order, cut as the module says."""
    if signed:
        kept, limit = payload[:PAYLOAD_LIMIT], None
    else:
        kept, limit = payload[:HEAD_BYTES], _DETAIL_LIMIT
    return (
        received_at,
        channel,
        _cut(topic, _TOPIC_LIMIT),
        _cut(device_id, _ID_LIMIT),
        _cut(message_id, _ID_LIMIT),
        reason,
        detail if limit is None else detail[:limit],
        int(retryable),
        kept,
        _cut(source, _ID_LIMIT * 2),
        hashlib.sha256(payload).hexdigest(),
        len(payload),
        int(signed),
    )


def record_dead_letter(
    db: Database,
    *,
    received_at: str,
    channel: str,
    reason: str,
    detail: str,
    payload: bytes,
    retryable: bool = False,
    topic: str | None = None,
    device_id: str | None = None,
    message_id: str | None = None,
    source: str | None = None,
    signed: bool = False,
) -> None:
    db.conn.execute(
        INSERT_DEAD_LETTER,
        dead_letter_row(
            received_at=received_at,
            channel=channel,
            reason=reason,
            detail=detail,
            payload=payload,
            signed=signed,
            retryable=retryable,
            topic=topic,
            device_id=device_id,
            message_id=message_id,
            source=source,
        ),
    )


def dead_letter_counts(db: Database) -> dict[str, int]:
    rows = db.conn.execute("SELECT reason, count(*) FROM dead_letters GROUP BY reason").fetchall()
    return {reason: count for reason, count in rows}


def dead_letter_sources(db: Database, limit: int = 20) -> list[dict[str, Any]]:
    """Refusals counted per source (HTTP client address, or MQTT region and topic device id),
    the most frequent first: who is sending what the registry refuses."""
    cursor = db.conn.execute(
        "SELECT coalesce(source, ''), count(*), count(*) FILTER (WHERE signed != 0),"
        " min(received_at), max(received_at) FROM dead_letters GROUP BY source"
        # Coalesced in the order too: SQLite sorts NULL first, PostgreSQL last.
        " ORDER BY count(*) DESC, coalesce(source, '') LIMIT ?",
        (limit,),
    )
    keys = ("source", "count", "signed", "first_received_at", "last_received_at")
    return [dict(zip(keys, row, strict=True)) for row in cursor]


def dead_letter_bytes(db: Database) -> int:
    """What the dead letters take on disk, as the budget counts it (payloads, texts and a
    fixed allowance per row). ``length`` of a blob reads no overflow pages."""
    query = f"SELECT coalesce(sum({_ROW_BYTES}), 0) FROM dead_letters"
    (total,) = db.conn.execute(query).fetchone()
    return int(total)


@dataclass(frozen=True)
class Trimmed:
    """What one retention run did."""

    expired: int
    """Rows older than the retention period, deleted."""
    dropped_unsigned: int
    """Unsigned rows dropped, oldest first, to come under the budget."""
    dropped_signed: int
    """Signed rows dropped, oldest first, when unsigned ones alone were not enough."""
    bytes_before: int
    """The table's size before the size budget was applied (after retention)."""
    bytes_after: int


def delete_older_than(db: Database, cutoff: str) -> int:
    """Delete the rows received before ``cutoff`` (ISO 8601, as written); returns how many."""
    return db.conn.execute("DELETE FROM dead_letters WHERE received_at < ?", (cutoff,)).rowcount


def drop_oldest(db: Database, *, signed: bool, excess: int) -> tuple[int, int]:
    """Delete the oldest rows of one kind until they add up to ``excess`` bytes or none is
    left; returns (rows deleted, bytes freed)."""
    rows = db.conn.execute(
        f"SELECT dead_letter_id, {_ROW_BYTES} FROM dead_letters WHERE signed = ?"
        " ORDER BY dead_letter_id",
        (int(signed),),
    )
    last_id, freed, count = None, 0, 0
    for dead_letter_id, size in rows:
        if freed >= excess:
            break
        last_id, freed, count = dead_letter_id, freed + int(size), count + 1
    rows.close()
    if last_id is None:
        return 0, 0
    db.conn.execute(
        "DELETE FROM dead_letters WHERE signed = ? AND dead_letter_id <= ?", (int(signed), last_id)
    )
    return count, freed
