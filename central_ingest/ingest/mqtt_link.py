"""One region's broker as the ingest worker holds it: its own paho client, network thread,
persistent session and shared subscription.

A link that loses its broker keeps reconnecting on its own thread with a doubling wait, while
the other regions' links go on delivering; what arrives on a link is acknowledged and receipted
on that same link, because a packet id means something only on the connection that carried it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from central_ingest.config import MqttBroker, MqttSettings
from contract import ingest_subscriptions

log = logging.getLogger(__name__)

RECEIVE_MAXIMUM = 4000


@dataclass(frozen=True)
class Delivery:
    """A message as received on one link, in one of that link's connections."""

    link: BrokerLink
    generation: int
    mid: int
    qos: int
    topic: str
    payload: bytes


class BrokerLink:
    def __init__(
        self,
        broker: MqttBroker,
        settings: MqttSettings,
        deliver: Callable[[Delivery], None],
        on_change: Callable[[], None],
    ) -> None:
        self.region = broker.region
        self._broker = broker
        self._settings = settings
        self._deliver = deliver
        self._on_change = on_change
        self._stopping = threading.Event()
        # Guards the connection generation: an acknowledgement is sent only if the connection
        # that carried the message is still the current one.
        self._lock = threading.Lock()
        self._generation = 0
        self._subscribed = False
        self._unreachable_logged = False
        self.client_id = settings.client_id_for(broker)
        self._client = self._make_client()

    @property
    def subscribed(self) -> bool:
        """Connected and holding the shared subscription: messages of this region flow."""
        return self._subscribed

    def describe(self) -> str:
        return f"{self.region} ({self._broker.host}:{self._broker.port})"

    def _make_client(self) -> mqtt.Client:
        broker = self._broker
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if broker.ca_file is not None:
            client.tls_set(
                ca_certs=str(broker.ca_file),
                certfile=str(broker.cert_file) if broker.cert_file else None,
                keyfile=str(broker.key_file) if broker.key_file else None,
            )
        if broker.username is not None:
            client.username_pw_set(broker.username)
        client.reconnect_delay_set(
            min_delay=self._settings.reconnect_min_s, max_delay=self._settings.reconnect_max_s
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def start(self) -> None:
        """Connect in the background: a broker that is down now is retried until it answers."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self._settings.session_expiry_s
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        self._client.connect_async(
            self._broker.host,
            self._broker.port,
            keepalive=30,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()

    def stop(self) -> None:
        """Leave the broker; what is unacknowledged stays queued in the persistent session."""
        self._stopping.set()
        self._client.disconnect()
        self._client.loop_stop()
        self._subscribed = False

    def ack(self, delivery: Delivery) -> None:
        with self._lock:
            if delivery.generation == self._generation and delivery.qos > 0:
                self._client.ack(delivery.mid, delivery.qos)

    def publish(self, topic: str, payload: bytes) -> None:
        """QoS 1: while the broker is away paho keeps it and sends it after the reconnection."""
        self._client.publish(topic, payload, qos=1)

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.error(
                "the broker of region %s refused the ingest connection: %s",
                self.region,
                reason_code,
            )
            return
        self._unreachable_logged = False
        with self._lock:
            # A new connection invalidates the packet ids of everything received before it.
            self._generation += 1
        client.subscribe([(topic, 1) for topic in ingest_subscriptions()])
        log.info(
            "ingest connected to region %s as %s (session present: %s)",
            self.region,
            self.client_id,
            flags.session_present,
        )

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
            log.error(
                "the broker of region %s refused the ingest subscriptions: %s", self.region, refused
            )
            return
        self._subscribed = True
        log.info(
            "ingest subscribed to %s in region %s", ", ".join(ingest_subscriptions()), self.region
        )
        self._on_change()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        was_subscribed, self._subscribed = self._subscribed, False
        if self._stopping.is_set():
            return
        log.warning(
            "ingest lost the broker of region %s (%s); reconnecting every %d-%d s",
            self.region,
            reason_code,
            self._settings.reconnect_min_s,
            self._settings.reconnect_max_s,
        )
        if was_subscribed:
            self._on_change()

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        # Once per outage: the retries go on every reconnect_max_s at most, for hours maybe.
        if not self._unreachable_logged and not self._stopping.is_set():
            self._unreachable_logged = True
            log.warning(
                "ingest cannot reach the broker of region %s at %s:%d; retrying",
                self.region,
                self._broker.host,
                self._broker.port,
            )

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._deliver(
            Delivery(
                self,
                self._generation,
                message.mid,
                message.qos,
                message.topic,
                bytes(message.payload),
            )
        )
