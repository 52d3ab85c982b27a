"""Brokers sharded by region: one ingest worker process on two real Mosquitto brokers. When one
region's broker dies the other region's fixations keep flowing; when it comes back, what its
cameras queued meanwhile drains into the registry, each fixation once, each with a receipt."""

from __future__ import annotations

import json
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from typer.testing import CliRunner

from central_ingest.cli import app
from central_ingest.config import RegistryConfig
from central_ingest.store.db import Store
from central_ingest.store.evidence import EvidenceStore
from central_ingest.wiring import open_registry_store
from contract import DeviceKind, EvidenceRole, MessageKind, device_topic, now_utc, receipt_topic
from tests.support.broker import MosquittoBroker
from tests.support.devices import SimulatedDevice, evidence_ref, speeding_fixation
from tests.support.evidence_images import evidence_jpeg
from tests.support.paths import REPOSITORY

ROOT = REPOSITORY
CLIENT_ID = "ingest-regions"


def eventually(check: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


class WorkerProcess:
    """``erap-registry ingest-worker --config FILE``, its log read as it is written."""

    def __init__(self, config_file: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "central_ingest", "ingest-worker", "--config", str(config_file)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.log: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.log.append(raw.decode(errors="replace"))

    def wait_for(self, text: str, since: int = 0) -> int:
        """Waits for a log line containing ``text`` after the first ``since`` lines; returns
        how many lines there were then, for the next wait."""

        def found() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited:\n{''.join(self.log)}")
            return any(text in line for line in self.log[since:])

        eventually(found, f"{text!r} in the worker's log:\n{''.join(self.log)}")
        return len(self.log)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self._reader.join(timeout=5)


NO_MATCHING_SUBSCRIBERS = 16  # MQTT 5 PUBACK: the broker accepted the message and dropped it


class RegionCamera:
    """A camera on its region's broker: QoS 1 and a persistent session, so what it publishes
    while the broker is down waits in its client's queue and goes out on reconnection. Like
    the box's sender (edge/store/sender.py) it resends a message the broker dropped for want
    of a subscriber: Mosquitto does not restore shared subscriptions from its persistence
    file, so after a restart it drops what arrives before the ingest has subscribed again."""

    def __init__(self, device: SimulatedDevice, store: Store, config: RegistryConfig, port: int):
        self.device = device
        frame = evidence_jpeg(device.device_id, seed=len(device.device_id))
        self.evidence = evidence_ref(EvidenceRole.FULL_FRAME, frame)
        EvidenceStore(store, config.evidence_dir, config.max_evidence_bytes).put(
            self.evidence.sha256, frame, uploaded_by=device.device_id, now=now_utc()
        )
        self.receipts: dict[str, list[str]] = {}
        self.published: list[str] = []
        self.dropped = 0
        self._sent: dict[int, tuple[str, bytes]] = {}
        self._send_lock = threading.Lock()
        self._acked: queue.Queue[tuple[int, int]] = queue.Queue()
        threading.Thread(target=self._resend_dropped, daemon=True).start()
        self._lock = threading.Lock()
        self.ready = threading.Event()
        self.connected = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=device.device_id, protocol=mqtt.MQTTv5
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.connected.clear()
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 3600
        self.client.connect_async("127.0.0.1", port, clean_start=False, properties=properties)
        self.client.loop_start()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.connected.set()
        client.subscribe(receipt_topic(self.device.device_id), qos=1)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            for entry in json.loads(message.payload)["entries"]:
                self.receipts.setdefault(entry["message_id"], []).append(entry["status"])

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        # paho calls this holding its own lock, which publish() takes too: hand over, no wait.
        self._acked.put((mid, reason_code.value))

    def _resend_dropped(self) -> None:
        while True:
            mid, reason = self._acked.get()
            if mid < 0:  # closed
                return
            with self._send_lock:
                topic, payload = self._sent.pop(mid)
            if reason == NO_MATCHING_SUBSCRIBERS:
                self.dropped += 1
                time.sleep(0.2)
                self._send(topic, payload)

    def _send(self, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        # Held across the publish so that its PUBACK is never looked up before it is recorded.
        with self._send_lock:
            info = self.client.publish(topic, payload, qos=1)
            self._sent[info.mid] = (topic, payload)
            return info

    def publish(self, count: int) -> list[mqtt.MQTTMessageInfo]:
        """Publishes ``count`` signed fixations, connected or not (the client queues them)."""
        infos = []
        for _ in range(count):
            fixation = speeding_fixation(self.device, evidence=[self.evidence])
            self.published.append(str(fixation.fixation_id))
            payload = self.device.seal(MessageKind.FIXATION, fixation)
            infos.append(
                self._send(device_topic(self.device.device_id, MessageKind.FIXATION), payload)
            )
        return infos

    def unreceipted(self) -> list[str]:
        with self._lock:
            return [message_id for message_id in self.published if message_id not in self.receipts]

    def close(self) -> None:
        self._acked.put((-1, 0))
        self.client.disconnect()
        self.client.loop_stop()


def registry_fixations(config: RegistryConfig, device_id: str) -> list[str]:
    """Every row of the registry's fixations for a device (a list: duplicates would show)."""
    with sqlite3.connect(f"file:{config.db_path}?mode=ro", uri=True, timeout=10) as conn:
        rows = conn.execute("SELECT fixation_id FROM fixations WHERE device_id = ?", (device_id,))
        return [row[0] for row in rows]


def regions_config(path: Path, data_dir: Path, ports: dict[str, int]) -> Path:
    brokers = "".join(
        f'\n[[mqtt.brokers]]\nregion = "{region}"\nhost = "127.0.0.1"\nport = {port}\n'
        for region, port in ports.items()
    )
    path.write_text(
        f'data_dir = "{data_dir}"\n'
        f'[mqtt]\nclient_id = "{CLIENT_ID}"\nreconnect_min_s = 1\nreconnect_max_s = 1\n{brokers}'
    )
    return path


@pytest.fixture
def brokers(tmp_path: Path) -> Iterator[dict[str, MosquittoBroker]]:
    """North running, south configured but not started yet."""
    both = {region: MosquittoBroker(tmp_path / region) for region in ("north", "south")}
    both["north"].start()
    yield both
    for broker in both.values():
        broker.stop()


def test_a_dead_region_stops_only_itself_and_drains_once_its_broker_returns(
    tmp_path: Path, brokers: dict[str, MosquittoBroker]
) -> None:
    config = RegistryConfig(data_dir=tmp_path / "registry")
    store = open_registry_store(config)
    north = RegionCamera(
        SimulatedDevice("cam-north-0001", DeviceKind.CAMERA).register(store),
        store,
        config,
        brokers["north"].port,
    )
    south = RegionCamera(
        SimulatedDevice("cam-south-0001", DeviceKind.CAMERA).register(store),
        store,
        config,
        brokers["south"].port,
    )
    store.close()
    config_file = regions_config(
        tmp_path / "registry.toml",
        config.data_dir,
        {region: broker.port for region, broker in brokers.items()},
    )
    worker = WorkerProcess(config_file)
    try:
        # A broker that is down when the worker starts holds up no other region.
        seen = worker.wait_for("ingest regions connected: north; not connected: south")
        worker.wait_for("ingest cannot reach the broker of region south")
        brokers["south"].start()
        seen = worker.wait_for("ingest regions connected: north, south; not connected: none")
        assert north.ready.wait(10) and south.ready.wait(10)
        north.publish(10)
        south.publish(10)
        eventually(lambda: not north.unreceipted() and not south.unreceipted(), "receipts")

        # Let the south broker save its sessions (autosave every second) before it dies, as
        # a broker that has run for a while has: the worker's queue must outlive the crash.
        saved_after = time.time()
        state = brokers["south"].workdir / "data" / "mosquitto.db"
        eventually(lambda: state.exists() and state.stat().st_mtime > saved_after, "a save")
        brokers["south"].kill()
        seen = worker.wait_for("ingest regions connected: north; not connected: south", seen)

        eventually(lambda: not south.connected.is_set(), "the south camera to lose its broker")
        queued = south.publish(10)
        north.publish(20)
        eventually(lambda: not north.unreceipted(), "the north receipts while south is down")
        assert sorted(registry_fixations(config, "cam-north-0001")) == sorted(north.published)
        # The south camera's fixations are still in its own queue, none in the registry.
        assert all(info.rc == mqtt.MQTT_ERR_NO_CONN for info in queued)
        assert sorted(registry_fixations(config, "cam-south-0001")) == sorted(south.published[:10])

        brokers["south"].start()  # same port, same persistence folder
        worker.wait_for("ingest regions connected: north, south; not connected: none", seen)
        eventually(lambda: not south.unreceipted(), "the south receipts after its return")
    finally:
        worker.stop()
        north.close()
        south.close()

    for camera in (north, south):
        rows = registry_fixations(config, camera.device.device_id)
        assert sorted(rows) == sorted(camera.published), "each fixation exactly once"
        assert all(
            set(camera.receipts[message_id]) <= {"stored", "duplicate"}
            for message_id in camera.published
        ), camera.receipts
    assert len(south.published) == 20 and len(north.published) == 30
    with sqlite3.connect(f"file:{config.db_path}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 0
    # Each region's session has its own client id, so two regions' sessions never collide.
    log = "".join(worker.log)
    assert f"as {CLIENT_ID}-north" in log and f"as {CLIENT_ID}-south" in log


def test_the_example_configuration_s_broker_list_is_valid() -> None:
    """The commented [[mqtt.brokers]] of deploy/registry.example.toml, uncommented in place of
    the single-broker keys (as its comment says to), loads as two regions."""
    lines = (ROOT / "deploy" / "registry.example.toml").read_text().splitlines()
    first = lines.index("# [[mqtt.brokers]]")
    block = []
    for line in lines[first:]:
        if not line.startswith("#"):
            break
        block.append(line.removeprefix("#").removeprefix(" "))
    raw = tomllib.loads("\n".join(lines))
    for key in ("host", "port", "ca_file", "cert_file", "key_file", "username"):
        raw["mqtt"].pop(key, None)
    raw["mqtt"]["brokers"] = tomllib.loads("\n".join(block))["mqtt"]["brokers"]
    settings = RegistryConfig.model_validate(raw).mqtt
    assert [broker.region for broker in settings.broker_list()] == ["astana", "almaty"]
    assert [settings.client_id_for(broker) for broker in settings.broker_list()] == [
        "central-ingest-1-astana",
        "central-ingest-1-almaty",
    ]
    assert all(broker.cert_file is not None for broker in settings.broker_list())


def test_the_worker_refuses_a_command_line_broker_beside_a_list(tmp_path: Path) -> None:
    config_file = regions_config(tmp_path / "registry.toml", tmp_path / "registry", {"north": 1})
    result = CliRunner().invoke(
        app,
        ["--language", "en", "ingest-worker", "--config", str(config_file), "--mqtt-port", "1884"],
    )
    assert result.exit_code == 1
    assert "one broker per region" in result.output
