"""MQTT 5 ingest worker: shared subscriptions on one broker per region, persistent sessions,
acknowledgement after commit.

Messages are acknowledged (PUBACK) only after the batch holding them has been committed, so a
crash between receipt and commit makes the broker deliver them again; the service drops the
resulting duplicates. Several workers may run side by side: each broker splits its shared
subscription between them. Every region's broker has its own link (``mqtt_link``) and network
thread, all feeding one batching writer here, so a region whose broker is down holds up no
other region.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict

from central_ingest.config import MqttSettings
from central_ingest.ingest.mqtt_link import BrokerLink, Delivery
from central_ingest.ingest.service import Incoming, IngestService, Outcome
from central_ingest.store.errors import StoreUnavailable
from contract import Receipt, ReceiptEntry, canonical_json, receipt_topic
from contract.wire import now_utc

log = logging.getLogger(__name__)

# While the database is unreachable, the batch in hand is tried again after these pauses.
RETRY_FIRST_S = 0.2
RETRY_MAX_S = 5.0


class MqttIngestWorker:
    def __init__(self, service: IngestService, settings: MqttSettings) -> None:
        self._service = service
        self._settings = settings
        self._deliveries: queue.Queue[Delivery] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-batcher", daemon=True)
        self._status_lock = threading.Lock()
        self._last_status: dict[str, bool] | None = None
        self._links = [
            BrokerLink(broker, settings, self._deliveries.put, self._log_status)
            for broker in settings.broker_list()
        ]

    def start(self) -> None:
        for link in self._links:
            link.start()
        self._thread.start()

    def stop(self) -> None:
        """Finish the batch in hand, then disconnect; what is unacknowledged stays queued at
        each broker for the next start (persistent sessions)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        for link in self._links:
            link.stop()

    def regions(self) -> dict[str, bool]:
        """Each region's broker and whether its messages flow (connected and subscribed)."""
        return {link.region: link.subscribed for link in self._links}

    def brokers(self) -> list[str]:
        """``region (host:port)`` for each broker, in the configured order."""
        return [link.describe() for link in self._links]

    def _log_status(self) -> None:
        status = self.regions()
        with self._status_lock:
            if status == self._last_status:
                return
            self._last_status = status
        up = [region for region, flowing in status.items() if flowing]
        down = [region for region, flowing in status.items() if not flowing]
        log.info(
            "ingest regions connected: %s; not connected: %s",
            ", ".join(up) or "none",
            ", ".join(down) or "none",
        )

    def _next_batch(self) -> list[Delivery]:
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
                outcomes = self._process_until_stored(batch)
            except Exception:
                # Nothing was committed and nothing is acknowledged: the brokers redeliver.
                log.exception(
                    "an ingest batch of %d messages failed; it will be redelivered", len(batch)
                )
                time.sleep(1)
                continue
            for delivery in batch:
                delivery.link.ack(delivery)
            self._send_receipts(batch, outcomes)

    def _process_until_stored(self, batch: list[Delivery]) -> list[Outcome]:
        """The batch through the service, tried again while the database cannot be reached
        (a failover: the standby is being promoted). The brokers would redeliver these
        messages only once the link reconnects, so the batch in hand is kept, not dropped;
        the service stores a message once however often it is offered."""
        incoming = [Incoming(d.payload, "mqtt", d.topic, _source(d)) for d in batch]
        pause = RETRY_FIRST_S
        while True:
            try:
                return self._service.process_batch(incoming)
            except StoreUnavailable as exc:
                if self._stop.is_set():
                    raise
                log.warning(
                    "the registry database cannot be reached (%s); %d messages are held and"
                    " tried again in %.1f s",
                    exc,
                    len(batch),
                    pause,
                )
                time.sleep(pause)
                pause = min(pause * 2, RETRY_MAX_S)

    def _send_receipts(self, batch: list[Delivery], outcomes: list[Outcome]) -> None:
        """One receipt per device and link: a device hears back on the broker it sent to."""
        per_device: dict[tuple[BrokerLink, str], list[ReceiptEntry]] = defaultdict(list)
        for delivery, outcome in zip(batch, outcomes, strict=True):
            if outcome.authenticated and outcome.device_id and outcome.message_id:
                per_device[(delivery.link, outcome.device_id)].append(
                    ReceiptEntry.model_validate(
                        {
                            "message_id": outcome.message_id,
                            "status": outcome.status,
                            "reason": outcome.reason,
                        }
                    )
                )
        issued_at = now_utc()
        for (link, device_id), entries in per_device.items():
            receipt = Receipt(device_id=device_id, issued_at=issued_at, entries=entries)
            link.publish(receipt_topic(device_id), canonical_json(receipt.model_dump(mode="json")))


def _source(delivery: Delivery) -> str:
    """Whom to count a refusal against. The worker cannot tell which broker client published
    (MQTT does not pass the publisher's client id on) and cannot disconnect one: the broker
    does that (deploy/mosquitto/erap.conf: mutual TLS, per-device ACL, packet and connection
    limits). Under that ACL a certificate publishes only under its own id, so the topic's
    device id names the client; the region names the broker."""
    parts = delivery.topic.split("/")
    claimed = parts[2] if len(parts) > 2 else delivery.topic
    return f"mqtt:{delivery.link.region}:{claimed[:64]}"
