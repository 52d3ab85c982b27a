"""How a queued notification leaves the registry: the sender protocol and the file sender.

A real deployment plugs in the SMS gateway and the mail relay as further ``NotificationSender``
implementations; ``FileSender`` writes each delivered message as one JSON line, for tests, the
demo, and as an audit trail of what would have been sent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

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


class DeliveryError(Exception):
    """A message that did not go out. ``retryable`` says whether trying later may succeed
    (gateway down, timeout) or never will (number unknown to the operator, address refused)."""

    code = "delivery_failed"

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class NotificationSender(Protocol):
    def send(self, notification: Notification) -> None:
        """Deliver the message or raise DeliveryError. Returning means the message was
        accepted by the channel."""
        ...


class FileSender(NotificationSender):
    """Appends one JSON line per delivered message and syncs it to disk before returning.

    Each line is written by a single ``write`` on a file opened for appending, so several
    workers, in threads or processes, can share one file without tearing lines.
    """

    def __init__(self, path: Path, clock: Callable[[], datetime] = now_utc) -> None:
        self.path = path
        self._clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)

    def send(self, notification: Notification) -> None:
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
