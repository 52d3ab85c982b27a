from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from central_ingest.config import RegistryConfig
from central_ingest.core.clock import iso
from central_ingest.notify.outbox import enqueue_case_opened, gsm7_length
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

RESOLUTION_AT = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # 15:00 in Astana
CONFIG = RegistryConfig(case_link_base_url="https://erap.example.kz/cases")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "registry.sqlite3")
    with store.transaction() as db:
        db.conn.execute(
            "INSERT INTO devices (device_id, kind, public_key, registered_at)"
            " VALUES ('cam-astana-001', 'camera', 'test-key', ?)",
            (iso(RESOLUTION_AT),),
        )
        db.conn.execute(
            "INSERT INTO operators (username, display_name, role, password_hash, created_at)"
            " VALUES ('reviewer1', 'Reviewer One', 'reviewer', 'x', ?)",
            (iso(RESOLUTION_AT),),
        )
    return store


def open_case(
    store: Store,
    number: int,
    *,
    phone: str | None = "+77011234567",
    email: str | None = "owner@example.kz",
    config: RegistryConfig = CONFIG,
    discount_percent: int = 50,
) -> dict[str, Any]:
    """A red-light case of 10 MRP in 2026 (43,250 KZT), with its notices queued in the same
    transaction, as the case lifecycle does."""
    fixation_id, message_id = str(uuid.uuid4()), str(uuid.uuid4())
    offence_at = RESOLUTION_AT - timedelta(days=1, hours=2)
    case = {
        "case_number": f"KZ-GP-2026-{number:07d}",
        "fixation_id": fixation_id,
        "plate": "123ABC01",
        "owner_id": "791028302728",
        "owner_name": "Нурлан Ахметов",
        "owner_phone": phone,
        "owner_email": email,
        "violation": "red_light",
        "article": "599",
        "part": "1",
        "offence_at": iso(offence_at),
        "mrp_kzt": 4325,
        "fine_mrp": 10,
        "fine_minor": 4_325_000,
        "discount_percent": discount_percent,
        "resolution_at": iso(RESOLUTION_AT),
        "resolved_by": "reviewer1",
        "discount_deadline": iso(RESOLUTION_AT + timedelta(days=7)),
        "entry_into_force": iso(RESOLUTION_AT + timedelta(days=10)),
        "voluntary_deadline": iso(RESOLUTION_AT + timedelta(days=40)),
        "limitation_at": iso(RESOLUTION_AT + timedelta(days=375)),
        "updated_at": iso(RESOLUTION_AT),
    }
    with store.transaction() as db:
        db.conn.execute(
            "INSERT INTO messages VALUES (?, 'cam-astana-001', 'fixation', 'http', ?, 'h', '{}')",
            (message_id, iso(offence_at)),
        )
        db.conn.execute(
            "INSERT INTO fixations (fixation_id, message_id, device_id, sequence, captured_at,"
            " received_at, violation, plate_text, plate_confidence, plate_format, zone,"
            " status, decided_at, decided_by) VALUES (?, ?, 'cam-astana-001', ?, ?, ?,"
            " 'red_light', '123ABC01', 0.97, 'kz_person', 'Kabanbay Batyr / Turan',"
            " 'confirmed', ?, 'reviewer1')",
            (fixation_id, message_id, number, iso(offence_at), iso(offence_at), iso(RESOLUTION_AT)),
        )
        db.conn.execute(
            f"INSERT INTO cases ({', '.join(case)}) VALUES ({', '.join('?' * len(case))})",
            tuple(case.values()),
        )
        case["queued"] = enqueue_case_opened(db, case, config, RESOLUTION_AT)
    return case


def rows(store: Store) -> list[dict[str, Any]]:
    return list(store.db.query("SELECT * FROM notifications ORDER BY notification_id"))


def delivered(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class GatewayStandIn:
    """Stands for the SMS gateway, which cannot exist here: fails as told, records the rest."""

    def __init__(self, failures: list[DeliveryError | Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.accepted: list[Notification] = []

    def send(self, notification: Notification) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.accepted.append(notification)


def test_case_opening_queues_an_sms_and_an_email_with_amounts_deadlines_and_link(
    store: Store,
) -> None:
    case = open_case(store, 1)
    assert case["queued"] == 2
    sms, email = rows(store)
    link = "https://erap.example.kz/cases/KZ-GP-2026-0000001"

    assert (sms["channel"], sms["recipient"], sms["subject"]) == ("sms", "+77011234567", None)
    assert sms["body"] == (
        "Fine art.599 p.1, 123ABC01, 04.03.2026: pay 21,625 KZT until 12.03.2026 15:00,"
        f" then 43,250 KZT. {link}"
    )
    septets = gsm7_length(sms["body"])
    assert septets is not None and septets <= 160

    assert (email["channel"], email["recipient"]) == ("email", "owner@example.kz")
    assert email["subject"] == (
        "Administrative case KZ-GP-2026-0000001: driving through a red light, vehicle 123ABC01"
    )
    body = email["body"]
    for expected in (
        "Dear Нурлан Ахметов,",
        "article 599 part 1",
        "123ABC01",
        "Recorded at:  04.03.2026 13:00",  # 08:00 UTC
        "10 MRP x 4,325 KZT = 43,250 KZT",
        "21,625 KZT if paid by 12.03.2026 15:00 (50% discount",
        "43,250 KZT after that, until 14.04.2026 15:00",
        "enters into force on 15.03.2026 15:00",
        link,
    ):
        assert expected in body
    for row in (sms, email):
        assert row["status"] == "pending" and row["attempts"] == 0
        assert row["next_attempt_at"] == iso(RESOLUTION_AT)


def test_only_the_channels_the_owner_has_are_used(store: Store) -> None:
    assert open_case(store, 1, email=None)["queued"] == 1
    assert open_case(store, 2, phone=None)["queued"] == 1
    assert open_case(store, 3, phone=None, email=None)["queued"] == 0
    assert [(row["case_number"][-1], row["channel"]) for row in rows(store)] == [
        ("1", "sms"),
        ("2", "email"),
    ]


def test_without_a_discount_the_full_amount_and_the_voluntary_deadline_are_shown(
    store: Store,
) -> None:
    open_case(store, 1, discount_percent=0)
    sms, email = rows(store)
    assert sms["body"] == (
        "Fine art.599 p.1, 123ABC01, 04.03.2026: pay 43,250 KZT by 14.04.2026 15:00."
        " https://erap.example.kz/cases/KZ-GP-2026-0000001"
    )
    assert "43,250 KZT, until 14.04.2026 15:00." in email["body"]
    assert "discount" not in email["body"]


def test_a_long_link_drops_optional_sms_parts_but_never_the_link(store: Store) -> None:
    long_base = "https://erap.example.kz/" + "c" * 46
    open_case(store, 1, email=None, config=RegistryConfig(case_link_base_url=long_base))
    (sms,) = rows(store)
    assert sms["body"].endswith(f"{long_base}/KZ-GP-2026-0000001")
    assert "then 43,250 KZT" not in sms["body"]
    assert "pay 21,625 KZT until 12.03.2026 15:00" in sms["body"]
    septets = gsm7_length(sms["body"])
    assert septets is not None and septets <= 160


def test_notices_vanish_with_the_transaction_that_queued_them(store: Store) -> None:
    case = open_case(store, 1)
    with pytest.raises(RuntimeError), store.transaction() as db:
        assert enqueue_case_opened(db, case, CONFIG, RESOLUTION_AT) == 2
        assert len(rows(store)) == 4
        raise RuntimeError("case opening failed after queueing")
    assert len(rows(store)) == 2


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
        "from central_ingest.cli_ops import ops_app; ops_app()",
        "deliver-notifications",
        "--once",
        "--outbox-file",
        str(outbox),
        "--data-dir",
        str(tmp_path),
    ]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    ids = [line["notification_id"] for line in delivered(outbox)]
    assert sorted(ids) == list(range(1, 81))
    assert sum(int(out.split("sent ")[1].split(",")[0]) for out, _ in outputs) == 80


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
