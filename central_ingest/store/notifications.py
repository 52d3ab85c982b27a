"""The notification outbox over SQLite: notices queued inside a case transaction, and the
delivery worker's claims and outcomes.

``insert_notices`` runs inside the caller's write transaction. The worker's operations
(``claim_due``, ``mark_sent``, ``reschedule``, ``mark_failed``) each open their own write
transaction, as the worker did, and run it whole under ``translated_errors``: a database that is
briefly unavailable (write lock not obtained, commit refused) reaches the worker as a
``StoreError`` like any other failure, and the worker pauses and tries again.

The claim is optimistic: claiming pushes a row's ``next_attempt_at`` to the end of a lease, and
that lease instant is the claim token; an outcome is written only if the row is still pending
and still carries that token, so a worker that overran its lease cannot overwrite the attempt
of the worker that took the row over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from central_ingest.store.db import Database, Store
from central_ingest.store.errors import translated_errors

NoticeChannel = Literal["sms", "email"]


@dataclass(frozen=True, slots=True)
class NewNotice:
    """One notice to queue for a case. ``language``: ``kk``, ``ru``, ``en``, or ``kk,ru`` for
    an e-mail holding the Kazakh and the Russian text."""

    case_number: str
    channel: NoticeChannel
    recipient: str
    subject: str | None
    body: str
    language: str


@dataclass(frozen=True, slots=True)
class ClaimedNotice:
    """A notice claimed for one delivery attempt; ``attempt`` counts this one."""

    notification_id: int
    case_number: str
    channel: NoticeChannel
    recipient: str
    subject: str | None
    body: str
    language: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Claims:
    notices: list[ClaimedNotice]
    abandoned: int
    """Due notices marked failed instead of claimed: every attempt they were allowed had
    been claimed already."""


def insert_notices(db: Database, notices: Iterable[NewNotice], created_at: str) -> None:
    """Queue the notices, due at once. Runs inside the caller's transaction."""
    with translated_errors():
        db.conn.executemany(
            "INSERT INTO notifications (case_number, channel, recipient, subject, body,"
            " language, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (n.case_number, n.channel, n.recipient, n.subject, n.body, n.language,
                 created_at, created_at)
                for n in notices
            ],
        )


def claim_due(
    store: Store,
    *,
    now: str,
    lease_token: str,
    limit: int,
    max_attempts: int,
    abandoned_error: Callable[[int], str],
) -> Claims:
    """In one write transaction: take up to ``limit`` pending notices due at ``now``, oldest
    due first. One already tried ``max_attempts`` times is marked failed with
    ``abandoned_error(attempts)``; each other one gets one more attempt and its
    ``next_attempt_at`` set to ``lease_token``, which no other worker sees as due before then."""
    notices: list[ClaimedNotice] = []
    abandoned = 0
    with translated_errors(), store.transaction() as db:
        rows = db.conn.execute(
            "SELECT notification_id, case_number, channel, recipient, subject, body, language,"
            " attempts FROM notifications WHERE status = 'pending' AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at, notification_id LIMIT ?",
            (now, limit),
        ).fetchall()
        for (
            notification_id, case_number, channel, recipient, subject, body, language, attempts
        ) in rows:
            if attempts >= max_attempts:
                db.conn.execute(
                    "UPDATE notifications SET status = 'failed', last_error = ?"
                    " WHERE notification_id = ?",
                    (abandoned_error(attempts), notification_id),
                )
                abandoned += 1
                continue
            db.conn.execute(
                "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = ?"
                " WHERE notification_id = ?",
                (lease_token, notification_id),
            )
            notices.append(
                ClaimedNotice(
                    notification_id, case_number, channel, recipient, subject, body, language,
                    attempts + 1,
                )
            )
    return Claims(notices, abandoned)


def _finish(store: Store, assignments: str, params: dict[str, Any]) -> bool:
    """Apply ``assignments`` if the row is still pending under the claim's lease token; False
    if another worker has claimed it since (or it is no longer pending)."""
    with translated_errors(), store.transaction() as db:
        cursor = db.conn.execute(
            f"UPDATE notifications SET {assignments} WHERE notification_id = :notification_id"
            " AND status = 'pending' AND next_attempt_at = :lease_token",
            params,
        )
        return bool(cursor.rowcount == 1)


def mark_sent(store: Store, notification_id: int, lease_token: str, *, sent_at: str) -> bool:
    """Record a delivery; False if the claim was lost."""
    return _finish(
        store,
        "status = 'sent', sent_at = :sent_at, last_error = NULL",
        {"sent_at": sent_at, "notification_id": notification_id, "lease_token": lease_token},
    )


def reschedule(
    store: Store, notification_id: int, lease_token: str, *, next_attempt_at: str, error: str
) -> bool:
    """Record a failed attempt to be retried at ``next_attempt_at``; False if the claim was
    lost."""
    return _finish(
        store,
        "next_attempt_at = :next_attempt_at, last_error = :error",
        {
            "next_attempt_at": next_attempt_at,
            "error": error,
            "notification_id": notification_id,
            "lease_token": lease_token,
        },
    )


def mark_failed(store: Store, notification_id: int, lease_token: str, *, error: str) -> bool:
    """Record a final failure; False if the claim was lost."""
    return _finish(
        store,
        "status = 'failed', last_error = :error",
        {"error": error, "notification_id": notification_id, "lease_token": lease_token},
    )
