"""The sender's delivery policy (edge/store/delivery.py), pure: receipts, PUBACKs, resends and
dead letters decided with the time passed in; no broker, no thread, no database."""

from __future__ import annotations

import ast
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

from contract import Receipt, ReceiptStatus
from contract.wire import ReceiptEntry
from edge.store import delivery
from edge.store.delivery import (
    STATUS_TAG,
    AlertChange,
    DeliveryPolicy,
    DeliverySettings,
    Puback,
    Rejection,
    StatusSchedule,
    link_down,
    puback_is_news,
)

NOT_AUTHORIZED = 135
NO_SUBSCRIBERS = 16


def ids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


def receipt(*entries: tuple[str, ReceiptStatus, str | None]) -> Receipt:
    return Receipt(
        device_id="cam-1",
        issued_at=datetime(2026, 12, 7, 12, 0, tzinfo=UTC),
        entries=[
            ReceiptEntry(message_id=uuid.UUID(m), status=status, reason=reason)
            for m, status, reason in entries
        ],
    )


def policy(**settings: float) -> DeliveryPolicy:
    return DeliveryPolicy(DeliverySettings(**settings), rng=random.Random(7))  # type: ignore[arg-type]


def test_the_module_imports_no_mqtt_thread_http_or_database_library() -> None:
    source = Path(delivery.__file__).read_text(encoding="utf-8")
    names = {
        alias.name.partition(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").partition(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom)
    }
    assert not names & {"paho", "threading", "queue", "sqlite3", "httpx", "time"}


def test_only_stored_or_duplicate_deliver_retry_waits_and_rejected_dead_letters() -> None:
    p = policy(retry_delay_s=2.0)
    stored, duplicate, retry, rejected = ids(4)
    for m in (stored, duplicate, retry, rejected):
        p.published(m, 10.0)
    decision = p.on_receipt(
        receipt(
            (stored, ReceiptStatus.STORED, None),
            (duplicate, ReceiptStatus.DUPLICATE, None),
            (retry, ReceiptStatus.RETRY, None),
            (rejected, ReceiptStatus.REJECTED, "bad_signature"),
        ),
        now=11.0,
    )
    assert decision.delivered == [stored, duplicate]
    assert decision.retry == [retry]
    assert decision.rejected == [Rejection(rejected, "bad_signature")]
    assert p.counters.duplicates == 1 and p.counters.published == 4
    assert p.awaiting == {} and p.retry_at == {retry: 13.0}
    assert p.due(12.9) == [] and p.due(13.0) == [retry]
    alert = p.dead_lettered(decision.rejected[0])
    assert p.counters.dead_lettered == 1
    assert alert.name == "dead_letter" and alert.text is not None and rejected in alert.text


def test_silence_not_age_makes_a_message_overdue() -> None:
    p = policy(receipt_timeout_s=30.0)
    slow, other = ids(2)
    p.published(slow, 0.0)
    p.published(other, 0.0)
    # Receipts for other messages keep coming: the registry is slow, not deaf.
    p.on_receipt(receipt((other, ReceiptStatus.STORED, None)), now=25.0)
    assert p.due(40.0) == []
    assert p.due(55.0) == [slow]


def test_a_refused_publish_alerts_and_is_resent_later_and_a_success_clears_the_alert() -> None:
    p = policy(refusal_retry_base_s=1.0, refusal_retry_cap_s=60.0)
    (m,) = ids(1)
    p.published(m, 100.0)
    alerts = p.on_puback(Puback(m, NOT_AUTHORIZED, "Not authorized"), now=100.5)
    assert p.counters.broker_refusals == 1
    assert alerts[0].name == "broker_refused" and "Not authorized (135)" in str(alerts[0].text)
    assert m not in p.awaiting and 100.5 <= p.retry_at[m] <= 101.5
    assert p.on_puback(Puback(m, 0), now=102.0) == [AlertChange("broker_refused", None)]
    # A status publish going through says nothing about the fixation topic's ACL.
    assert p.on_puback(Puback(STATUS_TAG, 0), now=102.0) == []


def test_no_matching_subscribers_resends_soon_without_an_alert() -> None:
    p = policy(receipt_timeout_s=30.0)
    (m,) = ids(1)
    p.published(m, 50.0)
    assert p.on_puback(Puback(m, NO_SUBSCRIBERS), now=50.1) == []
    assert m not in p.awaiting and p.retry_at[m] <= 50.1 + 0.2
    assert p.counters.broker_refusals == 0


def test_only_failures_no_subscribers_or_an_open_refusal_wake_the_worker() -> None:
    assert not puback_is_news(0, refusal_alert_raised=False)
    assert puback_is_news(0, refusal_alert_raised=True)
    assert puback_is_news(NO_SUBSCRIBERS, refusal_alert_raised=False)
    assert puback_is_news(NOT_AUTHORIZED, refusal_alert_raised=False)


def test_the_window_limits_what_is_fetched_fresh() -> None:
    p = policy(window=10, batch_size=4)
    assert p.room(resending=0) == 4
    for m in ids(8):
        p.published(m, 0.0)
    assert p.room(resending=0) == 2
    assert p.room(resending=8) == 4  # all of them go again: they count once
    for m in ids(2):
        p.published(m, 0.0)
    assert p.room(resending=0) <= 0


def test_uploads_split_the_batch_into_ready_refused_and_waiting() -> None:
    p = policy()
    ready, refused, waiting = ids(3)
    decision = p.after_uploads(
        [ready, refused, waiting],
        {ready: ["a"], refused: ["a", "b"], waiting: ["c"]},
        {"a": True, "b": "evidence_too_large", "c": False},
        now=20.0,
    )
    assert decision.ready == [ready]
    assert decision.rejected == [
        Rejection(refused, "evidence_too_large", "an evidence file was refused")
    ]
    assert AlertChange("evidence_upload", "evidence uploads to the registry are failing") in (
        decision.alerts
    )
    assert set(p.retry_at) == {waiting} and 20.0 <= p.retry_at[waiting] <= 21.0
    assert link_down({"a": True, "c": False}) and not link_down({"a": True, "b": "x"})
    everything = p.after_uploads([ready], {ready: ["a"]}, {"a": True}, now=21.0)
    assert everything.alerts == [AlertChange("evidence_upload", None)]


def test_status_goes_on_its_interval_and_at_once_when_the_box_changes() -> None:
    schedule = StatusSchedule(interval_s=60.0, health_check_interval_s=1.0)
    assert schedule.due(0.0) and not schedule.due(30.0)
    assert schedule.health_check_due(30.0) and not schedule.health_check_due(30.5)
    schedule.box_health("tamper")
    assert schedule.due(30.5) and not schedule.due(31.0)
    schedule.box_health("tamper")  # unchanged: no extra status
    assert not schedule.due(32.0)
    schedule.now_please()
    assert schedule.due(32.0) and schedule.due(92.0)
