"""The wire contract: every message a device sends to the registry, and the registry's receipts.

Camera boxes, payment terminals and the central ingest all import these models; nobody copies
them. A message travels as one signed envelope (``SignedEnvelope``): the signature covers the
canonical JSON of every field except ``signature`` itself (see ``contract.signing``).

Money is carried in minor units (tiyn, 1/100 KZT) because half of an odd fine is not a whole
tenge. Times are UTC with an explicit offset; the registry shows local time (UTC+5).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

from contract.roadside import SignedRoadsideProtocol

SCHEMA_VERSION = 1
"""Bumped on any change that an older ingest could not read. The ingest refuses versions it does
not know instead of guessing."""

SUPPORTED_SCHEMA_VERSIONS = frozenset({1})

DEVICE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,63}$"
SHA256_HEX_PATTERN = r"^[0-9a-f]{64}$"
CURRENCY_KZT: Literal["KZT"] = "KZT"


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
DeviceId = Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
Sha256Hex = Annotated[str, Field(pattern=SHA256_HEX_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class MessageKind(StrEnum):
    FIXATION = "fixation"
    PAYMENT = "payment"
    DEVICE_STATUS = "device_status"
    # An officer's roadside protocol (contract.roadside), sent by his car's terminal.
    ROADSIDE_PROTOCOL = "roadside_protocol"


class DeviceKind(StrEnum):
    CAMERA = "camera"
    TERMINAL = "terminal"
    BANK = "bank"


# Which device kinds may send which messages: a camera never reports a payment.
PERMITTED_KINDS: dict[DeviceKind, frozenset[MessageKind]] = {
    DeviceKind.CAMERA: frozenset({MessageKind.FIXATION, MessageKind.DEVICE_STATUS}),
    DeviceKind.TERMINAL: frozenset(
        {MessageKind.PAYMENT, MessageKind.DEVICE_STATUS, MessageKind.ROADSIDE_PROTOCOL}
    ),
    DeviceKind.BANK: frozenset({MessageKind.PAYMENT}),
}


class EvidenceRole(StrEnum):
    FULL_FRAME = "full_frame"
    PLATE_CROP = "plate_crop"
    CONTEXT = "context"


class EvidenceRef(_Strict):
    """An evidence image uploaded separately (HTTP PUT keyed by its sha256)."""

    role: EvidenceRole
    sha256: Sha256Hex
    content_type: Literal["image/jpeg"] = "image/jpeg"
    size_bytes: int = Field(gt=0, le=20_000_000)
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)


class ViolationCode(StrEnum):
    SPEEDING = "speeding"
    RED_LIGHT = "red_light"
    BUS_LANE = "bus_lane"
    PHONE = "phone"
    SEAT_BELT = "seat_belt"


class ClockSource(StrEnum):
    GPS = "gps"
    NTP = "ntp"
    RTC = "rtc"


class PlateRead(_Strict):
    text: str = Field(
        min_length=2,
        max_length=12,
        pattern=r"^[A-Z0-9]+$",
        description="The plate in its canonical form: Latin capitals and digits, no spaces "
        "(123ABC01); the Cyrillic letters of Russian plates as their Latin look-alikes "
        "(А В Е К М Н О Р С Т У Х as A B E K M H O P C T Y X)",
    )
    confidence: float = Field(ge=0.0, le=1.0)
    format: str = Field(
        min_length=1,
        max_length=32,
        description="The plate's layout (models.plate_format): kz_person, kz_organisation, "
        "ru_car, kg_person, uz_person ..., or generic",
    )
    box: tuple[int, int, int, int] | None = Field(
        default=None, description="x, y, width, height of the plate in the full frame"
    )


class Position(_Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    fix_quality: int = Field(ge=0, le=8, description="NMEA GGA fix quality")
    satellites: int = Field(ge=0, le=64)


class Measurement(_Strict):
    """Sensor data joined to the read; which fields are present depends on the violation."""

    speed_kmh: float | None = Field(default=None, ge=0, le=400)
    limit_kmh: int | None = Field(default=None, gt=0, le=200)
    tolerance_kmh: int | None = Field(default=None, ge=0, le=50)
    light_phase: Literal["red", "amber", "green"] | None = None
    red_elapsed_ms: int | None = Field(default=None, ge=0)
    lane: str | None = Field(default=None, max_length=32)


class Fixation(_Strict):
    """One recorded violation, as the camera box saw it. Never a case by itself: an officer must
    confirm it first."""

    fixation_id: UUID
    sequence: int = Field(ge=0, description="per-camera sequence number, monotonically increasing")
    captured_at: UtcDatetime
    clock_source: ClockSource
    violation: ViolationCode
    plate: PlateRead
    measurement: Measurement
    position: Position | None = None
    zone: str = Field(min_length=1, max_length=120, description="place name or zone id")
    evidence: list[EvidenceRef] = Field(min_length=1, max_length=8)

    @field_validator("evidence")
    @classmethod
    def _one_full_frame(cls, evidence: list[EvidenceRef]) -> list[EvidenceRef]:
        if not any(ref.role is EvidenceRole.FULL_FRAME for ref in evidence):
            raise ValueError("a fixation needs at least one full_frame evidence image")
        hashes = [ref.sha256 for ref in evidence]
        if len(set(hashes)) != len(hashes):
            raise ValueError("a fixation lists the same evidence image twice")
        return evidence


_MASKED_PAN = re.compile(r"^\d{6}\*{2,9}\d{4}$")


def _masked_pan(value: str) -> str:
    if not _MASKED_PAN.fullmatch(value):
        raise ValueError("card number must be masked: first 6 and last 4 digits, '*' between")
    return value


class PaymentChannel(StrEnum):
    TERMINAL = "terminal"
    BANK = "bank"
    EGOV = "egov"


class CardData(_Strict):
    """What may be kept of a card: never the full number, track data, CVV or PIN."""

    masked_pan: Annotated[str, AfterValidator(_masked_pan)]
    scheme: str = Field(min_length=2, max_length=20)
    aid: str | None = Field(default=None, pattern=r"^[0-9A-F]{10,32}$")


class AcquirerRefs(_Strict):
    approval_code: str = Field(min_length=1, max_length=6)
    rrn: str = Field(min_length=1, max_length=12)
    stan: str = Field(min_length=1, max_length=6)
    terminal_id: str | None = Field(default=None, max_length=16)


class Payment(_Strict):
    payment_id: UUID = Field(description="client-generated idempotency key")
    case_number: str = Field(min_length=3, max_length=40)
    amount_minor: int = Field(gt=0, description="amount paid, in tiyn (1/100 KZT)")
    currency: Literal["KZT"] = CURRENCY_KZT
    paid_at: UtcDatetime
    channel: PaymentChannel
    payer_iin: str | None = Field(default=None, pattern=r"^\d{12}$")
    card: CardData | None = None
    acquirer: AcquirerRefs | None = None


class DeviceStatus(_Strict):
    online: bool
    tamper: bool = False
    disk_free_pct: float | None = Field(default=None, ge=0, le=100)
    queue_depth: int | None = Field(default=None, ge=0)
    camera_ok: bool | None = None
    sensors_ok: bool | None = None
    # Counted by the box so that the registry can count and alert on them; None: not reported
    # (a last will, or a box from before these fields).
    dead_letters: int | None = Field(
        default=None, ge=0, description="Fixations the registry refused, kept on the box"
    )
    evictions: int | None = Field(
        default=None, ge=0, description="Evidence files the box deleted for want of space"
    )
    detail: str | None = Field(default=None, max_length=500)


Body = Fixation | Payment | DeviceStatus | SignedRoadsideProtocol
BODY_MODELS: dict[
    MessageKind,
    type[Fixation] | type[Payment] | type[DeviceStatus] | type[SignedRoadsideProtocol],
] = {
    MessageKind.FIXATION: Fixation,
    MessageKind.PAYMENT: Payment,
    MessageKind.DEVICE_STATUS: DeviceStatus,
    MessageKind.ROADSIDE_PROTOCOL: SignedRoadsideProtocol,
}


class SignedEnvelope(_Strict):
    """What travels over MQTT and HTTP. ``message_id`` is the deduplication key: a replay or a
    resend of the same message carries the same id and is stored once."""

    schema_version: int
    kind: MessageKind
    device_id: DeviceId
    message_id: UUID
    sent_at: UtcDatetime
    body: dict[str, Any]
    signature: str = Field(
        pattern=r"^[A-Za-z0-9_-]{86}$", description="Ed25519, base64url, no padding"
    )

    def parsed_body(self) -> Body:
        """Validate ``body`` against the model of ``kind``. Raises pydantic.ValidationError."""
        return BODY_MODELS[self.kind].model_validate(self.body)


class ReceiptStatus(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    RETRY = "retry"


class ReceiptEntry(_Strict):
    message_id: UUID
    status: ReceiptStatus
    reason: str | None = None


class Receipt(_Strict):
    """The registry's application-level acknowledgement, sent after its own commit. A device
    deletes a message from its outbox only on ``stored`` or ``duplicate``."""

    schema_version: int = SCHEMA_VERSION
    device_id: DeviceId
    issued_at: UtcDatetime
    entries: list[ReceiptEntry]


def now_utc() -> datetime:
    return datetime.now(UTC)
