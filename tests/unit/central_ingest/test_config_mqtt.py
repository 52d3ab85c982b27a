"""The ingest's brokers in the registry configuration: one broker (the region "default", as
before) or one per region, never both, each region once."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from central_ingest.config import MqttSettings


def test_the_single_broker_form_is_the_region_default_under_its_own_client_id() -> None:
    settings = MqttSettings(host="mqtt.example.kz", port=8883, ca_file=Path("/etc/ca.pem"))
    [broker] = settings.broker_list()
    assert (broker.region, broker.host, broker.port) == ("default", "mqtt.example.kz", 8883)
    assert broker.ca_file == Path("/etc/ca.pem")
    # Unchanged, so that the persistent session a worker already holds survives an upgrade.
    assert settings.client_id_for(broker) == "central-ingest-1"


def test_a_list_gives_each_region_its_broker_tls_and_its_own_session() -> None:
    settings = MqttSettings.model_validate(
        {
            "client_id": "central-ingest-2",
            "brokers": [
                {"region": "astana", "host": "a.example.kz", "port": 8883, "cert_file": "a.pem"},
                {"region": "almaty", "host": "b.example.kz", "cert_file": "b.pem"},
            ],
        }
    )
    brokers = settings.broker_list()
    assert [(b.region, b.host, b.port) for b in brokers] == [
        ("astana", "a.example.kz", 8883),
        ("almaty", "b.example.kz", 1883),
    ]
    assert [b.cert_file for b in brokers] == [Path("a.pem"), Path("b.pem")]
    assert [settings.client_id_for(b) for b in brokers] == [
        "central-ingest-2-astana",
        "central-ingest-2-almaty",
    ]


def test_a_list_beside_single_broker_keys_is_refused_naming_them() -> None:
    with pytest.raises(ValidationError, match=r"port, ca_file .* not both"):
        MqttSettings.model_validate(
            {"port": 1884, "ca_file": "ca.pem", "brokers": [{"region": "north", "host": "n"}]}
        )


def test_regions_are_named_once_each_in_plain_letters() -> None:
    with pytest.raises(ValidationError, match="repeated: north"):
        MqttSettings.model_validate(
            {"brokers": [{"region": "north", "host": "a"}, {"region": "north", "host": "b"}]}
        )
    with pytest.raises(ValidationError, match="region"):
        MqttSettings.model_validate({"brokers": [{"region": "North Kazakhstan", "host": "a"}]})
    with pytest.raises(ValidationError, match="reconnect_max_s"):
        MqttSettings(reconnect_min_s=10, reconnect_max_s=5)
