"""Device health as published to the registry: a retained, signed ``DeviceStatus`` on the box's
status topic, and a last-will that the broker publishes (retained) when the box drops off.

The pure part: a ``Health`` snapshot becomes a ``DeviceStatus``; dead letters and evictions go
in fields of their own (the registry counts them), and with the alerts are summarised in
``detail`` so an operator sees at a glance why a box needs a visit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contract import DeviceKey, DeviceStatus, MessageKind, device_topic, encode_envelope, seal


@dataclass(frozen=True)
class Health:
    tamper: bool = False
    camera_ok: bool | None = None
    sensors_ok: bool | None = None
    disk_free_pct: float | None = None
    queue_depth: int | None = None
    dead_letters: int = 0
    evictions: int = 0
    alerts: tuple[str, ...] = field(default_factory=tuple)


def describe(health: Health) -> str | None:
    notes = list(health.alerts)
    if health.dead_letters:
        notes.append(f"{health.dead_letters} fixation(s) refused by the registry (dead letters)")
    if health.evictions:
        notes.append(f"{health.evictions} file(s) evicted for space")
    return "; ".join(notes)[:500] or None


def status_body(health: Health, *, online: bool) -> DeviceStatus:
    return DeviceStatus(
        online=online,
        tamper=health.tamper,
        disk_free_pct=health.disk_free_pct,
        queue_depth=health.queue_depth,
        camera_ok=health.camera_ok,
        sensors_ok=health.sensors_ok,
        dead_letters=health.dead_letters,
        evictions=health.evictions,
        detail=describe(health),
    )


def status_topic(device_id: str) -> str:
    return device_topic(device_id, MessageKind.DEVICE_STATUS)


def sealed_status(device_id: str, key: DeviceKey, health: Health, *, online: bool) -> bytes:
    return encode_envelope(
        seal(MessageKind.DEVICE_STATUS, device_id, status_body(health, online=online), key)
    )


def sealed_offline_will(device_id: str, key: DeviceKey) -> bytes:
    """What the broker publishes for us when the connection dies without a goodbye."""
    body = DeviceStatus(online=False, detail="connection to the box lost (last will)")
    return encode_envelope(seal(MessageKind.DEVICE_STATUS, device_id, body, key))
