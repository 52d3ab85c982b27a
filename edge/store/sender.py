"""The sender: drains the outbox to the registry and deletes a row only on the registry's receipt.

For each message: upload its evidence (idempotent HTTP PUT), publish the stored envelope over
MQTT 5 with QoS 1, wait for the registry's ``Receipt`` on the box's receipt topic. ``stored`` or
``duplicate`` deletes the row; ``retry`` uploads again and resends; ``rejected`` moves the row to
the dead-letter table and raises an alert. A broker's PUBACK is not a disk write, so it never
deletes anything; a PUBACK with a failure reason code (135: the ACL refuses the topic) is an
alert and a later retry. Whatever has no receipt after ``receipt_timeout_s`` is sent again: after
a restart or a broker crash the outbox, not paho's memory, is the truth.

Threads: paho's network loop runs in a thread of ours (``_network``), which reconnects with
exponential backoff and jitter; everything touching the outbox runs in ``_work``. Callbacks only
hand events over. Our lock is never held across ``client.publish()``, because ``on_publish``
takes it and may even run before ``publish()`` returns: such early acknowledgements are parked.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import ValidationError

from contract import DeviceKey, Receipt, ReceiptStatus, receipt_topic
from edge.store.backoff import Backoff
from edge.store.outbox import Outbox, PendingMessage
from edge.store.status import Health, sealed_offline_will, sealed_status, status_topic
from edge.store.uploader import EvidenceUploader

log = logging.getLogger(__name__)

_STATUS_TAG = "<device-status>"
HEALTH_CHECK_INTERVAL_S = 1.0
NO_MATCHING_SUBSCRIBERS = 16  # MQTT 5 PUBACK: accepted, but nobody was there to receive it


@dataclass(frozen=True)
class SenderSettings:
    device_id: str
    registry_url: str
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_username: str | None = None
    tls_ca_file: Path | None = None  # None: plain TCP (loopback, tests)
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    registry_ca_file: Path | None = None  # None: the system's trust store
    receipt_timeout_s: float = 30.0
    retry_delay_s: float = 2.0
    window: int = 1000
    batch_size: int = 200
    max_inflight: int = 100
    session_expiry_s: int = 7 * 24 * 3600
    keepalive_s: int = 30
    status_interval_s: float = 60.0
    reconnect_base_s: float = 0.5
    reconnect_cap_s: float = 30.0
    refusal_retry_base_s: float = 1.0
    refusal_retry_cap_s: float = 60.0


@dataclass(frozen=True)
class _Acked:
    message_id: str
    reason_code: ReasonCode


@dataclass(frozen=True)
class _ReceiptArrived:
    receipt: Receipt


class _Connected:
    pass


_Event = _Acked | _ReceiptArrived | _Connected


@dataclass
class SenderCounters:
    published: int = 0
    delivered: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    broker_refusals: int = 0


class Sender:
    def __init__(
        self,
        outbox: Outbox,
        key: DeviceKey,
        settings: SenderSettings,
        health: Callable[[], Health] = Health,
    ) -> None:
        self._outbox = outbox
        self._key = key
        self._settings = settings
        self._health = health
        self._uploader = EvidenceUploader(
            settings.registry_url, settings.device_id, key, ca_file=settings.registry_ca_file
        )
        self.counters = SenderCounters()
        self._events: queue.SimpleQueue[_Event] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._lock = threading.Lock()  # guards the two mid maps and the alerts only
        self._mid_to_message: dict[int, str] = {}
        self._early_acks: dict[int, ReasonCode] = {}
        self._alerts: dict[str, str] = {}
        # Owned by the worker thread.
        self._awaiting: dict[str, float] = {}  # message id -> when it was (last) published
        self._last_receipt = 0.0
        self._retry_at: dict[str, float] = {}
        self._cursor = 0
        self._next_status_at = 0.0
        self._next_health_check_at = 0.0
        self._last_box_health: Health | None = None
        self._upload_ahead_at = 0.0
        self._refusal_backoff = Backoff(settings.refusal_retry_base_s, settings.refusal_retry_cap_s)
        self._upload_backoff = Backoff(base_s=1.0, cap_s=60.0)
        self._no_subscriber_backoff = Backoff(base_s=0.2, cap_s=5.0)
        self._client = self._make_client()
        self._threads = [
            threading.Thread(target=self._network, name="sender-mqtt", daemon=True),
            threading.Thread(target=self._work, name="sender-outbox", daemon=True),
        ]

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> Sender:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop sending and say goodbye (retained offline status). Unacknowledged rows stay in
        the outbox for the next start."""
        self._stop.set()
        self._threads[1].join(timeout=30)
        if self._connected.is_set():
            info = self._client.publish(
                status_topic(self._settings.device_id),
                sealed_status(self._settings.device_id, self._key, self.health(), online=False),
                qos=1,
                retain=True,
            )
            info.wait_for_publish(timeout=5)
            self._client.disconnect()
        self._threads[0].join(timeout=10)
        self._uploader.close()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def alerts(self) -> dict[str, str]:
        with self._lock:
            return dict(self._alerts)

    def _alert(self, name: str, text: str | None) -> None:
        with self._lock:
            changed = self._alerts.get(name) != text
            if text is None:
                self._alerts.pop(name, None)
            else:
                self._alerts[name] = text
        if changed and text is not None:
            log.error("ALERT %s: %s", name, text)
        if changed:
            self._next_status_at = 0.0

    def health(self) -> Health:
        box = self._health()
        return replace(
            box,
            disk_free_pct=self._outbox.files.free_percent(),
            queue_depth=self._outbox.depth(),
            dead_letters=len(self._outbox.dead_letters()),
            evictions=self._outbox.eviction_count(),
            alerts=box.alerts
            + tuple(self.alerts.values())
            + tuple(self._outbox.stored_alerts().values()),
        )

    # --- MQTT connection ---------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self._settings.device_id,
            protocol=mqtt.MQTTv5,
        )
        if self._settings.mqtt_username is not None:
            client.username_pw_set(self._settings.mqtt_username)
        if self._settings.tls_ca_file is not None:
            client.tls_set(
                ca_certs=str(self._settings.tls_ca_file),
                certfile=_optional_str(self._settings.tls_cert_file),
                keyfile=_optional_str(self._settings.tls_key_file),
            )
        client.max_inflight_messages_set(self._settings.max_inflight)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def _network(self) -> None:
        backoff = Backoff(self._settings.reconnect_base_s, self._settings.reconnect_cap_s)
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self._settings.session_expiry_s
        first = True
        while not self._stop.is_set() or self._connected.is_set():
            # A fresh will each time: it carries the time of this connection.
            self._client.will_set(
                status_topic(self._settings.device_id),
                sealed_offline_will(self._settings.device_id, self._key),
                qos=1,
                retain=True,
            )
            try:
                if first:
                    self._client.connect(
                        self._settings.mqtt_host,
                        self._settings.mqtt_port,
                        keepalive=self._settings.keepalive_s,
                        clean_start=False,
                        properties=properties,
                    )
                    first = False
                else:
                    self._client.reconnect()
            except OSError as exc:
                first = False  # connect() stored host, port and session options before failing
                delay = backoff.next_delay()
                log.warning("broker unreachable (%s); next attempt in %.1f s", exc, delay)
                self._stop.wait(delay)
                if self._stop.is_set():
                    return
                continue
            while True:
                rc = self._client.loop(timeout=0.1)
                if rc is not MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
                if self._stop.is_set() and not self._connected.is_set():
                    self._client.disconnect()
                    return
                if self._connected.is_set():
                    backoff.reset()
            self._connected.clear()
            if self._stop.is_set():
                return
            delay = backoff.next_delay()
            log.warning("lost the broker (%s); reconnecting in %.1f s", rc, delay)
            self._stop.wait(delay)

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._alert("mqtt_connect", f"the broker refused the connection: {reason_code}")
            return
        self._alert("mqtt_connect", None)
        # Subscribe on every connect: a broker that lost our session must learn it again.
        client.subscribe(receipt_topic(self._settings.device_id), qos=1)
        self._connected.set()
        self._events.put(_Connected())

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._connected.clear()

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._lock:
            message_id = self._mid_to_message.pop(mid, None)
            if message_id is None:
                self._early_acks[mid] = reason_code  # publish() has not returned yet
                return
            # A plain success changes nothing (only the receipt deletes): skip the event,
            # unless it ends a refusal alert.
            quiet = (
                not reason_code.is_failure
                and reason_code.value != NO_MATCHING_SUBSCRIBERS
                and "broker_refused" not in self._alerts
            )
        if not quiet:
            self._events.put(_Acked(message_id, reason_code))

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            receipt = Receipt.model_validate_json(message.payload)
        except ValidationError as exc:
            log.warning("ignored a malformed receipt on %s: %s", message.topic, exc)
            return
        self._events.put(_ReceiptArrived(receipt))

    def _publish(self, topic: str, payload: bytes, tag: str, *, retain: bool = False) -> None:
        info = self._client.publish(topic, payload, qos=1, retain=retain)  # no lock held here
        with self._lock:
            early = self._early_acks.pop(info.mid, None)
            if early is None:
                self._mid_to_message[info.mid] = tag
        if early is not None:
            self._events.put(_Acked(tag, early))

    # --- outbox work ---------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                self._handle_events()
                if self._connected.is_set():
                    self._send_due()
                    self._publish_status_if_due()
                elif time.monotonic() >= self._upload_ahead_at:
                    self._upload_ahead()
            except (OSError, httpx.HTTPError) as exc:
                log.warning("sending paused: %s", exc)
                self._stop.wait(1.0)
            except Exception:
                log.exception("the sender failed a round; it retries in a second")
                self._stop.wait(1.0)

    def _handle_events(self) -> None:
        try:
            events = [self._events.get(timeout=0.05)]
        except queue.Empty:
            return
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                break
        delivered: list[str] = []
        for event in events:
            if isinstance(event, _ReceiptArrived):
                delivered.extend(self._apply_receipt(event.receipt))
            elif isinstance(event, _Acked):
                self._apply_puback(event)
            else:
                self._next_status_at = 0.0  # (re)connected: say so at once
        if delivered:
            self.counters.delivered += self._outbox.delivered(delivered)

    def _apply_receipt(self, receipt: Receipt) -> list[str]:
        delivered: list[str] = []
        retry: list[str] = []
        now = self._last_receipt = time.monotonic()
        for entry in receipt.entries:
            message_id = str(entry.message_id)
            self._awaiting.pop(message_id, None)
            self._retry_at.pop(message_id, None)
            if entry.status in (ReceiptStatus.STORED, ReceiptStatus.DUPLICATE):
                delivered.append(message_id)
                self.counters.duplicates += entry.status is ReceiptStatus.DUPLICATE
            elif entry.status is ReceiptStatus.RETRY:
                retry.append(message_id)
                self._retry_at[message_id] = now + self._settings.retry_delay_s
            else:
                self._reject(message_id, entry.reason or "rejected", None)
        if retry:
            log.info("the registry asks to resend %d message(s)", len(retry))
            self._outbox.forget_uploads_of(retry)
        return delivered

    def _reject(self, message_id: str, reason: str, detail: str | None) -> None:
        if self._outbox.dead_letter(message_id, reason, detail):
            self.counters.dead_lettered += 1
            self._alert(
                "dead_letter",
                f"the registry refused fixation {message_id} ({reason}); kept in dead letters",
            )

    def _apply_puback(self, event: _Acked) -> None:
        code = event.reason_code
        if code.value == NO_MATCHING_SUBSCRIBERS and event.message_id != _STATUS_TAG:
            # The broker dropped it: no registry ingest is subscribed (yet). Resend soon rather
            # than after a silent receipt timeout.
            if self._awaiting.pop(event.message_id, None) is not None:
                self._retry_at[event.message_id] = (
                    time.monotonic() + self._no_subscriber_backoff.next_delay()
                )
            return
        if not code.is_failure:
            self._no_subscriber_backoff.reset()
            self._refusal_backoff.reset()
            if event.message_id != _STATUS_TAG:
                self._alert("broker_refused", None)
            return
        self.counters.broker_refusals += 1
        self._alert(
            "broker_refused",
            f"the broker refused a publish: {code.getName()} ({code.value}); check the ACL",
        )
        if self._awaiting.pop(event.message_id, None) is not None:
            self._retry_at[event.message_id] = time.monotonic() + self._refusal_backoff.next_delay()

    def _send_due(self) -> None:
        now = time.monotonic()
        # Silence, not age, makes a message overdue: while receipts keep coming the registry is
        # just slow, and resending would pile duplicates onto it. A message the broker lost is
        # resent once the window fills with such messages and receipts stop.
        quiet_since = now - self._settings.receipt_timeout_s
        due = [
            m for m, sent in self._awaiting.items() if max(sent, self._last_receipt) <= quiet_since
        ]
        due += [m for m, not_before in self._retry_at.items() if not_before <= now]
        batch: list[PendingMessage] = []
        for start in range(0, len(due), 500):
            chunk = due[start : start + 500]
            found = self._outbox.pending_by_id(chunk)
            batch.extend(found)
            for gone in set(chunk) - {message.message_id for message in found}:
                self._awaiting.pop(gone, None)
                self._retry_at.pop(gone, None)
        room = self._settings.window - len(self._awaiting) - len(self._retry_at) + len(batch)
        if room > 0:
            fresh = self._outbox.pending_after(self._cursor, min(room, self._settings.batch_size))
            if fresh:
                self._cursor = fresh[-1].id
            batch.extend(fresh)
        if not batch:
            return
        ready = self._upload_evidence(batch)
        sent_at = time.monotonic()
        for message in ready:
            if not self._connected.is_set():
                self._retry_at[message.message_id] = now
                continue
            self._retry_at.pop(message.message_id, None)
            self._awaiting[message.message_id] = sent_at
            self._publish(message.topic, message.envelope, message.message_id)
            self.counters.published += 1

    def _upload_evidence(self, batch: Sequence[PendingMessage]) -> list[PendingMessage]:
        """Upload what the batch still lacks; returns the messages whose evidence is all at the
        registry. The others are dead-lettered (file refused) or retried later (link down)."""
        needed = self._outbox.files_to_upload([message.message_id for message in batch])
        if not needed:
            return list(batch)
        outcome: dict[str, bool | str] = {}  # sha256 -> True uploaded, False retry, str refused
        for files in needed.values():
            for sha256, path in files:
                if sha256 in outcome:
                    continue
                if any(value is False for value in outcome.values()):
                    outcome[sha256] = False  # the link is down: do not hammer it
                    continue
                try:
                    refused = self._uploader.upload(sha256, path)
                except FileNotFoundError:
                    outcome[sha256] = "evidence_file_missing"
                    continue
                except (OSError, httpx.HTTPError) as exc:
                    log.warning("evidence upload failed, will retry: %s", exc)
                    outcome[sha256] = False
                    continue
                outcome[sha256] = True if refused is None else refused.reason
        self._outbox.mark_uploaded([sha for sha, value in outcome.items() if value is True])
        if all(value is True for value in outcome.values()):
            self._upload_backoff.reset()
            self._alert("evidence_upload", None)
        ready: list[PendingMessage] = []
        retry_at: float | None = None
        for message in batch:
            states = [outcome[sha] for sha, _ in needed.get(message.message_id, [])]
            reason = next((state for state in states if isinstance(state, str)), None)
            if reason is not None:
                self._awaiting.pop(message.message_id, None)
                self._retry_at.pop(message.message_id, None)
                self._reject(message.message_id, reason, "an evidence file was refused")
            elif all(state is True for state in states):
                ready.append(message)
            else:
                if retry_at is None:
                    retry_at = time.monotonic() + self._upload_backoff.next_delay()
                self._awaiting.pop(message.message_id, None)
                self._retry_at[message.message_id] = retry_at
                self._alert("evidence_upload", "evidence uploads to the registry are failing")
        return ready

    def _upload_ahead(self) -> None:
        """While the broker is out of reach, the registry's HTTP side may not be: upload the
        evidence of queued messages now, so the backlog drains faster once MQTT is back."""
        files = self._outbox.files_never_uploaded(limit=50)
        if not files:
            self._upload_ahead_at = time.monotonic() + 1.0
            return
        uploaded: list[str] = []
        try:
            for sha256, path in files:
                if self._uploader.upload(sha256, path) is not None:
                    # Refused for good: the send path dead-letters its fixation once MQTT is up.
                    self._upload_ahead_at = time.monotonic() + 60.0
                    break
                uploaded.append(sha256)
        except (OSError, httpx.HTTPError) as exc:
            self._upload_ahead_at = time.monotonic() + self._upload_backoff.next_delay()
            log.info("evidence upload ahead of MQTT failed (%s); will retry", exc)
        finally:
            self._outbox.mark_uploaded(uploaded)

    def _publish_status_if_due(self) -> None:
        """Every ``status_interval_s``, and at once when the box's own health changes (a
        tamper switch must not wait for the next interval)."""
        now = time.monotonic()
        if now >= self._next_health_check_at:
            self._next_health_check_at = now + HEALTH_CHECK_INTERVAL_S
            box = self._health()
            if box != self._last_box_health:
                self._last_box_health = box
                self._next_status_at = 0.0
        if now < self._next_status_at:
            return
        self._next_status_at = now + self._settings.status_interval_s
        payload = sealed_status(self._settings.device_id, self._key, self.health(), online=True)
        self._publish(status_topic(self._settings.device_id), payload, _STATUS_TAG, retain=True)


def _optional_str(path: Path | None) -> str | None:
    return None if path is None else str(path)
