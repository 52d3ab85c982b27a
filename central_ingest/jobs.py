"""The registry's periodic work: signed tree heads, hand-over to bailiffs, expiry at the
limitation date, and notification delivery. Each runs on its own interval in one thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from central_ingest.audit import load_or_create_registry_key, sign_tree_head
from central_ingest.config import RegistryConfig
from central_ingest.notify.senders import FileSender, NotificationSender
from central_ingest.notify.worker import deliver_due
from central_ingest.registry import Registry
from central_ingest.store.db import Store
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
        registry: Registry,
        sender: NotificationSender | None = None,
    ) -> None:
        self._store = store
        self._config = config
        self._registry = registry
        self._sender = sender or FileSender(config.notification_outbox_path)
        self._key = load_or_create_registry_key(config.registry_key_path)

    def sign_tree_head(self) -> int | None:
        head = sign_tree_head(self._store, self._key, now_utc())
        return head.tree_size if head else None

    def deliver_notifications(self) -> int:
        return deliver_due(self._store, self._sender, now_utc()).sent

    def run_once(self) -> JobsReport:
        """Everything once, in the order a day's work needs it: expiry before hand-over (an
        expired case is no longer enforceable), then notices, then a tree head over it all."""
        expired = self._registry.expire_limited()
        handed_over = self._registry.hand_over_overdue()
        sent = self.deliver_notifications()
        return JobsReport(self.sign_tree_head(), handed_over, expired, sent)

    def start(self, stop: threading.Event) -> list[threading.Thread]:
        schedule: list[tuple[str, float, Callable[[], object]]] = [
            ("tree-heads", self._config.tree_head_interval_s, self.sign_tree_head),
            ("lifecycle", self._config.lifecycle_interval_s, self._lifecycle),
            ("notifications", self._config.notification_interval_s, self.deliver_notifications),
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
