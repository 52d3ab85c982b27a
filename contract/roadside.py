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

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

IIN_PATTERN = r"^\d{12}$"
PROTOCOL_NUMBER_PATTERN = r"^[A-Z0-9][A-Z0-9-]{5,39}$"


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

    @model_validator(mode="after")
    def _outcome_and_signature(self) -> Self:
        if self.outcome is ProtocolOutcome.FINE and self.amount_minor is None:
            raise ValueError("a fine needs its amount")
        if self.outcome is ProtocolOutcome.WARNING and self.amount_minor is not None:
            raise ValueError("a warning carries no amount")
        signed = self.driver_signature is DriverSignature.SIGNED
        if signed != (self.driver_signature_sha256 is not None):
            raise ValueError("the drawn signature's hash goes with 'signed' and only with 'signed'")
        return self


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
