"""MQTT topic layout. A device writes only under its own id; the broker's ACL enforces it."""

from __future__ import annotations

from contract.wire import MessageKind

PREFIX = "erap/v1"
SHARED_GROUP = "ingest"


def device_topic(device_id: str, kind: MessageKind) -> str:
    return f"{PREFIX}/{device_id}/{kind.value}"


def receipt_topic(device_id: str) -> str:
    return f"{PREFIX}/{device_id}/receipt"


def ingest_subscriptions() -> list[str]:
    """Shared subscriptions, so several ingest workers split the load."""
    return [f"$share/{SHARED_GROUP}/{PREFIX}/+/{kind.value}" for kind in MessageKind]


def parse_device_topic(topic: str) -> tuple[str, MessageKind] | None:
    parts = topic.split("/")
    if len(parts) != 4 or f"{parts[0]}/{parts[1]}" != PREFIX:
        return None
    try:
        return parts[2], MessageKind(parts[3])
    except ValueError:
        return None
