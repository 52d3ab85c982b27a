"""A roadside protocol over MQTT: the terminal publishes it on its own topic, a real ingest
worker process checks it against the officers' CA and CRL in the registry's data directory,
opens its case and sends the receipt; a revoked officer's protocol gets a rejected receipt with
the reason."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from central_ingest.core import fines
from contract import MessageKind, device_topic, encode_envelope, now_utc, receipt_topic
from tests.support.broker import MosquittoBroker
from tests.support.registry_fixtures import RegistryWorld
from tests.support.roadside_registry import RoadsideDesk
from tests.support.workers import IngestWorkerProcess


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[RoadsideDesk]:
    # The worker process reads the real clock: the CRL and the protocols are of today.
    world = RegistryWorld.create(tmp_path)
    world.clock.set(now_utc())
    desk = RoadsideDesk.create(world, tmp_path)
    yield desk
    desk.close()
    world.store.close()


def test_protocols_over_mqtt_are_checked_stored_and_receipted(
    broker: MosquittoBroker, desk: RoadsideDesk
) -> None:
    world = desk.world
    officer = desk.officer()
    block = desk.block(size=2)
    fine = fines.fine_minor(5, world.config.mrp_on(fines.offence_day(desk.now)))
    good = desk.sign(desk.protocol(officer, block.number(block.first), amount_minor=fine), officer)
    revoked_officer = desk.officer(username="daniyar")
    desk.publish(revoked=(revoked_officer.certificate,))
    bad = desk.sign(
        desk.protocol(revoked_officer, block.number(block.last), amount_minor=fine),
        revoked_officer,
    )

    receipts: list[dict[str, object]] = []
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

    def on_message(_: mqtt.Client, __: object, message: mqtt.MQTTMessage) -> None:
        receipts.extend(json.loads(message.payload)["entries"])
        if len(receipts) >= 2:
            done.set()

    client.on_message = on_message
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.subscribe(receipt_topic(world.terminal_id), qos=1)
    worker = IngestWorkerProcess(world.config.data_dir, broker.port, "ingest-roadside")
    try:
        topic = device_topic(world.terminal_id, MessageKind.ROADSIDE_PROTOCOL)
        for envelope in (good, bad):
            client.publish(topic, encode_envelope(envelope), qos=1).wait_for_publish(10)
        assert done.wait(30), f"receipts: {receipts}"
    finally:
        worker.stop()
        client.loop_stop()
        client.disconnect()

    by_id = {entry["message_id"]: entry for entry in receipts}
    assert by_id[str(good.message_id)] == {
        "message_id": str(good.message_id),
        "status": "stored",
        "reason": None,
    }
    assert by_id[str(bad.message_id)]["status"] == "rejected"
    assert by_id[str(bad.message_id)]["reason"] == "certificate_revoked"
    assert world.registry.case(block.number(block.first)).resolved_by == "aigerim"
    assert desk.dead_letter(str(bad.message_id))["reason"] == "certificate_revoked"
