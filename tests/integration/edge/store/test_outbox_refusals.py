"""Store-and-forward when something says no: the broker's ACL refuses the topic (MQTT 5 reason
code 135), and the evidence disk fills up. Real broker, real registry process."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.store import (
    FileCategory,
    Outbox,
    StorageFull,
    StorageLimits,
)
from tests.support.broker import MosquittoBroker
from tests.support.edge_box import (
    Box,
    RegistryServer,
    assert_exactly_once,
    start_sender,
    wait_until,
)

DEVICE = "cam-shymkent-003"
INGEST_USER = "central-ingest"

ACL_WITHOUT_FIXATIONS = f"""\
user {INGEST_USER}
topic readwrite #

pattern read erap/v1/%u/receipt
pattern write erap/v1/%u/device_status
"""
ACL_FIXED = ACL_WITHOUT_FIXATIONS + "pattern write erap/v1/%u/fixation\n"


@pytest.fixture
def acl_broker(tmp_path: Path) -> Iterator[tuple[MosquittoBroker, Path]]:
    acl = tmp_path / "broker-acl"
    acl.write_text(ACL_WITHOUT_FIXATIONS)
    with MosquittoBroker(tmp_path / "broker", extra_config=[f"acl_file {acl}"]) as broker:
        yield broker, acl


def test_acl_refusal_is_a_failure_and_delivery_resumes_once_allowed(
    tmp_path: Path, acl_broker: tuple[MosquittoBroker, Path]
) -> None:
    broker, acl = acl_broker
    box = Box(tmp_path / "box", DEVICE)
    data_dir = tmp_path / "registry"
    RegistryServer.provision(data_dir, DEVICE, box.key)
    config = tmp_path / "registry.toml"
    config.write_text(f'[mqtt]\nusername = "{INGEST_USER}"\n')
    registry = RegistryServer(data_dir, broker.port, config_file=config)
    recorded = box.record(30)
    sender = start_sender(
        box,
        registry,
        broker.port,
        mqtt_username=DEVICE,
        refusal_retry_base_s=0.2,
        refusal_retry_cap_s=0.5,
    )
    try:
        wait_until(lambda: sender.counters.broker_refusals >= 30, 10, "PUBACKs with code 135")
        assert "Not authorized (135)" in sender.alerts["broker_refused"]
        assert box.outbox.depth() == 30, "a refused publish must not count as delivered"
        assert registry.fixation_ids() == []

        acl.write_text(ACL_FIXED)
        os.kill(broker.pid, signal.SIGHUP)  # mosquitto reloads its ACL file
        assert_exactly_once(registry, box, recorded, contiguous_sequences=False)
        wait_until(lambda: "broker_refused" not in sender.alerts, 5, "the alert to clear")
    finally:
        sender.stop()
        registry.stop()


@pytest.fixture
def registry(tmp_path: Path, broker: MosquittoBroker) -> Iterator[tuple[RegistryServer, Box]]:
    box = Box(tmp_path / "box", DEVICE)
    RegistryServer.provision(tmp_path / "registry", DEVICE, box.key)
    server = RegistryServer(tmp_path / "registry", broker.port)
    yield server, box
    server.stop()


def test_full_disk_evicts_telemetry_then_video_never_pending_violations(
    tmp_path: Path, registry: tuple[RegistryServer, Box], broker: MosquittoBroker
) -> None:
    server, box = registry
    # A tiny disk: six filler files fill it exactly, and the twelve images of the first six
    # fixations (the same bytes a probe box of the same camera draws) need all of it.
    probe = Box(tmp_path / "probe", DEVICE)
    first_images = sum(len(probe.image()) for _ in range(12))
    filler = -(-first_images // 6)
    box.outbox.close()
    box.outbox = Outbox(
        box.outbox.db_path,
        box.outbox.files.root,
        limits=StorageLimits(max_bytes=6 * filler, min_free_bytes=0),
    )
    kept = [box.outbox.keep_file(os.urandom(filler), FileCategory.TELEMETRY) for _ in range(3)]
    kept += [box.outbox.keep_file(os.urandom(filler), FileCategory.VIDEO) for _ in range(3)]
    assert None not in kept

    # The broker is down, so the violations stay pending; to make room the box gives up all
    # telemetry first, then all video, and never the image of a pending violation.
    broker.stop()
    recorded = box.record(6)
    evicted = [eviction.category for eviction in box.outbox.files.evictions()]
    assert evicted == [FileCategory.TELEMETRY] * 3 + [FileCategory.VIDEO] * 3
    with pytest.raises(StorageFull):
        box.record(1)  # loud, not silent: the caller, the log and the status all learn of it
    assert box.outbox.storage_full
    assert box.outbox.keep_file(os.urandom(filler), FileCategory.VIDEO) is None

    broker.start()
    sender = start_sender(box, server, broker.port)
    try:
        assert_exactly_once(server, box, recorded, contiguous_sequences=False)
        assert any("violations cannot be recorded" in alert for alert in sender.health().alerts)
        # Delivered images now give way to new violations, and recording resumes.
        recorded += box.record(6)
        assert not box.outbox.storage_full
        assert_exactly_once(server, box, recorded, contiguous_sequences=False)
        later = [eviction.category for eviction in box.outbox.files.evictions()][6:]
        assert later and set(later) == {FileCategory.VIOLATION}
        health = sender.health()
        assert health.evictions == 6 + len(later)
        assert health.queue_depth == 0
        assert not any("violations cannot be recorded" in alert for alert in health.alerts)
    finally:
        sender.stop()
