"""The checks every device message passes before it is stored: a pure function of the bytes,
the channel's claims (MQTT topic), the registered devices and the evidence on file.

Order matters: cheap and unauthenticated checks first, then the signature, and only then
anything that depends on the content being trusted (evidence, ids).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from pydantic import ValidationError

from central_ingest.core.roadside import ProtocolRejection
from contract import (
    PERMITTED_KINDS,
    SUPPORTED_SCHEMA_VERSIONS,
    DeviceKind,
    Fixation,
    MessageKind,
    Payment,
    PublicKey,
    SignedEnvelope,
    verify_signature,
)
from contract.roadside import SignedRoadsideProtocol
from contract.signing import signed_bytes_and_body
from contract.wire import Body


class Rejection(StrEnum):
    """Why a message was not stored. Stable codes: counted, reported and sent back to devices."""

    TOO_LARGE = "message_too_large"
    MALFORMED_JSON = "malformed_json"
    UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
    SCHEMA_INVALID = "schema_invalid"
    TOPIC_MISMATCH = "topic_mismatch"
    UNKNOWN_DEVICE = "unknown_device"
    DEVICE_REVOKED = "device_revoked"
    KIND_NOT_PERMITTED = "kind_not_permitted"
    BAD_SIGNATURE = "bad_signature"
    ID_MISMATCH = "id_mismatch"
    CAPTURED_IN_FUTURE = "captured_in_future"
    CAPTURED_BEYOND_LIMITATION = "captured_beyond_limitation"
    EVIDENCE_MISSING = "evidence_missing"
    EVIDENCE_MISMATCH = "evidence_mismatch"
    MESSAGE_ID_CONFLICT = "message_id_conflict"

    @property
    def retryable(self) -> bool:
        # Evidence may still be on its way (uploaded after the message): the device sends again.
        return self is Rejection.EVIDENCE_MISSING

    @property
    def after_signature(self) -> bool:
        """Raised only once the signature verified: the device really sent this message, so it
        may be told. Earlier refusals are not answered: anyone can claim a device id."""
        return self in _AFTER_SIGNATURE


_AFTER_SIGNATURE = frozenset(
    {
        Rejection.ID_MISMATCH,
        Rejection.CAPTURED_IN_FUTURE,
        Rejection.CAPTURED_BEYOND_LIMITATION,
        Rejection.EVIDENCE_MISSING,
        Rejection.EVIDENCE_MISMATCH,
        Rejection.MESSAGE_ID_CONFLICT,
    }
)


class DeviceIdentity(Protocol):
    """What the checks need to know of a registered device."""

    @property
    def kind(self) -> DeviceKind: ...
    @property
    def active(self) -> bool: ...
    @property
    def public_key(self) -> PublicKey: ...


@dataclass(frozen=True)
class Refused:
    # A roadside protocol's own checks (core.roadside) have codes of their own, with the same
    # retryable / after_signature properties.
    reason: Rejection | ProtocolRejection
    detail: str
    device_id: str | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class CaptureWindow:
    """When a fixation can have been captured, seen from the moment the registry received it:
    not later than the devices' allowed clock skew, not earlier than the limitation period
    (past it no case may be opened, so it could only wait in review for nothing)."""

    received_at: datetime
    clock_skew: timedelta
    limitation: timedelta


def implausible_capture(
    captured_at: datetime, window: CaptureWindow
) -> tuple[Rejection, str] | None:
    """Why a capture time cannot be true, or None when it can."""
    ahead = captured_at - window.received_at
    if ahead > window.clock_skew:
        return Rejection.CAPTURED_IN_FUTURE, (
            f"captured_at {captured_at.isoformat()} is {_duration(ahead)} after the registry"
            f" received it ({window.received_at.isoformat()}); a device clock may be off by at"
            f" most {_duration(window.clock_skew)}: check the camera's time source"
        )
    age = window.received_at - captured_at
    if age > window.limitation:
        return Rejection.CAPTURED_BEYOND_LIMITATION, (
            f"captured_at {captured_at.isoformat()} is {age.days} days before the registry"
            f" received it ({window.received_at.isoformat()}), beyond the limitation period of"
            f" {window.limitation.days} days"
        )
    return None


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    if seconds >= 120:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"


@dataclass(frozen=True)
class Accepted:
    envelope: SignedEnvelope
    body: Body
    envelope_json: str
    envelope_sha256: str
    body_json: str
    body_sha256: str


def _first_errors(exc: ValidationError, limit: int = 3) -> str:
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or 'message'}: {err['msg']}"
        for err in exc.errors()[:limit]
    ]
    more = exc.error_count() - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


Parsed = tuple[dict[str, object], SignedEnvelope, Body]


def parse_envelope(raw: bytes, *, max_bytes: int) -> Parsed | Refused:
    """Stage one, no trust needed: size, JSON, schema version, envelope and body schema."""
    if len(raw) > max_bytes:
        return Refused(
            Rejection.TOO_LARGE, f"message is {len(raw)} bytes; the limit is {max_bytes}"
        )
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Refused(Rejection.MALFORMED_JSON, f"message is not valid UTF-8 JSON: {exc}")
    if not isinstance(document, dict):
        return Refused(Rejection.MALFORMED_JSON, "message must be a JSON object")
    device_id = document.get("device_id") if isinstance(document.get("device_id"), str) else None
    message_id = document.get("message_id") if isinstance(document.get("message_id"), str) else None
    version = document.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        return Refused(
            Rejection.UNSUPPORTED_SCHEMA_VERSION,
            f"schema_version {version!r} is not one of {sorted(SUPPORTED_SCHEMA_VERSIONS)}",
            device_id,
            message_id,
        )
    try:
        envelope = SignedEnvelope.model_validate(document)
        body = envelope.parsed_body()
    except ValidationError as exc:
        return Refused(Rejection.SCHEMA_INVALID, _first_errors(exc), device_id, message_id)
    return document, envelope, body


def check_message(
    raw: bytes,
    *,
    max_bytes: int,
    topic_claim: tuple[str, MessageKind] | None,
    devices: Mapping[str, DeviceIdentity],
    evidence_sizes: Callable[[str], int | None],
    capture_window: CaptureWindow,
) -> Accepted | Refused:
    """Both stages for one message (the HTTP path and tests; the MQTT path batches them)."""
    parsed = parse_envelope(raw, max_bytes=max_bytes)
    if isinstance(parsed, Refused):
        return parsed
    return authenticate(
        parsed,
        topic_claim=topic_claim,
        devices=devices,
        evidence_sizes=evidence_sizes,
        capture_window=capture_window,
    )


def authenticate(
    parsed: Parsed,
    *,
    topic_claim: tuple[str, MessageKind] | None,
    devices: Mapping[str, DeviceIdentity],
    evidence_sizes: Callable[[str], int | None],
    capture_window: CaptureWindow,
) -> Accepted | Refused:
    """Stage two: decide whether a parsed message may be stored. ``topic_claim`` is the
    (device, kind) named by the MQTT topic, None over HTTP. ``evidence_sizes`` gives the stored
    size of an evidence image by sha256, or None when it has not been uploaded.
    ``capture_window`` bounds a fixation's capture time around the moment of receipt."""
    document, envelope, body = parsed
    device_id, message_id = envelope.device_id, str(envelope.message_id)

    def refuse(reason: Rejection, detail: str) -> Refused:
        return Refused(reason, detail, device_id, message_id)

    if topic_claim is not None and topic_claim != (device_id, envelope.kind):
        return refuse(
            Rejection.TOPIC_MISMATCH,
            f"a {envelope.kind.value} from {device_id} arrived on the topic of "
            f"{topic_claim[0]}/{topic_claim[1].value}",
        )
    device = devices.get(device_id)
    if device is None:
        return refuse(Rejection.UNKNOWN_DEVICE, f"device {device_id} is not registered")
    if not device.active:
        return refuse(Rejection.DEVICE_REVOKED, f"device {device_id} has been revoked")
    if envelope.kind not in PERMITTED_KINDS[device.kind]:
        return refuse(
            Rejection.KIND_NOT_PERMITTED,
            f"a {device.kind.value} may not send {envelope.kind.value} messages",
        )
    signed, body_json = signed_bytes_and_body(document)
    if not verify_signature(device.public_key, signed, envelope.signature):
        return refuse(
            Rejection.BAD_SIGNATURE, f"the signature does not verify with the key of {device_id}"
        )
    body_id = (
        body.fixation_id
        if isinstance(body, Fixation)
        else body.payment_id
        if isinstance(body, Payment)
        else body.protocol_id
        if isinstance(body, SignedRoadsideProtocol)
        else None
    )
    if body_id is not None and body_id != envelope.message_id:
        return refuse(
            Rejection.ID_MISMATCH,
            f"message_id {message_id} differs from the body's own id {body_id}: a resend must "
            "keep the id so it cannot be stored twice",
        )
    if isinstance(body, Fixation):
        # Before the evidence: a capture time that cannot be true is refused for good, even
        # while its images are still on their way.
        implausible = implausible_capture(body.captured_at, capture_window)
        if implausible is not None:
            return refuse(*implausible)
        for ref in body.evidence:
            size = evidence_sizes(ref.sha256)
            if size is None:
                return refuse(
                    Rejection.EVIDENCE_MISSING,
                    f"{ref.role.value} image {ref.sha256} has not been uploaded yet",
                )
            if size != ref.size_bytes:
                return refuse(
                    Rejection.EVIDENCE_MISMATCH,
                    f"{ref.role.value} image {ref.sha256} is {size} bytes on file, "
                    f"the fixation says {ref.size_bytes}",
                )
    # "signature" sorts last among the envelope's keys and no other key is allowed, so the
    # canonical envelope is the signed bytes with the signature appended: no second encoding.
    canonical = signed[:-1] + b',"signature":"' + envelope.signature.encode("ascii") + b'"}'
    return Accepted(
        envelope=envelope,
        body=body,
        envelope_json=canonical.decode("utf-8"),
        envelope_sha256=hashlib.sha256(canonical).hexdigest(),
        body_json=body_json.decode("utf-8"),
        body_sha256=hashlib.sha256(body_json).hexdigest(),
    )
