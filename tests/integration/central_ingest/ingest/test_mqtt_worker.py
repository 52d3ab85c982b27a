"""The MQTT ingest against a real Mosquitto broker and real worker processes: acknowledgement
only after commit, persistent sessions across restarts, shared subscriptions, receipts."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from central_ingest.config import RegistryConfig
from central_ingest.store.db import Store
from central_ingest.store.evidence import EvidenceStore
from central_ingest.wiring import open_registry_store
from contract import DeviceKind, EvidenceRole, MessageKind, device_topic, now_utc, receipt_topic
from tests.support.broker import MosquittoBroker
from tests.support.devices import SimulatedDevice, evidence_ref, speeding_fixation
from tests.support.evidence_images import evidence_jpeg
from tests.support.paths import REPOSITORY
from tests.support.workers import IngestWorkerProcess

ROOT = REPOSITORY


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[RegistryConfig, Store]]:
    config = RegistryConfig(data_dir=tmp_path / "registry")
    store = open_registry_store(config)
    yield config, store
    store.close()


@pytest.fixture
def camera(registry: tuple[RegistryConfig, Store]) -> SimulatedDevice:
    return SimulatedDevice("cam-almaty-042", DeviceKind.CAMERA).register(registry[1])


def publisher(port: int) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def publish_all(client: mqtt.Client, messages: list[tuple[str, bytes]]) -> None:
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(10)


def fixations(
    camera: SimulatedDevice, registry: tuple[RegistryConfig, Store], count: int
) -> list[tuple[str, bytes]]:
    config, store = registry
    frame = evidence_jpeg("frame", seed=11)
    ref = evidence_ref(EvidenceRole.FULL_FRAME, frame)
    EvidenceStore(store, config.evidence_dir, config.max_evidence_bytes).put(
        ref.sha256, frame, uploaded_by=camera.device_id, now=now_utc()
    )
    topic = device_topic(camera.device_id, MessageKind.FIXATION)
    return [
        (topic, camera.seal(MessageKind.FIXATION, speeding_fixation(camera, evidence=[ref])))
        for _ in range(count)
    ]


def stored(store: Store) -> int:
    return int(store.db.conn.execute("SELECT count(*) FROM fixations").fetchone()[0])


def eventually(check: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_fixation_over_mqtt_is_stored_and_receipted(
    broker: MosquittoBroker, registry: tuple[RegistryConfig, Store], camera: SimulatedDevice
) -> None:
    config, store = registry
    receipts: list[dict[str, object]] = []
    got_receipt = threading.Event()
    device = publisher(broker.port)

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        receipts.append(json.loads(message.payload))
        got_receipt.set()

    device.on_message = on_message
    device.subscribe(receipt_topic(camera.device_id), qos=1)
    worker = IngestWorkerProcess(config.data_dir, broker.port, "ingest-a")
    try:
        [(topic, payload)] = fixations(camera, registry, 1)
        publish_all(device, [(topic, payload)])
        assert got_receipt.wait(20), "no receipt from the registry"
    finally:
        worker.stop()
        device.loop_stop()
        device.disconnect()

    message_id = json.loads(payload)["message_id"]
    assert receipts[0]["entries"] == [
        {"message_id": message_id, "status": "stored", "reason": None}
    ]
    assert stored(store) == 1


def test_nothing_is_acknowledged_before_commit_and_a_killed_worker_loses_nothing(
    broker: MosquittoBroker, registry: tuple[RegistryConfig, Store], camera: SimulatedDevice
) -> None:
    config, store = registry
    messages = fixations(camera, registry, 50)
    worker = IngestWorkerProcess(config.data_dir, broker.port, "ingest-a")
    # Hold the database's write lock so the worker receives but cannot commit.
    blocker = sqlite3.connect(config.db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    device = publisher(broker.port)
    publish_all(device, messages)
    time.sleep(1.0)
    worker.stop(signal.SIGKILL)  # mid-batch, before any commit
    blocker.execute("ROLLBACK")
    blocker.close()
    assert stored(store) == 0

    restarted = IngestWorkerProcess(
        config.data_dir, broker.port, "ingest-a"
    )  # same session: gets the unacked ones
    try:
        assert eventually(lambda: stored(store) == 50)
    finally:
        restarted.stop()
        device.loop_stop()
        device.disconnect()
    assert stored(store) == 50


def test_messages_queued_while_ingest_is_down_survive_a_broker_restart(
    broker: MosquittoBroker, registry: tuple[RegistryConfig, Store], camera: SimulatedDevice
) -> None:
    config, store = registry
    first = IngestWorkerProcess(
        config.data_dir, broker.port, "ingest-a"
    )  # creates the persistent session
    first.stop()
    device = publisher(broker.port)
    publish_all(device, fixations(camera, registry, 120))
    device.loop_stop()
    device.disconnect()
    broker.stop()  # a clean stop writes the persistence file
    broker.start()

    worker = IngestWorkerProcess(config.data_dir, broker.port, "ingest-a")
    try:
        assert eventually(lambda: stored(store) == 120)
    finally:
        worker.stop()


def test_two_workers_share_the_subscription_and_store_each_message_once(
    broker: MosquittoBroker, registry: tuple[RegistryConfig, Store], camera: SimulatedDevice
) -> None:
    config, store = registry
    workers = [IngestWorkerProcess(config.data_dir, broker.port, f"ingest-{n}") for n in range(2)]
    device = publisher(broker.port)
    try:
        messages = fixations(camera, registry, 400)
        publish_all(device, messages + messages[:50])  # 50 duplicates too
        assert eventually(lambda: stored(store) == 400)
        time.sleep(0.5)
    finally:
        for worker in workers:
            worker.stop()
        device.loop_stop()
        device.disconnect()
    assert stored(store) == 400
    assert store.db.conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 0
