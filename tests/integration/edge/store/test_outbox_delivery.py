"""Store-and-forward end to end: a real outbox, the sender, a real Mosquitto broker and the real
registry process (HTTP evidence uploads + MQTT ingest). In every failure, each recorded
fixation ends up in the registry's fixations table exactly once and the outbox empties."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from contract import DeviceStatus, SignedEnvelope
from edge.store.status import status_topic
from tests.support.broker import MosquittoBroker
from tests.support.edge_box import (
    Box,
    RegistryServer,
    SenderProcess,
    assert_exactly_once,
    start_sender,
    wait_until,
)

DEVICE = "cam-astana-017"


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return Box(tmp_path / "box", DEVICE)


@pytest.fixture
def registry(tmp_path: Path, broker: MosquittoBroker, box: Box) -> Iterator[RegistryServer]:
    RegistryServer.provision(tmp_path / "registry", DEVICE, box.key)
    server = RegistryServer(tmp_path / "registry", broker.port)
    yield server
    server.stop()


def retained_status(port: int, device_id: str) -> DeviceStatus:
    """The retained status the broker holds for the box, as a fresh subscriber gets it."""
    got: list[bytes] = []
    arrived = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        got.append(bytes(message.payload))
        arrived.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.subscribe(status_topic(device_id), qos=1)
    client.loop_start()
    try:
        assert arrived.wait(10), "no retained status on the broker"
    finally:
        client.disconnect()
        client.loop_stop()
    envelope = SignedEnvelope.model_validate(json.loads(got[-1]))
    body = envelope.parsed_body()
    assert isinstance(body, DeviceStatus)
    return body


def test_sender_killed_mid_send_then_restarted(
    box: Box, registry: RegistryServer, broker: MosquittoBroker
) -> None:
    recorded = box.record(300)
    sender = SenderProcess(box, registry, broker.port)
    wait_until(lambda: len(registry.fixation_ids()) > 0, 30, "the first delivery")
    sender.stop(signal.SIGKILL)
    assert len(registry.fixation_ids()) < len(recorded), "the kill came too late to prove much"
    # The broker noticed the dead connection and published the box's last will (retained).
    wait_until(lambda: not retained_status(broker.port, DEVICE).online, 10, "the last will")

    restarted = SenderProcess(box, registry, broker.port)
    try:
        assert_exactly_once(registry, box, recorded)
        wait_until(lambda: retained_status(broker.port, DEVICE).online, 10, "online status")
    finally:
        restarted.stop()
    assert not retained_status(broker.port, DEVICE).online  # a clean stop says goodbye


def test_broker_killed_and_restarted_mid_drain(
    box: Box, registry: RegistryServer, broker: MosquittoBroker
) -> None:
    recorded = box.record(120)
    sender = start_sender(box, registry, broker.port)
    try:
        wait_until(lambda: len(registry.fixation_ids()) > 0, 30, "the first delivery")
        broker.kill()
        recorded += box.record(30)
        broker.start()
        assert_exactly_once(registry, box, recorded)
    finally:
        sender.stop()


def test_broker_outage_while_fixations_keep_coming(
    box: Box, registry: RegistryServer, broker: MosquittoBroker
) -> None:
    sender = start_sender(box, registry, broker.port, status_interval_s=0.2)
    try:
        recorded = box.record(20)
        assert_exactly_once(registry, box, recorded)
        broker.stop()
        wait_until(lambda: not sender.connected, 10, "the sender to notice the outage")
        recorded += box.record(60)
        assert box.outbox.depth() == 60
        # The registry's HTTP side is still up: evidence goes ahead while MQTT is out.
        wait_until(lambda: not box.outbox.files_never_uploaded(1), 20, "evidence uploads")
        assert box.outbox.depth() == 60
        broker.start()
        assert_exactly_once(registry, box, recorded)
        wait_until(
            lambda: retained_status(broker.port, DEVICE).queue_depth == 0, 10, "fresh status"
        )
        status = retained_status(broker.port, DEVICE)
        assert status.online and status.disk_free_pct is not None
        # The registry's ingest took the signed status too.
        wait_until(lambda: registry.device_status(DEVICE) is not None, 10, "status in registry")
        stored = registry.device_status(DEVICE)
        assert stored is not None and "queue_depth" in stored
    finally:
        sender.stop()
