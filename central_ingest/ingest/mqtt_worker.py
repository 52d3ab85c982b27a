"""MQTT 5 ingest worker: shared subscription, persistent session, acknowledgement after commit.

Messages are acknowledged (PUBACK) only after the batch holding them has been committed, so a
crash between receipt and commit makes the broker deliver them again; the service drops the
resulting duplicates. Several workers may run side by side: the broker splits the shared
subscription between them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from central_ingest.config import MqttSettings
from central_ingest.ingest.service import Incoming, IngestService, Outcome
from contract import Receipt, ReceiptEntry, canonical_json, ingest_subscriptions, receipt_topic
from contract.wire import now_utc

log = logging.getLogger(__name__)

RECEIVE_MAXIMUM = 4000


@dataclass(frozen=True)
class _Delivery:
    generation: int
    mid: int
    qos: int
    topic: str
    payload: bytes


class MqttIngestWorker:
    def __init__(self, service: IngestService, settings: MqttSettings) -> None:
        self._service = service
        self._settings = settings
        self._deliveries: queue.Queue[_Delivery] = queue.Queue()
        self._stop = threading.Event()
        self._generation = 0
        self._thread = threading.Thread(target=self._run, name="ingest-batcher", daemon=True)
        self._client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        settings = self._settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if settings.ca_file is not None:
            client.tls_set(
                ca_certs=str(settings.ca_file),
                certfile=str(settings.cert_file) if settings.cert_file else None,
                keyfile=str(settings.key_file) if settings.key_file else None,
            )
        if settings.username is not None:
            client.username_pw_set(settings.username)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self._settings.session_expiry_s
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        self._client.connect_async(
            self._settings.host,
            self._settings.port,
            keepalive=30,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()
        self._thread.start()

    def stop(self) -> None:
        """Finish the batch in hand, then disconnect; what is unacknowledged stays queued at
        the broker for the next start (persistent session)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.error("the broker refused the ingest connection: %s", reason_code)
            return
        # A new connection invalidates the packet ids of everything received before it.
        self._generation += 1
        client.subscribe([(topic, 1) for topic in ingest_subscriptions()])
        log.info("ingest connected (session present: %s)", flags.session_present)

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            log.error("the broker refused the ingest subscriptions: %s", refused)
            return
        log.info("ingest subscribed to %s", ", ".join(ingest_subscriptions()))

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if not self._stop.is_set():
            log.warning("ingest lost the broker (%s); reconnecting", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._deliveries.put(
            _Delivery(
                self._generation, message.mid, message.qos, message.topic, bytes(message.payload)
            )
        )

    def _next_batch(self) -> list[_Delivery]:
        try:
            first = self._deliveries.get(timeout=0.2)
        except queue.Empty:
            return []
        # Let the batch gather by sleeping once, not by waking for every message that arrives:
        # at a steady rate, per-message wake-ups cost more than the work they wait for.
        if self._deliveries.qsize() < self._settings.batch_size - 1:
            self._stop.wait(self._settings.batch_wait_ms / 1000)
        batch = [first]
        while len(batch) < self._settings.batch_size:
            try:
                batch.append(self._deliveries.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while not self._stop.is_set() or not self._deliveries.empty():
            batch = self._next_batch()
            if not batch:
                if self._stop.is_set():
                    return
                continue
            try:
                outcomes = self._service.process_batch(
                    [Incoming(d.payload, "mqtt", d.topic) for d in batch]
                )
            except Exception:
                # Nothing was committed and nothing is acknowledged: the broker redelivers.
                log.exception(
                    "an ingest batch of %d messages failed; it will be redelivered", len(batch)
                )
                time.sleep(1)
                continue
            generation = self._generation
            for delivery in batch:
                if delivery.generation == generation and delivery.qos > 0:
                    self._client.ack(delivery.mid, delivery.qos)
            self._send_receipts(outcomes)

    def _send_receipts(self, outcomes: list[Outcome]) -> None:
        per_device: dict[str, list[ReceiptEntry]] = defaultdict(list)
        for outcome in outcomes:
            if outcome.authenticated and outcome.device_id and outcome.message_id:
                per_device[outcome.device_id].append(
                    ReceiptEntry.model_validate(
                        {
                            "message_id": outcome.message_id,
                            "status": outcome.status,
                            "reason": outcome.reason,
                        }
                    )
                )
        issued_at = now_utc()
        for device_id, entries in per_device.items():
            receipt = Receipt(device_id=device_id, issued_at=issued_at, entries=entries)
            self._client.publish(
                receipt_topic(device_id), canonical_json(receipt.model_dump(mode="json")), qos=1
            )
