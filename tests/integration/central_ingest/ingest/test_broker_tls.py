"""The production broker configuration (deploy/mosquitto), rendered onto a loopback port:
mutual TLS with our CA, the certificate's CN as user name, per-device ACLs visible to MQTT 5."""

from __future__ import annotations

import getpass
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from typer.testing import CliRunner

from central_ingest.cli import app
from central_ingest.config import MqttSettings, RegistryConfig
from central_ingest.ingest.mqtt_worker import MqttIngestWorker
from central_ingest.ingest.service import IngestService
from central_ingest.wiring import open_registry_store
from contract import DeviceKind, DeviceStatus, MessageKind, device_topic, encode_envelope, seal
from tests.support import paths
from tests.support.broker import MosquittoBroker, free_port
from tests.support.devices import SimulatedDevice

DEPLOY = paths.DEPLOY / "mosquitto"
runner = CliRunner()


def render_production_config(workdir: Path, port: int, pki: Path) -> str:
    """deploy/mosquitto/erap.conf with this test's port, certificate paths and folders."""
    text = (DEPLOY / "erap.conf").read_text()
    replacements = {
        "listener 8883": f"listener {port} 127.0.0.1",
        "/etc/mosquitto/erap/ca.crt": str(pki / "ca.crt"),
        "/etc/mosquitto/erap/broker.crt": str(pki / "broker.crt"),
        "/etc/mosquitto/erap/broker.key": str(pki / "broker.key"),
        "/etc/mosquitto/erap/acl": str(DEPLOY / "acl"),
        "persistence_location /var/lib/mosquitto/": f"persistence_location {workdir / 'data'}/",
        "log_dest syslog": f"log_dest file {workdir / 'mosquitto.log'}",
    }
    for production, here in replacements.items():
        assert production in text, f"erap.conf no longer contains {production!r}"
        text = text.replace(production, here)
    return f"user {getpass.getuser()}\n{text}"


def cli(*args: str) -> None:
    result = runner.invoke(app, ["pki", *args])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    cli("init-ca", "--ca-dir", str(folder / "ca"))
    cli(
        "issue",
        "broker",
        "--ca-dir",
        str(folder / "ca"),
        "--out",
        str(folder / "ca"),
        "--server-name",
        "127.0.0.1",
        "--server-name",
        "localhost",
    )
    for name in ("cam-astana-0001", "cam-astana-0002", "central-ingest-1"):
        cli("issue", name, "--ca-dir", str(folder / "ca"), "--out", str(folder / "clients"))
    cli("init-ca", "--ca-dir", str(folder / "rogue"), "--name", "Somebody else")
    cli(
        "issue",
        "cam-astana-0001",
        "--ca-dir",
        str(folder / "rogue"),
        "--out",
        str(folder / "rogue-clients"),
    )
    return folder


@pytest.fixture(scope="module")
def production_broker(
    pki: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MosquittoBroker]:
    workdir = tmp_path_factory.mktemp("broker")
    port = free_port()
    broker = MosquittoBroker(
        workdir, port=port, config_text=render_production_config(workdir, port, pki / "ca")
    )
    with broker:
        yield broker


class Client:
    """A paho MQTT 5 client over TLS that records how its connection and publishes ended."""

    def __init__(self, port: int, ca: Path, cert: Path | None, key: Path | None) -> None:
        self.connected = threading.Event()
        self.refused = threading.Event()
        self.published: dict[int, ReasonCode] = {}
        self.received: list[str] = []
        self._acked = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.tls_set(
            ca_certs=str(ca),
            certfile=str(cert) if cert else None,
            keyfile=str(key) if key else None,
        )
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_message = lambda c, u, m: self.received.append(m.topic)
        self.client.on_disconnect = lambda *args: self.refused.set()
        try:
            self.client.connect("127.0.0.1", port)
        except (ssl.SSLError, OSError):
            self.refused.set()
            return
        self.client.loop_start()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: object,
        reason: ReasonCode,
        properties: object,
    ) -> None:
        (self.refused if reason.is_failure else self.connected).set()

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason: ReasonCode,
        properties: object,
    ) -> None:
        with self._acked:
            self.published[mid] = reason
            self._acked.notify_all()

    def publish(self, topic: str) -> ReasonCode:
        info = self.client.publish(topic, b"{}", qos=1)
        with self._acked:
            assert self._acked.wait_for(lambda: info.mid in self.published, timeout=10)
            return self.published[info.mid]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_a_box_writes_its_own_topics_and_the_ingest_receives_them(
    production_broker: MosquittoBroker, pki: Path
) -> None:
    clients = pki / "clients"
    ingest = Client(
        production_broker.port,
        pki / "ca" / "ca.crt",
        clients / "central-ingest-1.crt",
        clients / "central-ingest-1.key",
    )
    camera = Client(
        production_broker.port,
        pki / "ca" / "ca.crt",
        clients / "cam-astana-0001.crt",
        clients / "cam-astana-0001.key",
    )
    try:
        assert ingest.connected.wait(10) and camera.connected.wait(10)
        subscribed = threading.Event()
        ingest.client.on_subscribe = lambda *args: subscribed.set()
        ingest.client.subscribe("$share/ingest/erap/v1/+/fixation", qos=1)
        assert subscribed.wait(10)

        reason = camera.publish(device_topic("cam-astana-0001", MessageKind.FIXATION))

        assert not reason.is_failure
        for _ in range(100):
            if ingest.received:
                break
            threading.Event().wait(0.05)
        assert ingest.received == ["erap/v1/cam-astana-0001/fixation"]
    finally:
        ingest.close()
        camera.close()


def test_a_box_publishing_on_another_box_topic_is_refused_with_reason_135(
    production_broker: MosquittoBroker, pki: Path
) -> None:
    clients = pki / "clients"
    camera = Client(
        production_broker.port,
        pki / "ca" / "ca.crt",
        clients / "cam-astana-0001.crt",
        clients / "cam-astana-0001.key",
    )
    try:
        assert camera.connected.wait(10)
        reason = camera.publish(device_topic("cam-astana-0002", MessageKind.FIXATION))
        receipt_spoof = camera.publish("erap/v1/cam-astana-0002/receipt")
    finally:
        camera.close()
    assert reason.value == 135, reason  # MQTT 5 "Not authorized": visible, not silent
    assert receipt_spoof.value == 135


@pytest.mark.parametrize("who", ["no certificate", "certificate from another CA"])
def test_clients_without_our_certificate_cannot_connect(
    production_broker: MosquittoBroker, pki: Path, who: str
) -> None:
    if who == "no certificate":
        cert, key = None, None
    else:
        cert = pki / "rogue-clients" / "cam-astana-0001.crt"
        key = pki / "rogue-clients" / "cam-astana-0001.key"

    client = Client(production_broker.port, pki / "ca" / "ca.crt", cert, key)
    try:
        assert client.refused.wait(10), f"a client with {who} was let in"
        assert not client.connected.is_set()
    finally:
        client.close()


def test_the_ingest_worker_consumes_over_mutual_tls(
    production_broker: MosquittoBroker, pki: Path, tmp_path: Path
) -> None:
    clients = pki / "clients"
    config = RegistryConfig(
        data_dir=tmp_path / "registry",
        mqtt=MqttSettings(
            port=production_broker.port,
            client_id="central-ingest-1",
            ca_file=pki / "ca" / "ca.crt",
            cert_file=clients / "central-ingest-1.crt",
            key_file=clients / "central-ingest-1.key",
        ),
    )
    store = open_registry_store(config)
    camera = SimulatedDevice("cam-astana-0001", DeviceKind.CAMERA).register(store)
    worker = MqttIngestWorker(IngestService(store, config), config.mqtt)
    worker.start()
    box = Client(
        production_broker.port,
        pki / "ca" / "ca.crt",
        clients / "cam-astana-0001.crt",
        clients / "cam-astana-0001.key",
    )
    try:
        assert box.connected.wait(10)
        status = seal(
            MessageKind.DEVICE_STATUS,
            camera.device_id,
            DeviceStatus(online=True, queue_depth=0),
            camera.key,
        )
        stored = threading.Event()
        for _ in range(100):  # the worker subscribes asynchronously: resend until stored
            info = box.client.publish(
                device_topic(camera.device_id, MessageKind.DEVICE_STATUS),
                encode_envelope(status),
                qos=1,
            )
            info.wait_for_publish(5)
            if store.db.conn.execute("SELECT count(*) FROM device_status").fetchone()[0]:
                stored.set()
                break
            threading.Event().wait(0.1)
        assert stored.is_set(), "the ingest worker stored nothing over TLS"
        assert store.db.conn.execute("SELECT message_id FROM device_status").fetchone()[0] == str(
            status.message_id
        )
    finally:
        box.close()
        worker.stop()
        store.close()
