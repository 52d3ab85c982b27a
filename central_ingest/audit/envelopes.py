"""A fixation's measured facts as its device signed them: the envelope stored verbatim in
``messages`` is hashed (against the hash its "received" ledger entry recorded), its signature
verified again with the device's key, and its body read.

The device's key is the one its ledger registration recorded; a device registered before keys
went into the ledger (or written into the table directly, as the test fixtures do) is checked
against the devices table's key instead, and the verifier says so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from central_ingest.audit.recorded import EVIDENCE
from central_ingest.core.clock import iso
from contract import Fixation, PublicKey, load_public_key, verify_signature
from contract.signing import signed_bytes
from i18n import Text


@dataclass(frozen=True)
class Signed:
    """The facts the device signed, as the fixation's columns hold them."""

    values: dict[str, object]


class DeviceKeys:
    """The devices' public keys, parsed once each."""

    def __init__(self, recorded: Mapping[str, str], stored: Mapping[str, str]) -> None:
        self._recorded, self._stored = recorded, stored
        self._parsed: dict[str, PublicKey | None] = {}
        self.from_table: set[str] = set()

    def get(self, device_id: str) -> PublicKey | None:
        if device_id not in self._parsed:
            text = self._recorded.get(device_id)
            if text is None and device_id in self._stored:
                text = self._stored[device_id]
                self.from_table.add(device_id)
            try:
                self._parsed[device_id] = None if text is None else load_public_key(text)
            except ValueError:
                self._parsed[device_id] = None
        return self._parsed[device_id]


def evidence_value(links: list[tuple[str, str]]) -> str:
    """Evidence links as one comparable, readable value: "role:sha256" sorted, comma-joined."""
    return ", ".join(sorted(f"{role}:{sha256}" for role, sha256 in links))


def signed_facts(
    fixation_id: str, envelope: object, recorded_sha256: str | None, keys: DeviceKeys
) -> Signed | Text:
    """The signed facts of the fixation, or the sentence saying why its envelope cannot vouch
    for them."""
    if not isinstance(envelope, str):
        return Text(
            "Fixation %(id)s has no stored envelope: the message its device signed was deleted.",
            id=fixation_id,
        )
    sha256 = hashlib.sha256(envelope.encode("utf-8")).hexdigest()
    if recorded_sha256 is not None and sha256 != recorded_sha256:
        return Text(
            "Fixation %(id)s: its stored envelope hashes to %(actual)s… but its ledger entry"
            " recorded %(recorded)s…: the message was replaced after it was received.",
            id=fixation_id,
            actual=sha256[:16],
            recorded=recorded_sha256[:16],
        )
    try:
        document = json.loads(envelope)
        device_id = str(document["device_id"])
        body = Fixation.model_validate(document["body"])
        signature = str(document["signature"])
    except (ValueError, KeyError, TypeError, ValidationError):
        return Text(
            "Fixation %(id)s: its stored envelope is not a fixation message any more.",
            id=fixation_id,
        )
    key = keys.get(device_id)
    if key is None or not verify_signature(key, signed_bytes(document), signature):
        return Text(
            "Fixation %(id)s: the signature of its stored envelope does not verify with the key"
            " of device %(device)s: the message was forged or edited.",
            id=fixation_id,
            device=device_id,
        )
    if str(body.fixation_id) != fixation_id:
        return Text(
            "Fixation %(id)s: its stored envelope is about fixation %(other)s.",
            id=fixation_id,
            other=str(body.fixation_id),
        )
    return Signed(
        {
            "device_id": device_id,
            "plate_text": body.plate.text,
            "violation": body.violation.value,
            "speed_kmh": body.measurement.speed_kmh,
            "limit_kmh": body.measurement.limit_kmh,
            "captured_at": iso(body.captured_at),
            EVIDENCE: evidence_value([(ref.role.value, ref.sha256) for ref in body.evidence]),
        }
    )
