"""How a queued notification leaves the registry: the sender protocol and the file sender.

A deployment sends SMS over SMPP to the operator's SMSC (``notify.smpp``) and e-mail through the
agency's relay (``notify.smtp``), chosen by the configuration (``central_ingest.notice_senders``);
``FileSender`` writes each message as one JSON line instead, for tests, the demo, and as an
audit trail of what would have been sent; that file is the end of the line for the embedded
default, so a line written counts as the notice delivered (a hand-over to bailiffs needs the
resolution's notice delivered: store.bailiffs). A sender that learns what became of a message later
(the SMSC's delivery receipts) is also a ``ReceiptSource``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from central_ingest.core.clock import iso
from contract import now_utc

Channel = Literal["sms", "email"]


@dataclass(frozen=True, slots=True)
class Notification:
    """One message as the worker hands it to a sender. ``notification_id`` is stable across
    attempts, so a gateway that supports client message ids can drop a resend. ``language`` is
    the text's (``kk``, ``ru``, ``en``, ``kk,ru`` for a bilingual e-mail); an SMS gateway picks
    the encoding from the text itself (``central_ingest.core.sms``)."""

    notification_id: int
    case_number: str
    channel: Channel
    recipient: str
    subject: str | None
    body: str
    language: str
    attempt: int
    kind: str = "case_opened"
    """What the notice tells (store.notifications.NoticeKind)."""


class DeliveryError(Exception):
    """A message that did not go out. ``retryable`` says whether trying later may succeed
    (gateway down, timeout) or never will (number unknown to the operator, address refused)."""

    code = "delivery_failed"

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class Sent:
    """What a channel said when it accepted a message: who (``smpp``, ``smtp``) and the ids it
    gave it, one per SMS part in order (the e-mail's Message-ID), which receipts will quote."""

    provider: str
    message_ids: tuple[str, ...]
    delivered: bool = False
    """The acceptance is the delivery: nothing comes after it (the outbox file)."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """A final word from the channel on one message id: delivered or not, and why not.
    ``state`` is the SMSC's (DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN)."""

    provider: str
    message_id: str
    delivered: bool
    state: str
    error: str
    at: datetime
    text: str


class NotificationSender(Protocol):
    def send(self, notification: Notification) -> Sent | None:
        """Deliver the message or raise DeliveryError. Returning means the message was
        accepted by the channel; ``Sent`` names the ids its receipts will quote."""
        ...


@runtime_checkable
class ReceiptSource(Protocol):
    def take_receipts(self, wait_s: float) -> list[Receipt]:
        """The receipts that arrived since the last call, waiting up to ``wait_s`` seconds for
        the first one when there are none."""
        ...


class ChannelSender(NotificationSender, ReceiptSource):
    """Each channel through its own sender: SMS to the SMSC, e-mail to the relay; the receipts
    of every sender that has them."""

    def __init__(self, senders: dict[Channel, NotificationSender]) -> None:
        self._senders = senders

    def send(self, notification: Notification) -> Sent | None:
        try:
            sender = self._senders[notification.channel]
        except KeyError:
            raise DeliveryError(
                f"no sender is configured for {notification.channel}", retryable=True
            ) from None
        return sender.send(notification)

    def take_receipts(self, wait_s: float) -> list[Receipt]:
        sources = [s for s in self._senders.values() if isinstance(s, ReceiptSource)]
        if not sources:
            time.sleep(wait_s)
            return []
        receipts: list[Receipt] = []
        for index, source in enumerate(sources):
            # Only the first waits: a deployment has one SMSC, and e-mail has no receipts.
            receipts.extend(source.take_receipts(wait_s if index == 0 else 0.0))
        return receipts

    def close(self) -> None:
        for sender in self._senders.values():
            close = getattr(sender, "close", None)
            if close is not None:
                close()


class FileSender(NotificationSender):
    """Appends one JSON line per delivered message and syncs it to disk before returning.

    Each line is written by a single ``write`` on a file opened for appending, so several
    workers, in threads or processes, can share one file without tearing lines.
    """

    def __init__(self, path: Path, clock: Callable[[], datetime] = now_utc) -> None:
        self.path = path
        self._clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)

    def send(self, notification: Notification) -> Sent:
        line = {**asdict(notification), "delivered_at": iso(self._clock())}
        data = (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                written = os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise DeliveryError(f"could not write to {self.path}: {exc}", retryable=True) from exc
        if written != len(data):
            raise DeliveryError(
                f"only {written} of {len(data)} bytes reached {self.path} (disk full?)",
                retryable=True,
            )
        return Sent("file", (), delivered=True)
