"""E-mail notices through a real SMTP relay (aiosmtpd in its own process, tests/support/smtpd.py)
that requires STARTTLS with a certificate this test makes, and a sign-in over it: the case's
e-mail delivered by the worker, refused recipients failed at once, a busy relay retried."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from central_ingest.config import SmtpSettings
from central_ingest.notify.senders import DeliveryError, Notification
from central_ingest.notify.smtp import SmtpSender
from central_ingest.notify.worker import FIRST_RETRY_DELAY, deliver_due
from central_ingest.store.db import Store
from central_ingest.store.notifications import notices_of_case
from tests.support.notices import (
    RESOLUTION_AT,
    open_case,
    outbox_store,
    rows,
    with_case_links,
)
from tests.support.wire_servers import Server, running, throwaway_certificate

PASSWORD = "relay-password"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return throwaway_certificate(tmp_path_factory.mktemp("relay-tls"))


@pytest.fixture
def relay_factory(tmp_path: Path, certificate: tuple[Path, Path]) -> Iterator[Any]:
    contexts: list[Any] = []

    def start(*args: str) -> Server:
        cert, key = certificate
        context = running(
            "tests.support.smtpd",
            tmp_path / f"relay-{len(contexts)}.jsonl",
            "--cert",
            str(cert),
            "--key",
            str(key),
            "--password",
            PASSWORD,
            *args,
        )
        contexts.append(context)
        return context.__enter__()

    yield start
    for context in reversed(contexts):
        context.__exit__(None, None, None)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return outbox_store(tmp_path)


def sender_for(
    server: Server, certificate: tuple[Path, Path], *, password: str = PASSWORD
) -> SmtpSender:
    settings = SmtpSettings(
        host="localhost",
        port=server.port,
        from_address="noreply@erap.example.kz",
        username="erap",
        ca_file=certificate[0],
        timeout_s=5,
    )
    return SmtpSender(settings, password)


def received(server: Server) -> list[EmailMessage]:
    return [
        email.message_from_string(entry["raw"], policy=email.policy.default)  # type: ignore[misc]
        for entry in server.entries()
    ]


def test_the_case_email_is_delivered_over_starttls(
    store: Store, relay_factory: Any, certificate: tuple[Path, Path]
) -> None:
    relay = relay_factory()
    case = open_case(store, 1, phone=None, language=None)  # unknown language: kk then ru
    stats = deliver_due(store, sender_for(relay, certificate), RESOLUTION_AT)
    assert (stats.sent, stats.retried, stats.failed) == (1, 0, 0)

    (entry,) = relay.entries()
    assert entry["tls"] is True and entry["login"] == "erap"
    assert (entry["mail_from"], entry["rcpt_tos"]) == (
        "noreply@erap.example.kz",
        ["owner@example.kz"],
    )
    (message,) = received(relay)
    (row,) = rows(store)
    assert message.get_content_type() == "multipart/alternative"
    body = message.get_body(("plain",))
    assert body is not None
    # rows() shows the page's link by the case number it opens (tests/support/notices.py).
    assert with_case_links({**row, "body": body.get_content()})["body"] == row["body"]
    assert str(message["Subject"]) == row["subject"]
    assert message["Content-Language"] == "kk, ru"
    assert "Құрметті" in row["body"] and "Здравствуйте" in row["body"]
    (notice,) = notices_of_case(store.db, case["case_number"])
    assert (notice.state, notice.parts, notice.channel) == ("sent", 1, "email")
    stored_id = store.db.conn.execute(
        "SELECT provider, provider_message_id FROM notification_messages"
    ).fetchone()
    assert tuple(stored_id) == ("smtp", message["Message-ID"])


def test_a_refused_recipient_fails_at_once_with_the_relays_words(
    store: Store, relay_factory: Any, certificate: tuple[Path, Path]
) -> None:
    relay = relay_factory("--refuse-domain", "example.kz")
    case = open_case(store, 1, phone=None)
    stats = deliver_due(store, sender_for(relay, certificate), RESOLUTION_AT)
    assert (stats.sent, stats.failed) == (0, 1)
    (notice,) = notices_of_case(store.db, case["case_number"])
    assert notice.state == "failed"
    assert notice.reason is not None and "550 5.1.1" in notice.reason
    assert "owner@example.kz" in notice.reason
    assert relay.entries() == []


def test_a_busy_relay_is_retried_later(
    store: Store, relay_factory: Any, certificate: tuple[Path, Path]
) -> None:
    relay = relay_factory("--busy-first", "1")
    case = open_case(store, 1, phone=None)
    sender = sender_for(relay, certificate)
    first = deliver_due(store, sender, RESOLUTION_AT)
    assert (first.sent, first.retried) == (0, 1)
    (notice,) = notices_of_case(store.db, case["case_number"])
    assert notice.state == "queued" and notice.reason and "451 4.3.0" in notice.reason
    second = deliver_due(store, sender, RESOLUTION_AT + FIRST_RETRY_DELAY)
    assert second.sent == 1
    (notice,) = notices_of_case(store.db, case["case_number"])
    assert (notice.state, notice.attempts) == ("sent", 2)
    assert len(relay.entries()) == 1
    assert deliver_due(store, sender, RESOLUTION_AT + timedelta(hours=1)).claimed == 0


def test_a_wrong_password_or_an_untrusted_certificate_sends_nothing(
    relay_factory: Any, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    relay = relay_factory()
    notice = Notification(1, "KZ-GP-2026-0000001", "email", "owner@example.kz", "s", "b", "ru", 1)
    with pytest.raises(DeliveryError, match="refused the sign-in") as refused:
        sender_for(relay, certificate, password="wrong").send(notice)
    assert refused.value.retryable
    other, _ = throwaway_certificate(tmp_path)  # a relay impostor's certificate
    with pytest.raises(DeliveryError, match="certificate did not verify") as untrusted:
        sender_for(relay, (other, other)).send(notice)
    assert untrusted.value.retryable
    assert relay.entries() == []
