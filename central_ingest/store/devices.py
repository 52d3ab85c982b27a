"""Device identities: each camera box, terminal or bank link has one Ed25519 public key here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from central_ingest.core.clock import iso
from central_ingest.store.db import Database, Store
from central_ingest.store.ledger import append_entry
from contract import DeviceKind, PublicKey, load_public_key
from i18n import Message, Text, as_text


class DeviceError(Exception):
    """A provisioning request that cannot be carried out, with the reason in words: ``text``
    for the person at the command line (rendered in their language), ``str()`` in English."""

    def __init__(self, message: str | Message) -> None:
        self.text: Message = as_text(message)
        super().__init__(self.text.render(None))


@dataclass(frozen=True)
class DeviceRecord:
    device_id: str
    kind: DeviceKind
    public_key_b64: str
    active: bool
    description: str

    @property
    def public_key(self) -> PublicKey:
        return _parsed_key(self.public_key_b64)


_KEY_CACHE: dict[str, PublicKey] = {}


def _parsed_key(public_key_b64: str) -> PublicKey:
    # Parsing a key costs about as much as a verification: keep the parsed objects.
    key = _KEY_CACHE.get(public_key_b64)
    if key is None:
        key = _KEY_CACHE[public_key_b64] = load_public_key(public_key_b64)
    return key


def _record(row: tuple[str, str, str, str, str]) -> DeviceRecord:
    device_id, kind, public_key, status, description = row
    return DeviceRecord(device_id, DeviceKind(kind), public_key, status == "active", description)


def devices_by_id(db: Database, device_ids: set[str]) -> dict[str, DeviceRecord]:
    if not device_ids:
        return {}
    marks = ",".join("?" * len(device_ids))
    rows = db.conn.execute(
        "SELECT device_id, kind, public_key, status, description FROM devices"
        f" WHERE device_id IN ({marks})",
        tuple(device_ids),
    ).fetchall()
    return {row[0]: _record(row) for row in rows}


def register_device(
    store: Store,
    *,
    device_id: str,
    kind: DeviceKind,
    public_key_b64: str,
    description: str,
    actor: str,
    now: datetime,
) -> DeviceRecord:
    load_public_key(public_key_b64)  # refuse a malformed key before it is stored
    with store.transaction() as db:
        existing = devices_by_id(db, {device_id}).get(device_id)
        if existing is not None:
            raise DeviceError(
                Text("Device %(device)s is already registered.", device=device_id)
                if existing.active
                else Text(
                    "Device %(device)s is already registered (revoked; register a new id).",
                    device=device_id,
                )
            )
        db.conn.execute(
            "INSERT INTO devices (device_id, kind, public_key, status, description, registered_at)"
            " VALUES (?, ?, ?, 'active', ?, ?)",
            (device_id, kind.value, public_key_b64, description, iso(now)),
        )
        append_entry(
            db,
            recorded_at=iso(now),
            entity_type="device",
            entity_id=device_id,
            action="registered",
            actor=actor,
            payload={"kind": kind.value, "public_key": public_key_b64, "description": description},
        )
    return DeviceRecord(device_id, kind, public_key_b64, True, description)


def revoke_device(store: Store, device_id: str, *, reason: str, actor: str, now: datetime) -> None:
    """Revoke a key: from now on, messages signed by it are refused."""
    if not reason.strip():
        raise DeviceError(Text("A revocation needs a reason."))
    with store.transaction() as db:
        existing = devices_by_id(db, {device_id}).get(device_id)
        if existing is None:
            raise DeviceError(Text("Device %(device)s is not registered.", device=device_id))
        if not existing.active:
            raise DeviceError(Text("Device %(device)s is already revoked.", device=device_id))
        db.conn.execute(
            "UPDATE devices SET status = 'revoked', revoked_at = ?, revoked_reason = ?"
            " WHERE device_id = ?",
            (iso(now), reason, device_id),
        )
        append_entry(
            db,
            recorded_at=iso(now),
            entity_type="device",
            entity_id=device_id,
            action="revoked",
            actor=actor,
            payload={"reason": reason},
        )


def list_devices(store: Store) -> list[dict[str, object]]:
    return list(
        store.db.query(
            "SELECT device_id, kind, status, description, registered_at, revoked_at,"
            " revoked_reason FROM devices ORDER BY device_id"
        )
    )
