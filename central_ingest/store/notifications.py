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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from central_ingest.store.db import Database, Store
from central_ingest.store.errors import translated_errors
from central_ingest.store.rows import all_rows

NoticeChannel = Literal["sms", "email"]
NoticeKind = Literal[
    "case_opened",
    "discount_ending",
    "payment_received",
    "entered_into_force",
    "appeal_received",
    "appeal_decided",
    "handed_to_bailiffs",
]
RESOLUTION: NoticeKind = "case_opened"
"""The notice of the resolution: the one a hand-over to bailiffs needs delivered."""


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
    kind: NoticeKind = RESOLUTION
    attempt_round: int = 1
    """The resolution's notice: which attempt to tell the driver (1, then 2, 3 ... while every
    notice of the last round failed); 1 for every other kind."""


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
    kind: NoticeKind = RESOLUTION


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
            " language, created_at, next_attempt_at, kind, attempt_round)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    n.case_number,
                    n.channel,
                    n.recipient,
                    n.subject,
                    n.body,
                    n.language,
                    created_at,
                    created_at,
                    n.kind,
                    n.attempt_round,
                )
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
            " attempts, kind FROM notifications WHERE status = 'pending' AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at, notification_id LIMIT ?",
            (now, limit),
        ).fetchall()
        for (
            notification_id,
            case_number,
            channel,
            recipient,
            subject,
            body,
            language,
            attempts,
            kind,
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
                    notification_id,
                    case_number,
                    channel,
                    recipient,
                    subject,
                    body,
                    language,
                    attempts + 1,
                    kind,
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


def mark_sent(
    store: Store,
    notification_id: int,
    lease_token: str,
    *,
    sent_at: str,
    provider: str | None = None,
    message_ids: Sequence[str] = (),
    delivered: bool = False,
) -> bool:
    """Record that the channel accepted the notice, with the ids ``provider`` gave its parts
    (one per SMS part, in order), which its delivery receipts will quote; False if the claim
    was lost. ``delivered``: the channel's acceptance is the delivery itself (the outbox file
    of the embedded default, which nothing comes after)."""
    with translated_errors(), store.transaction() as db:
        cursor = db.conn.execute(
            "UPDATE notifications SET status = 'sent', sent_at = ?, last_error = NULL,"
            " delivered_at = ? WHERE notification_id = ? AND status = 'pending'"
            " AND next_attempt_at = ?",
            (sent_at, sent_at if delivered else None, notification_id, lease_token),
        )
        if cursor.rowcount != 1:
            return False
        if provider is not None and message_ids:
            db.conn.executemany(
                "INSERT INTO notification_messages (provider, provider_message_id,"
                " notification_id, part) VALUES (?, ?, ?, ?)",
                [
                    (provider, message_id, notification_id, part)
                    for part, message_id in enumerate(message_ids, start=1)
                ],
            )
        return True


@dataclass(frozen=True, slots=True)
class ReceiptOutcome:
    """What a delivery receipt did: the notice it belongs to, and the notice's state after it
    (``sent`` while other parts are still unconfirmed)."""

    notification_id: int
    state: Literal["sent", "delivered", "failed"]
    settled: bool
    """This receipt delivered or failed the notice (an earlier one had not)."""


def record_receipt(
    store: Store,
    provider: str,
    message_id: str,
    *,
    delivered: bool,
    at: str,
    receipt: str,
    failure: str,
) -> ReceiptOutcome | None:
    """Apply a final delivery receipt to the part it names; None for an id no notice sent
    (a receipt for another system's message, or one from before this database).

    A notice is delivered when every part is, at its last part's receipt; a part that could
    not be delivered fails the whole notice with ``failure`` as its reason, at once (the
    driver did not get the whole text). A repeated receipt changes nothing."""
    with translated_errors(), store.transaction() as db:
        row = db.conn.execute(
            "SELECT notification_id, status FROM notification_messages"
            " WHERE provider = ? AND provider_message_id = ?",
            (provider, message_id),
        ).fetchone()
        if row is None:
            return None
        notification_id = int(row[0])
        if row[1] == "sent":
            db.conn.execute(
                "UPDATE notification_messages SET status = ?, receipt_at = ?, receipt = ?"
                " WHERE provider = ? AND provider_message_id = ?",
                ("delivered" if delivered else "undelivered", at, receipt, provider, message_id),
            )
        if not delivered:
            cursor = db.conn.execute(
                "UPDATE notifications SET status = 'failed', last_error = ?, delivered_at = NULL"
                " WHERE notification_id = ? AND status = 'sent'",
                (failure, notification_id),
            )
        else:
            cursor = db.conn.execute(
                "UPDATE notifications SET delivered_at = ? WHERE notification_id = ?"
                " AND status = 'sent' AND delivered_at IS NULL AND NOT EXISTS"
                " (SELECT 1 FROM notification_messages WHERE notification_id = ?"
                " AND status != 'delivered')",
                (at, notification_id, notification_id),
            )
        settled = cursor.rowcount == 1
        status, delivered_at = db.conn.execute(
            "SELECT status, delivered_at FROM notifications WHERE notification_id = ?",
            (notification_id,),
        ).fetchone()
    state: Literal["sent", "delivered", "failed"] = (
        "failed" if status == "failed" else "delivered" if delivered_at is not None else "sent"
    )
    return ReceiptOutcome(notification_id, state, settled)


NoticeState = Literal["queued", "sent", "delivered", "failed"]


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """A notice as a case's history shows it: ``queued`` (waiting, or to be retried after a
    failed attempt: ``reason`` says why), ``sent`` (accepted by the channel), ``delivered``
    (the operator confirmed every part), ``failed`` (``reason``)."""

    notification_id: int
    kind: NoticeKind
    attempt_round: int
    channel: NoticeChannel
    recipient: str
    language: str
    state: NoticeState
    attempts: int
    parts: int
    created_at: str
    sent_at: str | None
    delivered_at: str | None
    reason: str | None


def notices_of_case(db: Database, case_number: str) -> list[NoticeRecord]:
    """The case's notices, oldest first, with their delivery states."""
    with translated_errors():
        rows = db.conn.execute(
            "SELECT n.notification_id, n.kind, n.attempt_round, n.channel, n.recipient,"
            " n.language, n.status,"
            " n.attempts, n.created_at, n.sent_at, n.delivered_at, n.last_error,"
            " (SELECT count(*) FROM notification_messages m"
            "  WHERE m.notification_id = n.notification_id)"
            " FROM notifications n WHERE n.case_number = ? ORDER BY n.notification_id",
            (case_number,),
        ).fetchall()
    records = []
    for (
        notification_id,
        kind,
        attempt_round,
        channel,
        recipient,
        language,
        status,
        attempts,
        created_at,
        sent_at,
        delivered_at,
        last_error,
        parts,
    ) in rows:
        state: NoticeState = (
            "queued"
            if status == "pending"
            else "failed"
            if status == "failed"
            else "delivered"
            if delivered_at is not None
            else "sent"
        )
        records.append(
            NoticeRecord(
                int(notification_id),
                kind,
                int(attempt_round),
                channel,
                recipient,
                language,
                state,
                int(attempts),
                int(parts),
                str(created_at),
                sent_at,
                delivered_at,
                last_error,
            )
        )
    return records


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


# --- the daily notices: candidates ------------------------------------------------------------


def discount_ending_cases(
    db: Database, *, now: str, until: str, limit: int
) -> list[dict[str, Any]]:
    """Open, unpaid cases whose discount ends after ``now`` and by ``until``, not yet
    reminded."""
    return all_rows(
        db,
        "SELECT * FROM cases WHERE status = 'open' AND paid_minor = 0"
        " AND discount_deadline > ? AND discount_deadline <= ?"
        " AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.case_number = cases.case_number"
        " AND n.kind = 'discount_ending') ORDER BY discount_deadline, case_number LIMIT ?",
        (now, until, limit),
    )


def entered_into_force_cases(
    db: Database, *, now: str, since: str, limit: int
) -> list[dict[str, Any]]:
    """Cases not yet paid or closed whose resolution entered into force after ``since`` and by
    ``now``, not yet told so. ``since`` keeps a database migrated with old cases from sending
    notices about resolutions long in force."""
    return all_rows(
        db,
        "SELECT * FROM cases WHERE status IN ('open', 'underpaid')"
        " AND entry_into_force <= ? AND entry_into_force > ?"
        # An open appeal suspends the resolution: it is not in force, whatever the date says.
        " AND NOT EXISTS (SELECT 1 FROM appeals a WHERE a.case_number = cases.case_number"
        " AND a.status = 'open')"
        " AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.case_number = cases.case_number"
        " AND n.kind = 'entered_into_force') ORDER BY entry_into_force, case_number LIMIT ?",
        (now, since, limit),
    )


def resolution_resend_cases(db: Database, *, limit: int) -> list[dict[str, Any]]:
    """Open, unpaid cases whose resolution's notice was never delivered and whose last round
    failed on every channel: candidates for another round (``core.driver_told.next_round``
    decides)."""
    return all_rows(
        db,
        "SELECT * FROM cases WHERE status = 'open' AND paid_minor = 0"
        " AND EXISTS (SELECT 1 FROM notifications n WHERE n.case_number = cases.case_number"
        " AND n.kind = 'case_opened' AND n.status = 'failed')"
        " AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.case_number = cases.case_number"
        " AND n.kind = 'case_opened' AND (n.status != 'failed' OR n.delivered_at IS NOT NULL)"
        " AND n.attempt_round = (SELECT max(m.attempt_round) FROM notifications m"
        " WHERE m.case_number = cases.case_number AND m.kind = 'case_opened'))"
        " ORDER BY case_number LIMIT ?",
        (limit,),
    )
