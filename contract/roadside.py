"""The roadside protocol: what a patrol officer draws up at the roadside and signs with his token.

Two signatures cover it. The officer's: a CMS (PKCS#7) detached signature over the protocol's
canonical form (``protocol_signed_bytes``), made on his personal token with the certificate the
agency's CA issued him (``contract.cms``). The terminal's: the device seal every message carries
(``contract.signing.seal``), over the envelope whose body is a ``SignedRoadsideProtocol``.

The officer signs the JSON form exactly as it travels, and the registry verifies the canonical
form of the dict it received, so neither side depends on model defaults or float formatting of
another version.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

IIN_PATTERN = r"^\d{12}$"
PROTOCOL_NUMBER_PATTERN = r"^[A-Z0-9][A-Z0-9-]{5,39}$"
AGENCY_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,15}$"
DEVICE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,63}$"
MAX_PROTOCOL_SEQUENCE = 99_999_999
"""The largest number ``format_protocol_number`` writes in its eight digits."""
MAX_PROTOCOL_PHOTOS = 6
_PROTOCOL_NUMBER_RE = re.compile(r"^(?P<prefix>[A-Z0-9][A-Z0-9-]{1,15})-R(?P<n>\d{8})$")


def format_protocol_number(prefix: str, n: int) -> str:
    """A roadside protocol's number, which is also its case's number: the agency's code, ``-R``
    and eight digits (``KZ-GP-R00000417``). The ``R`` keeps it apart from camera case numbers
    (``KZ-GP-2026-0000417``), so the two series can never collide."""
    if not re.fullmatch(AGENCY_CODE_PATTERN, prefix):
        raise ValueError(f"protocol number prefix {prefix!r} is not an agency code")
    if not 1 <= n <= MAX_PROTOCOL_SEQUENCE:
        raise ValueError(f"protocol sequence {n} is outside 1..{MAX_PROTOCOL_SEQUENCE}")
    return f"{prefix}-R{n:08d}"


def parse_protocol_number(number: str) -> tuple[str, int] | None:
    """``(prefix, n)`` of a number ``format_protocol_number`` wrote; None for any other form."""
    match = _PROTOCOL_NUMBER_RE.fullmatch(number)
    if match is None:
        return None
    return match["prefix"], int(match["n"])


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


_UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ProtocolOutcome(StrEnum):
    WARNING = "warning"
    FINE = "fine"


class ProtocolPlace(_Strict):
    """Where the offence was recorded: the car's GPS fix, or an address the officer typed when
    there was no fix (``manual``: the registry and a court see it was not measured)."""

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, min_length=3, max_length=300)
    manual: bool = Field(description="true: typed by the officer, no GPS fix")

    @model_validator(mode="after")
    def _fix_or_address(self) -> Self:
        has_fix = self.lat is not None and self.lon is not None
        if (self.lat is None) != (self.lon is None):
            raise ValueError("a place needs both latitude and longitude, or neither")
        if self.manual and not self.address:
            raise ValueError("a place typed by hand needs its address")
        if not self.manual and not has_fix:
            raise ValueError("a place without a GPS fix must be a manual address (manual=true)")
        return self


class DriverSignature(StrEnum):
    SIGNED = "signed"
    REFUSED = "refused"


class RoadsideProtocol(_Strict):
    """An administrative-offence protocol as the officer signs it (first version)."""

    protocol_id: UUID = Field(description="the terminal's idempotency key; the message id")
    protocol_number: str = Field(pattern=PROTOCOL_NUMBER_PATTERN)
    officer_iin: str = Field(pattern=IIN_PATTERN, description="as in the officer's certificate")
    plate: str = Field(min_length=2, max_length=12, pattern=r"^[A-Z0-9]+$")
    person_iin: str | None = Field(default=None, pattern=IIN_PATTERN)
    article: str = Field(min_length=1, max_length=16, description="article of the Code")
    part: int = Field(ge=1, le=20)
    outcome: ProtocolOutcome
    amount_minor: int | None = Field(
        default=None, gt=0, description="the fine in tiyn; none for a warning"
    )
    place: ProtocolPlace
    drawn_up_at: _UtcDatetime
    description: str = Field(min_length=1, max_length=4000)
    driver_explanation: str | None = Field(default=None, max_length=4000)
    driver_signature: DriverSignature
    driver_signature_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="hash of the signature drawn on the screen, when the driver signed",
    )
    photo_sha256: list[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = Field(
        default_factory=list,
        max_length=MAX_PROTOCOL_PHOTOS,
        description=(
            "hex SHA-256 of each JPEG photo taken at the stop, uploaded as camera evidence is"
        ),
    )

    @model_validator(mode="after")
    def _outcome_and_signature(self) -> Self:
        if self.outcome is ProtocolOutcome.FINE and self.amount_minor is None:
            raise ValueError("a fine needs its amount")
        if self.outcome is ProtocolOutcome.WARNING and self.amount_minor is not None:
            raise ValueError("a warning carries no amount")
        signed = self.driver_signature is DriverSignature.SIGNED
        if signed != (self.driver_signature_sha256 is not None):
            raise ValueError("the drawn signature's hash goes with 'signed' and only with 'signed'")
        if len(set(self.photo_sha256)) != len(self.photo_sha256):
            raise ValueError("the same photo is listed twice")
        return self

    @model_serializer(mode="wrap")
    def _without_empty_photos(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        # A protocol without photos dumps exactly as before the field existed: its canonical
        # form, and so every signature made over it, stays the same for old and new readers.
        dumped: dict[str, Any] = handler(self)
        if not self.photo_sha256:
            dumped.pop("photo_sha256", None)
        return dumped


class ProtocolNumberBlock(_Strict):
    """A run of protocol numbers the registry set aside for one terminal, ``first`` to ``last``
    inclusive, so that the terminal can number, print and take payment for protocols with no
    network. Blocks never overlap, so a number (and the case number, which is the same) is
    unique without asking the registry; the registry refuses a protocol whose number is not in
    a block issued to the terminal that sent it."""

    prefix: str = Field(pattern=AGENCY_CODE_PATTERN, description="the agency's code")
    first: int = Field(ge=1, le=MAX_PROTOCOL_SEQUENCE)
    last: int = Field(ge=1, le=MAX_PROTOCOL_SEQUENCE)
    device_id: str = Field(pattern=DEVICE_ID_PATTERN, description="the terminal it belongs to")
    issued_at: _UtcDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.last < self.first:
            raise ValueError("a block's last number comes before its first")
        return self

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def number(self, n: int) -> str:
        """The formatted number ``n`` of this block."""
        if not self.first <= n <= self.last:
            raise ValueError(f"{n} is outside the block {self.first}..{self.last}")
        return format_protocol_number(self.prefix, n)

    def contains(self, protocol_number: str) -> bool:
        parsed = parse_protocol_number(protocol_number)
        return (
            parsed is not None and parsed[0] == self.prefix and self.first <= parsed[1] <= self.last
        )


class SignedRoadsideProtocol(_Strict):
    """The body of a ``roadside_protocol`` message: the protocol as signed, and the officer's
    CMS detached signature over its canonical form (DER, base64url without padding). The
    officer's certificate travels inside the CMS."""

    protocol: RoadsideProtocol
    officer_cms: str = Field(min_length=16, max_length=16_000, pattern=r"^[A-Za-z0-9_-]+$")

    @property
    def protocol_id(self) -> UUID:
        """``seal`` takes the message id from here: a resend deduplicates."""
        return self.protocol.protocol_id


def protocol_signed_bytes(protocol: RoadsideProtocol | dict[str, Any]) -> bytes:
    """The exact bytes the officer signs: the canonical JSON form of the protocol."""
    # Imported here: contract.signing imports contract.wire, which imports this module.
    from contract.signing import canonical_json

    document = protocol.model_dump(mode="json") if isinstance(protocol, BaseModel) else protocol
    return canonical_json(document)
