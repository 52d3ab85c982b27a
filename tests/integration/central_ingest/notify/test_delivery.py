"""The delivery worker on a real SQLite file: each due notice sent once, retries with backoff,
claims and leases between concurrent workers (threads and processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from central_ingest.core.clock import iso
from central_ingest.notify.senders import DeliveryError, FileSender, Notification
from central_ingest.notify.worker import (
    CLAIM_LEASE,
    FIRST_RETRY_DELAY,
    DeliveryStats,
    deliver_due,
    retry_delay,
    run_worker,
)
from central_ingest.store.db import Store
from tests.support.notices import (
    RESOLUTION_AT,
    GatewayStandIn,
    delivered,
    open_case,
    outbox_store,
    rows,
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return outbox_store(tmp_path)


def test_file_sender_delivers_each_due_notice_once(store: Store, tmp_path: Path) -> None:
    open_case(store, 1)
    outbox = tmp_path / "out" / "outbox.jsonl"
    sender = FileSender(outbox, clock=lambda: RESOLUTION_AT)

    stats = deliver_due(store, sender, RESOLUTION_AT)
    assert (stats.claimed, stats.sent, stats.retried, stats.failed) == (2, 2, 0, 0)
    again = deliver_due(store, sender, RESOLUTION_AT + timedelta(hours=1))
    assert again == DeliveryStats()

    lines = delivered(outbox)
    assert [line["channel"] for line in lines] == ["sms", "email"]
    sms_row, email_row = rows(store)
    assert lines[0]["body"] == sms_row["body"] and lines[0]["recipient"] == "+77011234567"
    assert lines[1]["subject"] == email_row["subject"]
    assert all(
        line["delivered_at"] == iso(RESOLUTION_AT) and line["attempt"] == 1 for line in lines
    )
    for row in (sms_row, email_row):
        assert (row["status"], row["attempts"], row["sent_at"]) == ("sent", 1, iso(RESOLUTION_AT))


def test_notices_not_yet_due_are_left_alone(store: Store) -> None:
    open_case(store, 1)
    gateway = GatewayStandIn()
    assert deliver_due(store, gateway, RESOLUTION_AT - timedelta(seconds=1)).claimed == 0
    assert gateway.accepted == []


def test_retryable_failures_back_off_exponentially_then_fail_after_max_attempts(
    store: Store,
) -> None:
    open_case(store, 1, email=None)
    gateway = GatewayStandIn([DeliveryError("gateway timeout", retryable=True)] * 10)
    now = RESOLUTION_AT
    for attempt in range(1, 4):
        stats = deliver_due(store, gateway, now, max_attempts=4)
        assert (stats.claimed, stats.retried) == (1, 1)
        (row,) = rows(store)
        assert row["attempts"] == attempt and row["status"] == "pending"
        assert row["last_error"] == "gateway timeout"
        assert row["next_attempt_at"] == iso(now + FIRST_RETRY_DELAY * 2 ** (attempt - 1))
        # Not due again before its backoff has passed.
        assert deliver_due(store, gateway, now + retry_delay(attempt) / 2).claimed == 0
        now += retry_delay(attempt)
    stats = deliver_due(store, gateway, now, max_attempts=4)
    assert (stats.claimed, stats.failed) == (1, 1)
    (row,) = rows(store)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 4, "gateway timeout")
    assert deliver_due(store, gateway, now + timedelta(days=1)).claimed == 0
    assert gateway.accepted == []


def test_backoff_is_capped() -> None:
    assert retry_delay(1) == timedelta(seconds=30)
    assert retry_delay(5) == timedelta(minutes=8)
    assert retry_delay(40) == timedelta(hours=6)


def test_a_permanent_failure_is_not_retried(store: Store) -> None:
    open_case(store, 1, email=None)
    gateway = GatewayStandIn([DeliveryError("number not in service", retryable=False)])
    stats = deliver_due(store, gateway, RESOLUTION_AT)
    assert stats.failed == 1
    (row,) = rows(store)
    assert (row["status"], row["attempts"], row["last_error"]) == (
        "failed",
        1,
        "number not in service",
    )


def test_a_sender_bug_is_retried_and_does_not_stop_the_batch(store: Store) -> None:
    open_case(store, 1)
    gateway = GatewayStandIn([ValueError("template missing")])
    stats = deliver_due(store, gateway, RESOLUTION_AT)
    assert (stats.retried, stats.sent) == (1, 1)
    sms, email = rows(store)
    assert sms["last_error"] == "ValueError: template missing" and sms["status"] == "pending"
    assert email["status"] == "sent"


class WorkerKilled(BaseException):
    """The worker process dying in the middle of a send."""


class DyingSender:
    def send(self, notification: Notification) -> None:
        raise WorkerKilled


def test_a_claim_abandoned_by_a_dead_worker_is_retried_after_its_lease(store: Store) -> None:
    open_case(store, 1, email=None)
    with pytest.raises(WorkerKilled):
        deliver_due(store, DyingSender(), RESOLUTION_AT)
    gateway = GatewayStandIn()
    assert deliver_due(store, gateway, RESOLUTION_AT + CLAIM_LEASE / 2).claimed == 0
    stats = deliver_due(store, gateway, RESOLUTION_AT + CLAIM_LEASE)
    assert stats.sent == 1
    assert [n.attempt for n in gateway.accepted] == [2]


def test_a_notice_whose_every_attempt_died_mid_send_is_given_up(store: Store) -> None:
    open_case(store, 1, email=None)
    now = RESOLUTION_AT
    for _ in range(3):
        with pytest.raises(WorkerKilled):
            deliver_due(store, DyingSender(), now, max_attempts=3)
        now += CLAIM_LEASE
    stats = deliver_due(store, GatewayStandIn(), now, max_attempts=3)
    assert (stats.claimed, stats.abandoned) == (0, 1)
    (row,) = rows(store)
    assert row["status"] == "failed" and "never finished" in row["last_error"]


def test_a_worker_that_overran_its_lease_cannot_overwrite_the_newer_attempt(
    store: Store,
) -> None:
    open_case(store, 1, email=None)
    started, release = threading.Event(), threading.Event()

    class StalledGateway:
        def send(self, notification: Notification) -> None:
            started.set()
            release.wait(10)
            raise DeliveryError("timed out at last", retryable=True)

    outcome: list[DeliveryStats] = []
    slow = threading.Thread(
        target=lambda: outcome.append(deliver_due(store, StalledGateway(), RESOLUTION_AT))
    )
    slow.start()
    assert started.wait(10)
    takeover = GatewayStandIn()
    assert deliver_due(store, takeover, RESOLUTION_AT + CLAIM_LEASE).sent == 1
    release.set()
    slow.join(10)
    assert outcome[0].lost_claims == 1 and outcome[0].retried == 0
    (row,) = rows(store)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)


def test_two_concurrent_workers_never_send_the_same_notice_twice(
    store: Store,
    tmp_path: Path,
) -> None:
    for number in range(1, 61):
        open_case(store, number)
    outbox = tmp_path / "outbox.jsonl"
    sent_by: dict[str, int] = {}

    class SlowFileSender(FileSender):
        def send(self, notification: Notification) -> None:
            time.sleep(0.002)  # long enough for the other worker to claim in between
            super().send(notification)

    def work(name: str) -> None:
        sender = SlowFileSender(outbox)
        total = 0
        while (stats := deliver_due(store, sender, RESOLUTION_AT, batch=7)).claimed:
            total += stats.sent
        sent_by[name] = total

    workers = [threading.Thread(target=work, args=(name,)) for name in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    ids = [line["notification_id"] for line in delivered(outbox)]
    assert len(ids) == 120 and len(set(ids)) == 120
    assert sent_by["a"] + sent_by["b"] == 120 and min(sent_by.values()) > 0
    assert {row["status"] for row in rows(store)} == {"sent"}


def test_two_worker_processes_share_the_outbox_without_duplicates(
    store: Store,
    tmp_path: Path,
) -> None:
    for number in range(1, 41):
        open_case(store, number)
    outbox = tmp_path / "outbox.jsonl"
    command = [
        sys.executable,
        "-c",
        "from central_ingest.cli.ops import ops_app; ops_app()",
        "deliver-notifications",
        "--once",
        "--outbox-file",
        str(outbox),
        "--data-dir",
        str(tmp_path),
    ]
    # The summary line is read in English (the command line speaks the registry's language).
    english = {**os.environ, "ERAP_LANGUAGE": "en"}
    processes = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=english
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    ids = [line["notification_id"] for line in delivered(outbox)]
    assert sorted(ids) == list(range(1, 81))
    assert sum(int(out.split("Notices sent: ")[1].split(",")[0]) for out, _ in outputs) == 80


def test_run_worker_delivers_until_stopped(store: Store, tmp_path: Path) -> None:
    open_case(store, 1)
    outbox = tmp_path / "outbox.jsonl"
    stop = threading.Event()
    worker = threading.Thread(
        target=run_worker,
        args=(store, FileSender(outbox), stop, 0.05),
        kwargs={"clock": lambda: RESOLUTION_AT, "batch": 1},
    )
    worker.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (outbox.exists() and len(delivered(outbox)) == 2):
        time.sleep(0.02)
    open_case(store, 2, email=None)
    while time.monotonic() < deadline and len(delivered(outbox)) < 3:
        time.sleep(0.02)
    stop.set()
    worker.join(5)
    assert not worker.is_alive()
    assert [line["case_number"][-1] for line in delivered(outbox)] == ["1", "1", "2"]
