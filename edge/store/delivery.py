"""The sender's delivery policy, pure: what to do with a receipt, a PUBACK, an upload outcome,
and which messages are due to be (re)sent. Time is passed in; no MQTT, no threads, no database.

The adapter (``edge.store.sender``) feeds it events and carries out its decisions: it deletes
the rows the policy calls delivered, dead-letters the ones it calls rejected, publishes the
ones it calls due. Rules, each with its reason:

- only the registry's receipt delivers (``stored`` or ``duplicate``): a broker's PUBACK is not
  a disk write at the registry;
- ``retry`` resends after ``retry_delay_s``, with the evidence uploaded again;
- ``rejected`` (and an evidence file the registry refuses) goes to the dead letters;
- a PUBACK with a failure code (135: the ACL refuses the topic) raises an alert and resends
  after a growing delay; "no matching subscribers" (16: no registry ingest subscribed yet)
  resends soon rather than after a silent receipt timeout;
- silence, not age, makes a message overdue: while receipts keep coming the registry is just
  slow, and resending would pile duplicates onto it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from contract import Receipt, ReceiptStatus
from edge.store.backoff import Backoff

STATUS_TAG = "<device-status>"
"""What the adapter tags its status publishes with, instead of a message id."""
NO_MATCHING_SUBSCRIBERS = 16  # MQTT 5 PUBACK: accepted, but nobody was there to receive it
FIRST_FAILURE_CODE = 0x80  # MQTT 5: reason codes from 128 up are failures

UploadState = bool | str
"""An evidence file's upload: True uploaded, False try later (link down), str refused (why)."""


@dataclass(frozen=True)
class DeliverySettings:
    receipt_timeout_s: float = 30.0
    retry_delay_s: float = 2.0
    window: int = 1000
    batch_size: int = 200
    refusal_retry_base_s: float = 1.0
    refusal_retry_cap_s: float = 60.0


@dataclass
class SenderCounters:
    published: int = 0
    delivered: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    broker_refusals: int = 0


@dataclass(frozen=True)
class AlertChange:
    """Raise (``text``) or clear (``text is None``) the sender's alert called ``name``."""

    name: str
    text: str | None


@dataclass(frozen=True)
class Rejection:
    message_id: str
    reason: str
    detail: str | None = None


@dataclass(frozen=True)
class ReceiptDecision:
    delivered: list[str]
    retry: list[str]  # their evidence must be uploaded again
    rejected: list[Rejection]


@dataclass(frozen=True)
class UploadDecision:
    ready: list[str]
    rejected: list[Rejection]
    alerts: list[AlertChange]


@dataclass(frozen=True)
class Puback:
    """A broker's PUBACK as the policy needs it: for which message, with which reason code."""

    message_id: str
    code: int
    name: str = ""

    @property
    def failure(self) -> bool:
        return self.code >= FIRST_FAILURE_CODE


def puback_is_news(code: int, refusal_alert_raised: bool) -> bool:
    """Whether a PUBACK needs the worker at all. A plain success changes nothing (only the
    receipt deletes), unless it ends a refusal alert."""
    return code >= FIRST_FAILURE_CODE or code == NO_MATCHING_SUBSCRIBERS or refusal_alert_raised


def dead_letter_alert(rejection: Rejection) -> AlertChange:
    return AlertChange(
        "dead_letter",
        f"the registry refused fixation {rejection.message_id} ({rejection.reason}); "
        "kept in dead letters",
    )


@dataclass
class DeliveryPolicy:
    """Which messages await a receipt, which are to be retried when, and the counters."""

    settings: DeliverySettings = field(default_factory=DeliverySettings)
    rng: random.Random = field(default_factory=random.Random)
    counters: SenderCounters = field(default_factory=SenderCounters)

    def __post_init__(self) -> None:
        self.awaiting: dict[str, float] = {}  # message id -> when it was (last) published
        self.retry_at: dict[str, float] = {}  # message id -> not before
        self.cursor = 0  # outbox row id of the newest message fetched
        self._last_receipt = 0.0
        self._refusal = Backoff(
            self.settings.refusal_retry_base_s, self.settings.refusal_retry_cap_s, rng=self.rng
        )
        self._upload = Backoff(base_s=1.0, cap_s=60.0, rng=self.rng)
        self._no_subscriber = Backoff(base_s=0.2, cap_s=5.0, rng=self.rng)

    # --- what arrives -----------------------------------------------------------------------

    def on_receipt(self, receipt: Receipt, now: float) -> ReceiptDecision:
        delivered: list[str] = []
        retry: list[str] = []
        rejected: list[Rejection] = []
        self._last_receipt = now
        for entry in receipt.entries:
            message_id = str(entry.message_id)
            self.forget([message_id])
            if entry.status in (ReceiptStatus.STORED, ReceiptStatus.DUPLICATE):
                delivered.append(message_id)
                self.counters.duplicates += entry.status is ReceiptStatus.DUPLICATE
            elif entry.status is ReceiptStatus.RETRY:
                retry.append(message_id)
                self.retry_at[message_id] = now + self.settings.retry_delay_s
            else:
                rejected.append(Rejection(message_id, entry.reason or "rejected"))
        return ReceiptDecision(delivered, retry, rejected)

    def on_puback(self, ack: Puback, now: float) -> list[AlertChange]:
        if ack.code == NO_MATCHING_SUBSCRIBERS and ack.message_id != STATUS_TAG:
            # The broker dropped it: no registry ingest is subscribed (yet).
            if self.awaiting.pop(ack.message_id, None) is not None:
                self.retry_at[ack.message_id] = now + self._no_subscriber.next_delay()
            return []
        if not ack.failure:
            self._no_subscriber.reset()
            self._refusal.reset()
            return [] if ack.message_id == STATUS_TAG else [AlertChange("broker_refused", None)]
        self.counters.broker_refusals += 1
        if self.awaiting.pop(ack.message_id, None) is not None:
            self.retry_at[ack.message_id] = now + self._refusal.next_delay()
        return [
            AlertChange(
                "broker_refused",
                f"the broker refused a publish: {ack.name} ({ack.code}); check the ACL",
            )
        ]

    def dead_lettered(self, rejection: Rejection) -> AlertChange:
        """The adapter moved ``rejection`` to the dead letters (it was not there yet)."""
        self.counters.dead_lettered += 1
        return dead_letter_alert(rejection)

    # --- what to send -----------------------------------------------------------------------

    def due(self, now: float) -> list[str]:
        """Messages to send again: silent past the receipt timeout, or whose retry time came.

        A message the broker lost is resent once the window fills with such messages and
        receipts stop."""
        quiet_since = now - self.settings.receipt_timeout_s
        overdue = [
            m for m, sent in self.awaiting.items() if max(sent, self._last_receipt) <= quiet_since
        ]
        return overdue + [m for m, not_before in self.retry_at.items() if not_before <= now]

    def forget(self, message_ids: Iterable[str]) -> None:
        """These are settled or gone from the outbox: stop tracking them."""
        for message_id in message_ids:
            self.awaiting.pop(message_id, None)
            self.retry_at.pop(message_id, None)

    def room(self, resending: int) -> int:
        """How many fresh messages may join a batch that resends ``resending`` tracked ones."""
        in_flight = len(self.awaiting) + len(self.retry_at) - resending
        return min(self.settings.window - in_flight, self.settings.batch_size)

    def fetched(self, last_row_id: int) -> None:
        self.cursor = last_row_id

    def published(self, message_id: str, now: float) -> None:
        self.retry_at.pop(message_id, None)
        self.awaiting[message_id] = now
        self.counters.published += 1

    def not_published(self, message_id: str, now: float) -> None:
        """The broker went away mid-batch: try again as soon as it is back."""
        self.retry_at[message_id] = now

    # --- evidence ---------------------------------------------------------------------------

    def after_uploads(
        self,
        batch: Sequence[str],
        needed: Mapping[str, Sequence[str]],
        outcome: Mapping[str, UploadState],
        now: float,
    ) -> UploadDecision:
        """``needed``: the files (sha256) each message still lacked; ``outcome``: what became
        of each. Ready messages go out; a refused file dead-letters its message; the rest
        wait for the link with a growing delay."""
        alerts: list[AlertChange] = []
        if all(value is True for value in outcome.values()):
            self._upload.reset()
            alerts.append(AlertChange("evidence_upload", None))
        ready: list[str] = []
        rejected: list[Rejection] = []
        retry_at: float | None = None
        for message_id in batch:
            states = [outcome[sha] for sha in needed.get(message_id, [])]
            reason = next((state for state in states if isinstance(state, str)), None)
            if reason is not None:
                self.forget([message_id])
                rejected.append(Rejection(message_id, reason, "an evidence file was refused"))
            elif all(state is True for state in states):
                ready.append(message_id)
            else:
                if retry_at is None:
                    retry_at = now + self._upload.next_delay()
                self.awaiting.pop(message_id, None)
                self.retry_at[message_id] = retry_at
                alerts.append(
                    AlertChange("evidence_upload", "evidence uploads to the registry are failing")
                )
        return UploadDecision(ready, rejected, alerts)

    def upload_retry_delay(self) -> float:
        return self._upload.next_delay()


def link_down(outcome: Mapping[str, UploadState]) -> bool:
    """An upload already failed for want of the link: do not hammer it with the rest."""
    return any(value is False for value in outcome.values())


@dataclass
class StatusSchedule:
    """When the box publishes its status: every ``interval_s``, and at once when the box's own
    health changes (a tamper switch must not wait), an alert changes or the broker is back."""

    interval_s: float
    health_check_interval_s: float = 1.0
    _next_at: float = 0.0
    _next_check_at: float = 0.0
    _last_health: object = None

    def now_please(self) -> None:
        self._next_at = 0.0

    def health_check_due(self, now: float) -> bool:
        if now < self._next_check_at:
            return False
        self._next_check_at = now + self.health_check_interval_s
        return True

    def box_health(self, health: object) -> None:
        if health != self._last_health:
            self._last_health = health
            self._next_at = 0.0

    def due(self, now: float) -> bool:
        if now < self._next_at:
            return False
        self._next_at = now + self.interval_s
        return True
