"""Refusals cost a bounded amount (issue 18, finding 2): a stranger's junk keeps a digest, its
size and its first bytes; a source that keeps sending it is answered 429; the dead letters have
a retention period and a size budget. Over the real app on a real SQLite file, and a real
Mosquitto broker for the MQTT ingest."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from datetime import timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from central_ingest.api.app import create_app
from central_ingest.api.settings import ApiSettings, MetricsAccess
from central_ingest.core.clock import iso
from central_ingest.ingest.mqtt_worker import MqttIngestWorker
from central_ingest.ingest.service import IngestService
from central_ingest.jobs import RegistryJobs
from central_ingest.store.dead_letters import HEAD_BYTES, dead_letter_bytes, record_dead_letter
from contract import DeviceKind, EvidenceRef, EvidenceRole, MessageKind, now_utc
from tests.support.broker import MosquittoBroker
from tests.support.devices import SimulatedDevice, speeding_fixation
from tests.support.registry_fixtures import RegistryWorld

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")

JUNK_BYTES = 70_000


def _world(tmp_path: Path, **limits: float) -> RegistryWorld:
    return RegistryWorld.create(
        tmp_path,
        http_ingest={"refusals_per_s": 1.0, "burst": 20, **limits},
        dead_letters={"retention_days": 30, "budget_bytes": 1024 * 1024},
    )


def _client(world: RegistryWorld, host: str) -> TestClient:
    app = create_app(world.config, store=world.store, registry=world.registry)
    return TestClient(app, base_url="https://testserver", client=(host, 50000))


def _disk_bytes(world: RegistryWorld) -> int:
    """The database file and its WAL after a checkpoint: what the registry holds on disk."""
    world.store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = world.config.db_path
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _rows(world: RegistryWorld) -> list[dict[str, object]]:
    return list(
        world.store.db.query(
            "SELECT reason, source, signed, payload, payload_sha256, payload_size"
            " FROM dead_letters ORDER BY dead_letter_id"
        )
    )


@pytest.mark.sqlite_only
def test_a_thousand_junk_posts_grow_the_database_by_less_than_512_bytes_each(
    tmp_path: Path,
) -> None:
    # A burst large enough that no request is throttled: this measures what a stored refusal
    # costs, not the rate limit.
    world = _world(tmp_path, burst=10_000)
    before = _disk_bytes(world)
    junk = [os.urandom(JUNK_BYTES) for _ in range(1_000)]
    # One event loop for all requests (a context manager): without, each request leaves one
    # behind until garbage collection, and its descriptors.
    with _client(world, "203.0.113.7") as client:
        statuses = {client.post("/v1/messages", content=body).status_code for body in junk}
    growth = _disk_bytes(world) - before

    assert statuses == {413}
    rows = _rows(world)
    assert len(rows) == 1_000
    assert growth / 1_000 < 512, f"{growth / 1_000:.0f} bytes per junk message"
    first = rows[0]
    read = junk[0][: world.config.max_message_bytes + 1]  # the route stops reading there
    assert first["payload"] == read[:HEAD_BYTES]
    assert first["payload_sha256"] == hashlib.sha256(read).hexdigest()
    assert first["payload_size"] == len(read)
    assert (first["source"], first["signed"]) == ("203.0.113.7", 0)


def test_a_source_of_refusals_is_answered_429_and_other_sources_are_not(tmp_path: Path) -> None:
    world = _world(tmp_path, burst=5, refusals_per_s=0.2)
    abuser, neighbour = _client(world, "198.51.100.9"), _client(world, "198.51.100.10")
    camera = SimulatedDevice(world.camera_id, DeviceKind.CAMERA, world.camera_key)

    first = [abuser.post("/v1/messages", content=b"not json").status_code for _ in range(5)]
    throttled = abuser.post("/v1/messages", content=b"not json")
    other = neighbour.post("/v1/messages", content=b"not json")
    # Messages that verify take no token: a busy device is never slowed by its own traffic.
    ref = EvidenceRef(role=EvidenceRole.FULL_FRAME, sha256="a" * 64, size_bytes=10)
    signed = [
        neighbour.post(
            "/v1/messages",
            content=camera.seal(MessageKind.FIXATION, speeding_fixation(camera, evidence=[ref])),
        ).status_code
        for _ in range(8)
    ]

    assert first == [400] * 5
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 5
    assert throttled.json()["error"] == "rate_limited"
    assert other.status_code == 400
    assert signed == [409] * 8  # evidence_missing: refused after the signature verified
    sources = [(row["source"], row["signed"]) for row in _rows(world)]
    # The throttled request left nothing behind.
    assert sources.count(("198.51.100.9", 0)) == 5
    assert sources.count(("198.51.100.10", 0)) == 1
    assert sources.count(("198.51.100.10", 1)) == 8


def test_a_signed_refusal_keeps_the_whole_message_an_unsigned_one_only_its_head(
    tmp_path: Path,
) -> None:
    world = _world(tmp_path)
    client = _client(world, "192.0.2.44")
    camera = SimulatedDevice(world.camera_id, DeviceKind.CAMERA, world.camera_key)
    ref = EvidenceRef(role=EvidenceRole.FULL_FRAME, sha256="b" * 64, size_bytes=10)
    raw = camera.seal(MessageKind.FIXATION, speeding_fixation(camera, evidence=[ref]))
    forged = json.loads(raw)
    forged["signature"] = forged["signature"][::-1]  # the same message, its signature broken
    forged_raw = json.dumps(forged).encode()

    assert client.post("/v1/messages", content=raw).status_code == 409
    assert client.post("/v1/messages", content=forged_raw).status_code == 403
    kept, refused = _rows(world)

    assert len(raw) > 2 * HEAD_BYTES
    assert (kept["reason"], kept["signed"], kept["payload"]) == ("evidence_missing", 1, raw)
    assert (refused["reason"], refused["signed"]) == ("bad_signature", 0)
    assert refused["payload"] == forged_raw[:HEAD_BYTES]
    assert refused["payload_sha256"] == hashlib.sha256(forged_raw).hexdigest()
    assert refused["payload_size"] == len(forged_raw)


def _add(world: RegistryWorld, *, days_ago: float, signed: bool, size: int, n: int) -> None:
    received = iso(now_utc() - timedelta(days=days_ago))
    with world.store.transaction() as db:
        for _ in range(n):
            record_dead_letter(
                db,
                received_at=received,
                channel="mqtt",
                reason="evidence_missing" if signed else "bad_signature",
                detail="test",
                payload=os.urandom(size),
                source="mqtt:default:cam-astana-0001",
                signed=signed,
            )


def test_retention_deletes_old_refusals_and_the_budget_drops_unsigned_ones_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = _world(tmp_path)
    jobs = RegistryJobs(world.store, world.config, world.registry)
    _add(world, days_ago=31, signed=True, size=1_000, n=3)  # past the 30 days' retention
    _add(world, days_ago=2, signed=False, size=5_000, n=40)  # unsigned: heads only are kept
    _add(world, days_ago=1, signed=True, size=60_000, n=12)  # whole messages: 720 kB
    within = jobs.trim_dead_letters()
    reasons = [row["reason"] for row in _rows(world)]
    assert (within.expired, within.dropped_unsigned, within.dropped_signed) == (3, 0, 0)
    assert reasons == ["bad_signature"] * 40 + ["evidence_missing"] * 12

    _add(world, days_ago=0, signed=True, size=60_000, n=8)  # now 1.2 MB: over the 1 MiB budget
    with caplog.at_level(logging.WARNING, logger="central_ingest.jobs"):
        over = jobs.trim_dead_letters()

    assert over.dropped_unsigned == 40
    assert over.dropped_signed >= 1
    assert over.bytes_before > 1024 * 1024 >= over.bytes_after == dead_letter_bytes(world.store.db)
    left = _rows(world)
    assert {row["signed"] for row in left} == {1}
    assert len(left) == 20 - over.dropped_signed
    assert "over their budget" in caplog.text and "mqtt:default:cam-astana-0001" in caplog.text
    app = create_app(
        world.config,
        store=world.store,
        registry=world.registry,
        api_settings=ApiSettings(metrics_access=MetricsAccess.LOOPBACK),
    )
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        metrics = client.get("/metrics").text.splitlines()
    assert f"erap_dead_letter_bytes {over.bytes_after}" in metrics
    assert "erap_dead_letter_budget_bytes 1048576" in metrics


def test_an_mqtt_refusal_is_counted_against_the_topics_device_and_keeps_only_its_head(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    world = _world(tmp_path)
    worker = MqttIngestWorker(
        IngestService(world.store, world.config),
        world.config.mqtt.model_copy(update={"port": broker.port}),
    )
    worker.start()
    device = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    device.connect("127.0.0.1", broker.port)
    device.loop_start()
    junk = os.urandom(5_000)
    try:
        deadline = time.monotonic() + 20
        while not all(worker.regions().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        device.publish("erap/v1/cam-nobody-7/fixation", junk, qos=1).wait_for_publish(10)
        while not _rows(world) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        device.loop_stop()
        device.disconnect()

    [row] = _rows(world)
    assert (row["reason"], row["signed"]) == ("malformed_json", 0)
    assert row["source"] == "mqtt:default:cam-nobody-7"
    assert row["payload"] == junk[:HEAD_BYTES]
    assert (row["payload_size"], row["payload_sha256"]) == (5_000, hashlib.sha256(junk).hexdigest())
