"""The registry's periodic work: signed tree heads, hand-over to bailiffs, expiry at the
limitation date, notification delivery, and the dead letters' retention and size budget. Each
runs on its own interval in one thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from central_ingest.audit import load_or_create_registry_key, sign_tree_head
from central_ingest.cases import CaseService
from central_ingest.config import RegistryConfig
from central_ingest.core.clock import iso
from central_ingest.notice_senders import make_sender
from central_ingest.notify.senders import NotificationSender
from central_ingest.notify.worker import deliver_due
from central_ingest.store.db import Store
from central_ingest.store.dead_letters import (
    Trimmed,
    dead_letter_bytes,
    dead_letter_sources,
    delete_older_than,
    drop_oldest,
)
from contract import now_utc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobsReport:
    tree_size: int | None
    handed_over: list[str]
    expired: list[str]
    notifications_sent: int


class RegistryJobs:
    def __init__(
        self,
        store: Store,
        config: RegistryConfig,
        registry: CaseService,
        sender: NotificationSender | None = None,
    ) -> None:
        self._store = store
        self._config = config
        self._registry = registry
        # The SMSC and the mail relay where configured ([notices]), else the outbox file.
        self._sender = sender or make_sender(config)
        self._key = load_or_create_registry_key(config.registry_key_path)

    def sign_tree_head(self) -> int | None:
        head = sign_tree_head(self._store, self._key, now_utc())
        return head.tree_size if head else None

    def deliver_notifications(self) -> int:
        return deliver_due(self._store, self._sender, now_utc()).sent

    def trim_dead_letters(self) -> Trimmed:
        """Delete refusals older than the retention period, then, if the rest is over the
        size budget, warn and drop the oldest unsigned refusals (anyone's junk) first, and the
        oldest signed ones (a device's real messages) only if that is not enough."""
        settings = self._config.dead_letters
        cutoff = iso(now_utc() - timedelta(days=settings.retention_days))
        with self._store.transaction() as db:
            expired = delete_older_than(db, cutoff)
            before = dead_letter_bytes(db)
            excess = before - settings.budget_bytes
            unsigned = signed = freed = 0
            if excess > 0:
                unsigned, freed = drop_oldest(db, signed=False, excess=excess)
                if freed < excess:
                    signed, more = drop_oldest(db, signed=True, excess=excess - freed)
                    freed += more
        trimmed = Trimmed(expired, unsigned, signed, before, before - freed)
        if excess > 0:
            top = ", ".join(
                f"{row['source'] or 'unknown'} ({row['count']})"
                for row in dead_letter_sources(self._store.db, limit=3)
            )
            log.warning(
                "dead letters took %d bytes, over their budget of %d: dropped the oldest %d"
                " unsigned and %d signed refusals; most refusals now come from %s",
                before,
                settings.budget_bytes,
                unsigned,
                signed,
                top or "nobody",
            )
        return trimmed

    def run_once(self) -> JobsReport:
        """Everything once, in the order a day's work needs it: expiry before hand-over (an
        expired case is no longer enforceable); the day's notices queued and sent before the
        hand-over (which needs the resolution's notice delivered), the hand-over's own notices
        after it; then a tree head over it all."""
        expired = self._registry.expire_limited()
        self._registry.queue_daily_notices()
        sent = self.deliver_notifications()
        handed_over = self._registry.hand_over_overdue()
        sent += self.deliver_notifications()
        return JobsReport(self.sign_tree_head(), handed_over, expired, sent)

    def start(self, stop: threading.Event) -> list[threading.Thread]:
        schedule: list[tuple[str, float, Callable[[], object]]] = [
            ("tree-heads", self._config.tree_head_interval_s, self.sign_tree_head),
            ("lifecycle", self._config.lifecycle_interval_s, self._lifecycle),
            ("notifications", self._config.notification_interval_s, self.deliver_notifications),
            ("dead-letters", self._config.dead_letters.check_interval_s, self.trim_dead_letters),
        ]
        threads = [
            threading.Thread(
                target=_every, args=(name, interval, job, stop), name=f"job-{name}", daemon=True
            )
            for name, interval, job in schedule
        ]
        for thread in threads:
            thread.start()
        return threads

    def _lifecycle(self) -> None:
        expired = self._registry.expire_limited()
        self._registry.queue_daily_notices()
        handed_over = self._registry.hand_over_overdue()
        if expired or handed_over:
            log.info("expired %d cases, handed %d to bailiffs", len(expired), len(handed_over))


def _every(name: str, interval_s: float, job: Callable[[], object], stop: threading.Event) -> None:
    while not stop.is_set():
        started = time.monotonic()
        try:
            job()
        except Exception:
            # A failed run is logged and tried again next time; the other jobs go on.
            log.exception("periodic job %s failed; retrying in %.0f s", name, interval_s)
        stop.wait(max(0.0, interval_s - (time.monotonic() - started)))
