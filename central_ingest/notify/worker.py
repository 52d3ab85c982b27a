"""The delivery worker: sends due notifications from the outbox, retrying with backoff.

Several workers may run against one database. A worker claims a batch in one write transaction
by pushing each row's ``next_attempt_at`` to the end of a lease; no other worker sees the row as
due until the lease runs out. The lease instant doubles as the claim token: a worker records the
outcome only if the row still carries the lease it wrote, so a worker that overran its lease
(and whose row another worker has since claimed) cannot overwrite the newer attempt.

Sending happens outside any transaction, so a slow gateway never holds the database's write
lock. A sender that learns later what became of a message (the SMSC's delivery receipts) is
asked for its receipts after each send and while the worker waits; each is matched to its notice
by the message id the channel gave when it accepted it (``store.notifications.record_receipt``).

Delivery is at least once: if a worker dies between the send and recording it, the row is
sent again after the lease; ``Notification.notification_id`` lets a gateway drop the repeat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from central_ingest.core.clock import iso
from central_ingest.notify.senders import (
    DeliveryError,
    Notification,
    NotificationSender,
    ReceiptSource,
    Sent,
)
from central_ingest.store import notifications as repo
from central_ingest.store.db import Store
from central_ingest.store.errors import StoreError
from contract import now_utc

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
"""With the backoff below, about four hours of retries: a gateway outage of an afternoon loses
no notice."""
CLAIM_LEASE = timedelta(minutes=5)
"""Longer than any sender may take for one message; senders must time out well before it."""
FIRST_RETRY_DELAY = timedelta(seconds=30)
MAX_RETRY_DELAY = timedelta(hours=6)


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min, ... 6 h."""
    if attempts < 1:
        raise ValueError("a retry follows at least one attempt")
    return min(FIRST_RETRY_DELAY * (1 << min(attempts - 1, 32)), MAX_RETRY_DELAY)


@dataclass(slots=True)
class DeliveryStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    abandoned: int = 0
    """Marked failed without a final send: every attempt was claimed by a worker that stopped
    before recording its outcome."""
    lost_claims: int = 0
    """Outcomes not recorded because another worker had taken the row over after the lease."""
    delivered: int = 0
    """Notices the operator confirmed delivered (every part) in this round."""
    undelivered: int = 0
    """Notices failed by a receipt saying a part could not be delivered."""
    unmatched_receipts: int = 0
    """Receipts quoting a message id no notice was sent with."""


@dataclass(frozen=True, slots=True)
class _Claim:
    notification: Notification
    lease_token: str


def deliver_due(
    store: Store,
    sender: NotificationSender,
    now: datetime,
    batch: int = 100,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    lease: timedelta = CLAIM_LEASE,
) -> DeliveryStats:
    """Claim up to ``batch`` pending notifications due at ``now``, send each once, record the
    outcomes. After ``max_attempts`` tries a notification is marked failed with its last error."""
    if batch < 1 or max_attempts < 1:
        raise ValueError("batch and max_attempts must be at least 1")
    stats = DeliveryStats()
    claims = _claim_due(store, now, batch, max_attempts, lease, stats)
    stats.claimed = len(claims)
    for claim in claims:
        notification = claim.notification
        sent: Sent | None = None
        try:
            sent = sender.send(notification)
        except DeliveryError as exc:
            give_up = not exc.retryable or notification.attempt >= max_attempts
            outcome = "failed" if give_up else "retry"
            error = str(exc)
        except Exception as exc:
            # A sender bug must not stop the batch; the row is retried and the error kept.
            log.exception(
                "sender raised an unexpected error for notification %s",
                notification.notification_id,
            )
            outcome = "failed" if notification.attempt >= max_attempts else "retry"
            error = f"{type(exc).__name__}: {exc}"
        else:
            outcome, error = "sent", ""
        if not _record(store, claim, outcome, error, now, sent):
            stats.lost_claims += 1
            log.warning(
                "notification %s was taken over by another worker after its lease ran"
                " out; its outcome '%s' is not recorded",
                notification.notification_id,
                outcome,
            )
        elif outcome == "sent":
            stats.sent += 1
        elif outcome == "retry":
            stats.retried += 1
        else:
            stats.failed += 1
        if isinstance(sender, ReceiptSource):
            collect_receipts(store, sender, 0.0, stats)
    if not claims and isinstance(sender, ReceiptSource):
        # Nothing to send: the receipts that came since the last round are still read.
        collect_receipts(store, sender, 0.0, stats)
    return stats


def collect_receipts(
    store: Store, source: ReceiptSource, wait_s: float, stats: DeliveryStats | None = None
) -> DeliveryStats:
    """Record the receipts ``source`` has, waiting up to ``wait_s`` for the first."""
    stats = stats if stats is not None else DeliveryStats()
    for receipt in source.take_receipts(wait_s):
        reason = f"the operator could not deliver the SMS: {receipt.state}" + (
            f", error {receipt.error}" if receipt.error else ""
        )
        outcome = repo.record_receipt(
            store,
            receipt.provider,
            receipt.message_id,
            delivered=receipt.delivered,
            at=iso(receipt.at),
            receipt=receipt.text,
            failure=reason,
        )
        if outcome is None:
            stats.unmatched_receipts += 1
            log.warning("a delivery receipt for %s matches no notice sent", receipt.message_id)
        elif outcome.settled and outcome.state == "delivered":
            stats.delivered += 1
        elif outcome.settled and outcome.state == "failed":
            stats.undelivered += 1
    return stats


def _claim_due(
    store: Store,
    now: datetime,
    batch: int,
    max_attempts: int,
    lease: timedelta,
    stats: DeliveryStats,
) -> list[_Claim]:
    lease_token = iso(now + lease)
    claimed = repo.claim_due(
        store,
        now=iso(now),
        lease_token=lease_token,
        limit=batch,
        max_attempts=max_attempts,
        abandoned_error=_abandoned_error,
    )
    # Every attempt of an abandoned notice was claimed and none finished: the worker died
    # mid-send.
    stats.abandoned += claimed.abandoned
    return [
        _Claim(
            Notification(
                notice.notification_id,
                notice.case_number,
                notice.channel,
                notice.recipient,
                notice.subject,
                notice.body,
                notice.language,
                attempt=notice.attempt,
                kind=notice.kind,
            ),
            lease_token,
        )
        for notice in claimed.notices
    ]


def _abandoned_error(attempts: int) -> str:
    return (
        f"gave up after {attempts} attempts; the last one never finished"
        " (worker stopped while sending)"
    )


def _record(
    store: Store, claim: _Claim, outcome: str, error: str, now: datetime, sent: Sent | None
) -> bool:
    """Write the outcome if the row is still ours; False if another worker has claimed it."""
    notification = claim.notification
    if outcome == "sent":
        return repo.mark_sent(
            store,
            notification.notification_id,
            claim.lease_token,
            sent_at=iso(now),
            provider=sent.provider if sent and sent.message_ids else None,
            message_ids=sent.message_ids if sent else (),
            delivered=sent.delivered if sent else False,
        )
    if outcome == "retry":
        return repo.reschedule(
            store,
            notification.notification_id,
            claim.lease_token,
            next_attempt_at=iso(now + retry_delay(notification.attempt)),
            error=error,
        )
    return repo.mark_failed(store, notification.notification_id, claim.lease_token, error=error)


def run_worker(
    store: Store,
    sender: NotificationSender,
    stop_event: threading.Event,
    interval_s: float,
    *,
    clock: Callable[[], datetime] = now_utc,
    batch: int = 100,
    max_attempts: int = MAX_ATTEMPTS,
) -> None:
    """Deliver until ``stop_event`` is set: full batches back to back, then a pause of
    ``interval_s`` whenever the outbox has nothing more due. A database that is briefly
    unavailable is logged and tried again after the pause. A sender with delivery receipts is
    listened to during the pause."""
    while not stop_event.is_set():
        try:
            stats = deliver_due(store, sender, clock(), batch, max_attempts=max_attempts)
        except StoreError:
            log.exception("notification delivery round failed; trying again in %s s", interval_s)
            stop_event.wait(interval_s)
            continue
        if stats.claimed + stats.abandoned < batch:
            _pause(store, sender, stop_event, interval_s)


def _pause(
    store: Store, sender: NotificationSender, stop_event: threading.Event, interval_s: float
) -> None:
    if not isinstance(sender, ReceiptSource):
        stop_event.wait(interval_s)
        return
    deadline = time.monotonic() + interval_s
    while not stop_event.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            # In slices of at most a second, so a stop is noticed soon.
            collect_receipts(store, sender, min(remaining, 1.0))
        except StoreError:
            log.exception("delivery receipts could not be recorded; the next ones will be")
            stop_event.wait(min(remaining, 1.0))
