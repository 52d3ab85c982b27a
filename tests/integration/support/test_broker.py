from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties

from tests.support.broker import MosquittoBroker


def test_broker_round_trip_over_mqtt5(broker: MosquittoBroker) -> None:
    received = threading.Event()
    payloads: list[bytes] = []

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        payloads.append(message.payload)
        received.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.connect("127.0.0.1", broker.port)
    client.subscribe("probe/#", qos=1)
    client.loop_start()
    try:
        info = client.publish("probe/1", b"hello", qos=1, properties=Properties(3))
        info.wait_for_publish(5)
        assert received.wait(5)
        assert payloads == [b"hello"]
    finally:
        client.loop_stop()
        client.disconnect()
