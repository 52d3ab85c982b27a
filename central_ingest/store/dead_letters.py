"""The dead-letter table: everything refused, with a precise reason, never silently dropped."""

from __future__ import annotations

import sqlite_utils

PAYLOAD_LIMIT = 64 * 1024

INSERT_DEAD_LETTER = (
    "INSERT INTO dead_letters (received_at, channel, topic, device_id, message_id, reason,"
    " detail, retryable, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def record_dead_letter(
    db: sqlite_utils.Database,
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
) -> None:
    db.conn.execute(
        INSERT_DEAD_LETTER,
        (
            received_at,
            channel,
            topic,
            device_id,
            message_id,
            reason,
            detail,
            int(retryable),
            payload[:PAYLOAD_LIMIT],
        ),
    )


def dead_letter_counts(db: sqlite_utils.Database) -> dict[str, int]:
    rows = db.conn.execute("SELECT reason, count(*) FROM dead_letters GROUP BY reason").fetchall()
    return {reason: count for reason, count in rows}
