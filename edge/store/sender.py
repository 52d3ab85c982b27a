"""The sender: drains the outbox to the registry and deletes a row only on the registry's receipt.

For each message: upload its evidence (idempotent HTTP PUT), publish the stored envelope over
MQTT 5 with QoS 1, wait for the registry's ``Receipt`` on the box's receipt topic. What each
receipt, PUBACK and upload outcome means is decided by the pure delivery policy
(``edge.store.delivery``); this module is its thin adapter to paho, HTTP, the outbox and threads.
Whatever has no receipt after ``receipt_timeout_s`` is sent again: after a restart or a broker
crash the outbox, not paho's memory, is the truth.

Threads: paho's network loop runs in a thread of ours (``_network``), which reconnects with
exponential backoff and jitter; everything touching the outbox and the policy runs in ``_work``.
Callbacks only hand events over. Our lock is never held across ``client.publish()``, because
``on_publish`` takes it and may even run before ``publish()`` returns: such early
acknowledgements are parked.
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

from contract import DeviceKey, Receipt, receipt_topic
from edge.store.backoff import Backoff
from edge.store.delivery import (
    STATUS_TAG,
    AlertChange,
    DeliveryPolicy,
    DeliverySettings,
    Puback,
    Rejection,
    SenderCounters,
    StatusSchedule,
    UploadState,
    link_down,
    puback_is_news,
)
from edge.store.outbox import Outbox, PendingMessage
from edge.store.status import Health, sealed_offline_will, sealed_status, status_topic
from edge.store.uploader import EvidenceUploader

log = logging.getLogger(__name__)

HEALTH_CHECK_INTERVAL_S = 1.0
_FETCH_CHUNK = 500  # message ids per outbox query


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

    def delivery(self) -> DeliverySettings:
        return DeliverySettings(
            receipt_timeout_s=self.receipt_timeout_s,
            retry_delay_s=self.retry_delay_s,
            window=self.window,
            batch_size=self.batch_size,
            refusal_retry_base_s=self.refusal_retry_base_s,
            refusal_retry_cap_s=self.refusal_retry_cap_s,
        )


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
        # Owned by the worker thread.
        self._policy = DeliveryPolicy(settings.delivery())
        self._status = StatusSchedule(settings.status_interval_s, HEALTH_CHECK_INTERVAL_S)
        self._upload_ahead_at = 0.0
        self.counters: SenderCounters = self._policy.counters
        self._events: queue.SimpleQueue[_Event] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._lock = threading.Lock()  # guards the two mid maps and the alerts only
        self._mid_to_message: dict[int, str] = {}
        self._early_acks: dict[int, ReasonCode] = {}
        self._alerts: dict[str, str] = {}
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

    # The policy's books, under the names the adapter's own tests poke
    # (tests/integration/edge/store/test_outbox.py).
    @property
    def _awaiting(self) -> dict[str, float]:
        return self._policy.awaiting

    @property
    def _retry_at(self) -> dict[str, float]:
        return self._policy.retry_at

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def alerts(self) -> dict[str, str]:
        with self._lock:
            return dict(self._alerts)

    def _alert(self, change: AlertChange) -> None:
        with self._lock:
            changed = self._alerts.get(change.name) != change.text
            if change.text is None:
                self._alerts.pop(change.name, None)
            else:
                self._alerts[change.name] = change.text
        if changed and change.text is not None:
            log.error("ALERT %s: %s", change.name, change.text)
        if changed:
            self._status.now_please()

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
            self._alert(
                AlertChange("mqtt_connect", f"the broker refused the connection: {reason_code}")
            )
            return
        self._alert(AlertChange("mqtt_connect", None))
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
            news = puback_is_news(reason_code.value, "broker_refused" in self._alerts)
        if news:
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
                decision = self._policy.on_receipt(event.receipt, time.monotonic())
                delivered.extend(decision.delivered)
                if decision.retry:
                    log.info("the registry asks to resend %d message(s)", len(decision.retry))
                    self._outbox.forget_uploads_of(decision.retry)
                self._dead_letter(decision.rejected)
            elif isinstance(event, _Acked):
                code = event.reason_code
                ack = Puback(event.message_id, code.value, code.getName())
                for change in self._policy.on_puback(ack, time.monotonic()):
                    self._alert(change)
            else:
                self._status.now_please()  # (re)connected: say so at once
        if delivered:
            self.counters.delivered += self._outbox.delivered(delivered)

    def _dead_letter(self, rejected: Sequence[Rejection]) -> None:
        for rejection in rejected:
            if self._outbox.dead_letter(rejection.message_id, rejection.reason, rejection.detail):
                self._alert(self._policy.dead_lettered(rejection))

    def _send_due(self) -> None:
        now = time.monotonic()
        due = self._policy.due(now)
        batch: list[PendingMessage] = []
        for start in range(0, len(due), _FETCH_CHUNK):
            chunk = due[start : start + _FETCH_CHUNK]
            found = self._outbox.pending_by_id(chunk)
            batch.extend(found)
            self._policy.forget(set(chunk) - {message.message_id for message in found})
        room = self._policy.room(resending=len(batch))
        if room > 0:
            fresh = self._outbox.pending_after(self._policy.cursor, room)
            if fresh:
                self._policy.fetched(fresh[-1].id)
            batch.extend(fresh)
        if not batch:
            return
        ready = self._upload_evidence(batch)
        sent_at = time.monotonic()
        for message in ready:
            if not self._connected.is_set():
                self._policy.not_published(message.message_id, now)
                continue
            self._policy.published(message.message_id, sent_at)
            self._publish(message.topic, message.envelope, message.message_id)

    def _upload_evidence(self, batch: Sequence[PendingMessage]) -> list[PendingMessage]:
        """Upload what the batch still lacks; returns the messages whose evidence is all at the
        registry. The others are dead-lettered (file refused) or retried later (link down)."""
        needed = self._outbox.files_to_upload([message.message_id for message in batch])
        if not needed:
            return list(batch)
        outcome: dict[str, UploadState] = {}
        for files in needed.values():
            for sha256, path in files:
                if sha256 in outcome:
                    continue
                if link_down(outcome):
                    outcome[sha256] = False
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
        decision = self._policy.after_uploads(
            [message.message_id for message in batch],
            {message_id: [sha for sha, _ in files] for message_id, files in needed.items()},
            outcome,
            time.monotonic(),
        )
        self._dead_letter(decision.rejected)
        for change in decision.alerts:
            self._alert(change)
        ready = set(decision.ready)
        return [message for message in batch if message.message_id in ready]

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
            self._upload_ahead_at = time.monotonic() + self._policy.upload_retry_delay()
            log.info("evidence upload ahead of MQTT failed (%s); will retry", exc)
        finally:
            self._outbox.mark_uploaded(uploaded)

    def _publish_status_if_due(self) -> None:
        now = time.monotonic()
        if self._status.health_check_due(now):
            self._status.box_health(self._health())
        if not self._status.due(now):
            return
        payload = sealed_status(self._settings.device_id, self._key, self.health(), online=True)
        self._publish(status_topic(self._settings.device_id), payload, STATUS_TAG, retain=True)


def _optional_str(path: Path | None) -> str | None:
    return None if path is None else str(path)
