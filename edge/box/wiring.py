"""The box's objects built from its configuration: the outbox, the sender, the video pipeline.

``config.py`` only says what the settings are and loads them; the three processes
(``edge.box.cli``) get their parts from here, so a setting reaches the object it tunes in
one place."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from contract import DeviceKey
from edge.box.config import BoxConfig
from edge.box.health import box_health
from edge.box.journal import SensorJournal
from edge.store import Outbox, Sender, SenderSettings, StorageLimits
from edge.store.db import Durability

if TYPE_CHECKING:
    from edge.video import VideoPipeline


def open_outbox(config: BoxConfig, durability: Durability) -> Outbox:
    limits = StorageLimits(
        max_bytes=config.storage.max_bytes, min_free_bytes=config.storage.min_free_bytes
    )
    return Outbox(config.outbox_path, config.files_dir, limits=limits, durability=durability)


def sender_settings(config: BoxConfig) -> SenderSettings:
    return SenderSettings(
        device_id=config.device_id,
        registry_url=config.registry.url,
        registry_ca_file=config.registry.ca_file,
        mqtt_host=config.mqtt.host,
        mqtt_port=config.mqtt.port,
        tls_ca_file=config.mqtt.ca_file,
        tls_cert_file=config.mqtt.cert_file,
        tls_key_file=config.mqtt.key_file,
        receipt_timeout_s=config.sender.receipt_timeout_s,
        status_interval_s=config.sender.status_interval_s,
        reconnect_cap_s=config.sender.reconnect_cap_s,
        max_inflight=config.sender.max_inflight,
    )


def build_sender(
    config: BoxConfig, key: DeviceKey, outbox: Outbox, journal: SensorJournal
) -> Sender:
    """The sender, publishing the box's health as the bridge and recorder leave it in the
    sensor journal."""
    return Sender(
        outbox,
        key,
        sender_settings(config),
        health=lambda: box_health(journal.state(), time.time(), config.health),
    )


def build_pipeline(config: BoxConfig) -> VideoPipeline:
    # Imported here: the video stack (OpenCV, the ONNX models) takes a moment to load, and the
    # sender, the bridge and `--help` do not need it.
    from edge.video import (
        EventSettings,
        MotionSettings,
        PipelineSettings,
        TrackerSettings,
        VideoPipeline,
    )

    video = config.video
    reader = video.plate_reader()
    settings = PipelineSettings(
        events=EventSettings(
            camera_id=config.device_id,
            tracker=TrackerSettings(max_missed=video.max_missed),
            repeat_window_s=video.repeat_window_s,
        ),
        sample_every=video.sample_every,
        motion=MotionSettings(),
        max_plates_per_frame=video.max_plates_per_frame,
    )
    return VideoPipeline(reader, settings)
