"""The production broker's own limits (deploy/mosquitto/erap.conf): a payload above the
registry's message size limit is refused by Mosquitto and never reaches the ingest, so junk
over MQTT cannot make the registry store large refusals (issue 18, finding 2)."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from contract import MessageKind, device_topic
from tests.integration.central_ingest.ingest.test_broker_tls import Client
from tests.integration.central_ingest.ingest.test_broker_tls import pki as pki
from tests.integration.central_ingest.ingest.test_broker_tls import (
    production_broker as production_broker,
)
from tests.support.broker import MosquittoBroker

REGISTRY_LIMIT = 64 * 1024


def _publish_with_mosquitto_pub(broker: MosquittoBroker, pki: Path, topic: str, body: Path) -> str:
    """Mosquitto's own C client, which reports the PUBACK's reason code as the broker sent it
    (paho takes 149 on a PUBACK for a protocol error and reconnects)."""
    clients = pki / "clients"
    done = subprocess.run(
        [
            "mosquitto_pub",
            "-h",
            "127.0.0.1",
            "-p",
            str(broker.port),
            "-V",
            "mqttv5",
            "-q",
            "1",
            "-d",
            "--cafile",
            str(pki / "ca" / "ca.crt"),
            "--cert",
            str(clients / "cam-astana-0001.crt"),
            "--key",
            str(clients / "cam-astana-0001.key"),
            "-t",
            topic,
            "-f",
            str(body),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout + done.stderr


def test_a_payload_over_the_registrys_limit_is_refused_by_the_broker_not_passed_on(
    production_broker: MosquittoBroker, pki: Path, tmp_path: Path
) -> None:
    clients = pki / "clients"
    ingest = Client(
        production_broker.port,
        pki / "ca" / "ca.crt",
        clients / "central-ingest-1.crt",
        clients / "central-ingest-1.key",
    )
    topic = device_topic("cam-astana-0001", MessageKind.FIXATION)
    try:
        assert ingest.connected.wait(10)
        subscribed = threading.Event()
        ingest.client.on_subscribe = lambda *args: subscribed.set()
        ingest.client.subscribe("$share/ingest/erap/v1/+/fixation", qos=1)
        assert subscribed.wait(10)
        too_large, within = tmp_path / "too-large", tmp_path / "within"
        too_large.write_bytes(b"x" * (REGISTRY_LIMIT + 4_000))
        within.write_bytes(b"x" * REGISTRY_LIMIT)

        refused = _publish_with_mosquitto_pub(production_broker, pki, topic, too_large)
        accepted = _publish_with_mosquitto_pub(production_broker, pki, topic, within)
        for _ in range(100):
            if ingest.received:
                break
            threading.Event().wait(0.05)

        assert "received PUBACK (Mid: 1, RC:149)" in refused  # packet too large
        assert "received PUBACK (Mid: 1, RC:0)" in accepted
        assert ingest.received == [topic]  # only the message within the limit came through
    finally:
        ingest.close()
