"""SMS notices over SMPP 3.4 against the SMSC simulator in its own process (tests/support/smsc.py):
the case's notices submitted by the delivery worker, split into the parts a handset joins,
matched to the SMSC's delivery receipts, refused, throttled and retried as the SMSC says. Runs on
both stores: the receipts' SQL is the store's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from central_ingest.config import SmppSettings
from central_ingest.core.sms import sms_segments
from central_ingest.notify.senders import DeliveryError, Notification
from central_ingest.notify.smpp import SmppSender
from central_ingest.notify.worker import (
    FIRST_RETRY_DELAY,
    DeliveryStats,
    collect_receipts,
    deliver_due,
)
from central_ingest.store.db import Store
from central_ingest.store.notifications import notices_of_case
from tests.support.notices import (
    RESOLUTION_AT,
    open_case,
    outbox_store,
    rows,
    with_case_links,
)
from tests.support.wire_servers import Server, running

pytestmark = pytest.mark.usefixtures("registry_store")

PASSWORD = "smsc-pw1"  # SMPP 3.4 bind passwords are 8 characters at most


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return outbox_store(tmp_path)


@pytest.fixture
def smsc_factory(tmp_path: Path) -> Iterator[Any]:
    servers: list[Any] = []

    def start(*args: str) -> Server:
        context = running(
            "tests.support.smsc",
            tmp_path / f"smsc-{len(servers)}.jsonl",
            "--password",
            PASSWORD,
            "--receipt-delay",
            "0.05",
            *args,
        )
        servers.append(context)
        return context.__enter__()

    yield start
    for context in reversed(servers):
        context.__exit__(None, None, None)


def sender_for(server: Server, **settings: Any) -> SmppSender:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "system_id": "erap",
        "source_addr": "ERAP",
        "throttle_backoff_s": 0.02,
        "submits_per_s": 200,
        "timeout_s": 5,
    }
    password = settings.pop("password", PASSWORD)
    return SmppSender(SmppSettings(**(values | settings)), password)


def wait_for_receipts(
    store: Store, sender: SmppSender, expected: int, *rounds: DeliveryStats
) -> DeliveryStats:
    """Listen as the worker does between rounds until ``expected`` notices are settled,
    counting those the delivery ``rounds`` settled already (receipts that came while sending)."""
    total = DeliveryStats(
        delivered=sum(r.delivered for r in rounds),
        undelivered=sum(r.undelivered for r in rounds),
        unmatched_receipts=sum(r.unmatched_receipts for r in rounds),
    )
    deadline = time.monotonic() + 5
    while total.delivered + total.undelivered < expected and time.monotonic() < deadline:
        stats = collect_receipts(store, sender, 0.5)
        total.delivered += stats.delivered
        total.undelivered += stats.undelivered
        total.unmatched_receipts += stats.unmatched_receipts
    return total


def sms_rows(store: Store) -> list[dict[str, Any]]:
    return [row for row in rows(store) if row["channel"] == "sms"]


def accepted(server: Server) -> list[dict[str, Any]]:
    return [entry for entry in server.entries() if entry.get("accepted")]


def test_cyrillic_notices_go_out_in_ucs2_parts_and_are_delivered(
    store: Store, smsc_factory: Any
) -> None:
    server = smsc_factory()
    kazakh = open_case(store, 1, email=None, language="kk")
    russian = open_case(store, 2, email=None, language="ru")
    sender = sender_for(server)
    try:
        stats = deliver_due(store, sender, RESOLUTION_AT)
        assert (stats.claimed, stats.sent) == (2, 2)
        receipts = wait_for_receipts(store, sender, 2, stats)
    finally:
        sender.close()

    assert (receipts.delivered, receipts.undelivered, receipts.unmatched_receipts) == (2, 0, 0)
    parts = accepted(server)
    for row in sms_rows(store):
        mine = [
            part
            for part in parts
            if part["destination"] == "77011234567" and part["text"] and part["text"] in row["body"]
        ]
        expected = sms_segments(row["body"]).segments
        assert expected == 2  # the notice texts are sized to two SMS in Cyrillic
        # One concatenated message: the same reference, numbered 1..n, UCS-2, 67 characters in
        # every part but the last, and the handset's joined text is the notice's.
        ours = [p for p in parts if p["udh"] and p["udh"]["ref"] == mine[0]["udh"]["ref"]]
        assert [p["udh"]["seq"] for p in ours] == list(range(1, expected + 1))
        assert all(p["udh"]["total"] == expected and p["data_coding"] == 0x08 for p in ours)
        assert all(p["esm_class"] & 0x40 and p["registered_delivery"] == 1 for p in ours)
        assert [len(p["text"]) for p in ours[:-1]] == [67] * (expected - 1)
        # rows() shows the page's link by the case number it opens (tests/support/notices.py).
        joined = with_case_links({**row, "body": "".join(p["text"] for p in ours)})
        assert joined["body"] == row["body"]
        assert (row["status"], row["attempts"]) == ("sent", 1)
        assert row["delivered_at"] is not None
    for case in (kazakh, russian):
        (notice,) = notices_of_case(store.db, case["case_number"])
        assert (notice.state, notice.parts, notice.reason) == ("delivered", 2, None)
    assert any("ӘҚБтК" in p["text"] for p in parts)  # the Kazakh text really went


def test_a_latin_text_goes_out_in_the_gsm_alphabet(store: Store, smsc_factory: Any) -> None:
    server = smsc_factory()
    sender = sender_for(server)
    text = "Fine under art. 599 part 1 of the CAO: 43,250.00 KZT [case KZ-GP-2026-0000001] " * 3
    try:
        sent = sender.send(
            Notification(7, "KZ-GP-2026-0000001", "sms", "+77011234567", None, text, "en", 1)
        )
    finally:
        sender.close()
    parts = accepted(server)
    assert len(sent.message_ids) == len(parts) == sms_segments(text).segments == 2
    assert {p["data_coding"] for p in parts} == {0x00}
    assert "".join(p["text"] for p in parts) == text
    assert (
        len(parts[0]["text"]) + parts[0]["text"].count("[") + parts[0]["text"].count("]") == 153
    )  # septets: each bracket is an escape and its character


def test_an_undeliverable_number_fails_the_notice_with_the_operators_reason(
    store: Store, smsc_factory: Any
) -> None:
    server = smsc_factory("--undeliverable-prefix", "7700")
    case = open_case(store, 1, phone="+77001234567", email=None)
    sender = sender_for(server)
    try:
        stats = deliver_due(store, sender, RESOLUTION_AT)
        assert stats.sent == 1
        receipts = wait_for_receipts(store, sender, 1, stats)
    finally:
        sender.close()
    assert receipts.undelivered == 1, (stats, server.entries())
    (notice,) = notices_of_case(store.db, case["case_number"])
    assert notice.state == "failed"
    assert notice.reason == "the operator could not deliver the SMS: UNDELIV, error 001"
    # Failed is final: the worker does not send it again.
    assert deliver_due(store, sender, RESOLUTION_AT + timedelta(hours=1)).claimed == 0


def test_a_number_the_smsc_refuses_fails_at_once_without_retries(
    store: Store, smsc_factory: Any
) -> None:
    server = smsc_factory("--invalid-prefix", "7709")
    case = open_case(store, 1, phone="+77091234567", email=None)
    sender = sender_for(server)
    try:
        stats = deliver_due(store, sender, RESOLUTION_AT)
    finally:
        sender.close()
    assert (stats.sent, stats.retried, stats.failed) == (0, 0, 1)
    (row,) = sms_rows(store)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "ESME_RINVDSTADR" in row["last_error"]
    assert [e["status"] for e in server.entries()] == [0x0B]
    (notice,) = notices_of_case(store.db, case["case_number"])
    assert notice.state == "failed" and notice.reason == row["last_error"]


def test_throttling_and_a_full_queue_are_waited_out_in_the_session(
    store: Store, smsc_factory: Any
) -> None:
    server = smsc_factory("--throttle-every", "3", "--queue-full-every", "5")
    for number in range(1, 5):
        open_case(store, number, email=None)
    sender = sender_for(server)
    try:
        stats = deliver_due(store, sender, RESOLUTION_AT)
        receipts = wait_for_receipts(store, sender, 4, stats)
    finally:
        sender.close()
    assert (stats.sent, stats.retried, stats.failed) == (4, 0, 0)
    assert receipts.delivered == 4
    refusals = [e["status"] for e in server.entries() if e.get("accepted") is False]
    assert 0x58 in refusals and 0x14 in refusals
    assert len(accepted(server)) == 8  # every part of the four notices, once
    assert all(row["attempts"] == 1 for row in sms_rows(store))


def test_throttling_that_outlasts_the_session_retries_leaves_the_notice_to_a_later_round(
    store: Store, smsc_factory: Any
) -> None:
    server = smsc_factory("--throttle-first", "1")
    case = open_case(store, 1, email=None)
    sender = sender_for(server, throttle_retries=0)
    try:
        first = deliver_due(store, sender, RESOLUTION_AT)
        (row,) = sms_rows(store)
        assert (first.sent, first.retried) == (0, 1)
        assert row["status"] == "pending" and "still throttling" in row["last_error"]
        assert (notices_of_case(store.db, case["case_number"])[0].state) == "queued"
        # The SMSC no longer throttles: the retry goes through whole.
        second = deliver_due(store, sender, RESOLUTION_AT + FIRST_RETRY_DELAY)
        assert (second.claimed, second.sent) == (1, 1)
        receipts = wait_for_receipts(store, sender, 1, first, second)
    finally:
        sender.close()
    assert receipts.delivered == 1
    (row,) = sms_rows(store)
    assert (row["status"], row["attempts"]) == ("sent", 2)
    (notice,) = notices_of_case(store.db, case["case_number"])
    assert (notice.state, notice.attempts, notice.parts) == ("delivered", 2, 2)


def test_submits_are_paced_to_the_contracted_rate(store: Store, smsc_factory: Any) -> None:
    server = smsc_factory("--max-per-s", "8")
    for number in range(1, 6):
        open_case(store, number, email=None)
    sender = sender_for(server, submits_per_s=7, throttle_retries=0)
    try:
        started = time.monotonic()
        stats = deliver_due(store, sender, RESOLUTION_AT)
        elapsed = time.monotonic() - started
    finally:
        sender.close()
    assert (stats.sent, stats.retried) == (5, 0)
    assert all(e.get("accepted") for e in server.entries() if "receipt" not in e)
    assert elapsed >= 9 / 7  # ten parts, the first at once


def test_a_wrong_password_keeps_the_notice_queued_with_a_reason(
    store: Store, smsc_factory: Any
) -> None:
    server = smsc_factory()
    open_case(store, 1, email=None)
    sender = sender_for(server, password="wrong")
    stats = deliver_due(store, sender, RESOLUTION_AT)
    assert (stats.sent, stats.retried) == (0, 1)
    (row,) = sms_rows(store)
    assert row["status"] == "pending"
    assert "refused the bind as 'erap'" in row["last_error"]
    assert accepted(server) == []


def test_receipts_held_while_the_registry_was_away_arrive_at_the_next_bind(
    store: Store, smsc_factory: Any
) -> None:
    server = smsc_factory()
    case = open_case(store, 1, email=None)
    sender = sender_for(server)
    assert deliver_due(store, sender, RESOLUTION_AT).sent == 1
    sender.close()  # unbound before the receipts come
    time.sleep(0.2)
    assert notices_of_case(store.db, case["case_number"])[0].state == "sent"
    again = sender_for(server)  # a worker started afresh: it binds to listen
    try:
        receipts = wait_for_receipts(store, again, 1)
    finally:
        again.close()
    assert (receipts.delivered, receipts.unmatched_receipts) == (1, 0)
    assert notices_of_case(store.db, case["case_number"])[0].state == "delivered"


def test_an_unreachable_smsc_is_a_retryable_failure() -> None:
    sender = SmppSender(
        SmppSettings(host="127.0.0.1", port=1, system_id="erap", source_addr="ERAP"), PASSWORD
    )
    with pytest.raises(DeliveryError, match="could not reach the SMSC") as refused:
        sender.send(Notification(1, "x", "sms", "+77011234567", None, "text", "en", 1))
    assert refused.value.retryable
