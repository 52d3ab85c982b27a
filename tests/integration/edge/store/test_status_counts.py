"""The box's dead letters and evictions travel as fields of its signed status
(edge/store/status.py), and the registry exports them per device in /metrics, so that an
alert can fire when a box's count grows."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from central_ingest.api.settings import ApiSettings
from central_ingest.ingest.service import Incoming, IngestService
from contract import DeviceStatus, SignedEnvelope
from edge.store import Health, sealed_offline_will, sealed_status, status_body
from edge.store.status import status_topic
from tests.support.api import bearer, build_env

TOKEN = "metrics-token-for-the-status-counts-test"

pytestmark = pytest.mark.usefixtures("registry_store")


def test_the_counts_are_fields_of_the_status_not_only_prose() -> None:
    body = status_body(Health(dead_letters=2, evictions=5), online=True)
    assert (body.dead_letters, body.evictions) == (2, 5)
    assert body.detail is not None and "2 fixation(s)" in body.detail  # still said in words


def test_the_registry_exports_each_box_s_counts_from_its_latest_status(tmp_path: Path) -> None:
    env = build_env(tmp_path, api_settings=ApiSettings(metrics_token=SecretStr(TOKEN)))
    world = env.world
    service = IngestService(world.store, world.config)
    camera, key = world.camera_id, world.camera_key
    first = sealed_status(camera, key, Health(dead_letters=1, evictions=0), online=True)
    latest = sealed_status(camera, key, Health(dead_letters=3, evictions=7), online=True)
    for raw in (first, latest):
        assert service.process(Incoming(raw, "mqtt", status_topic(camera))).reason is None
    stored = SignedEnvelope.model_validate_json(latest).parsed_body()
    assert isinstance(stored, DeviceStatus) and stored.dead_letters == 3

    metrics = env.client().get("/metrics", headers=bearer(TOKEN)).text
    assert f'erap_box_dead_letters{{device="{camera}"}} 3' in metrics
    assert f'erap_box_evictions{{device="{camera}"}} 7' in metrics

    # A last will reports no counts: the box is not there to count; nothing is made up.
    will = sealed_offline_will(camera, key)
    assert service.process(Incoming(will, "mqtt", status_topic(camera))).reason is None
    after_will = env.client().get("/metrics", headers=bearer(TOKEN)).text
    assert "erap_box_dead_letters{" not in after_will
