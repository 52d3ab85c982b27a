"""The box's wiring (edge/box/wiring.py): settings from the box's configuration reach the
objects they tune. Pure: the configuration is built in memory, nothing is opened."""

from __future__ import annotations

from typing import Any

from edge.box.config import BoxConfig
from edge.box.wiring import sender_settings


def config(**sections: dict[str, Any]) -> BoxConfig:
    raw: dict[str, Any] = {
        "device_id": "cam-ast-0001",
        "key_file": "/etc/erap/keys/cam.pem",
        "data_dir": "/var/lib/erap-box",
        "registry": {"url": "https://registry.erap.kz"},
        "mqtt": {"host": "mqtt.erap.kz", "port": 8883},
        "video": {"source": "0"},
        "serial": {"port": "/dev/ttyAMA0"},
        "rules": {"zone": "Astana", "speeding": {"limit_kmh": 60}},
    }
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values}
    return BoxConfig.model_validate(raw)


def test_the_sender_takes_its_broker_timeouts_and_in_flight_window_from_the_file() -> None:
    settings = sender_settings(
        config(sender={"max_inflight": 250, "receipt_timeout_s": 12.0, "reconnect_cap_s": 4.0})
    )
    assert settings.max_inflight == 250
    assert settings.receipt_timeout_s == 12.0 and settings.reconnect_cap_s == 4.0
    assert (settings.device_id, settings.mqtt_host, settings.mqtt_port) == (
        "cam-ast-0001",
        "mqtt.erap.kz",
        8883,
    )
    assert settings.registry_url == "https://registry.erap.kz"


def test_left_out_the_in_flight_window_stays_at_paho_s_100() -> None:
    assert sender_settings(config()).max_inflight == 100


def test_the_plates_per_frame_the_box_reads_are_a_setting() -> None:
    assert config().video.max_plates_per_frame == 4
    assert config(video={"max_plates_per_frame": 2}).video.max_plates_per_frame == 2
