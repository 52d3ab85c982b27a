"""The signed notification a bank or eGov sends for each payment it took for a case: its body,
its headers and what its Ed25519 signature covers. The institution's side is
``notification_headers`` (tests and the demo sign with it); the registry checks them in
``ingest.bank_payments``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from central_ingest.core.errors import Forbidden, InvalidInput
from contract import DeviceKey, now_utc
from contract.signing import canonical_json
from contract.wire import UtcDatetime
from i18n.text import Text

NOTIFICATIONS_PATH = "/v1/payments/notifications"
INSTITUTION_HEADER = "X-Erap-Institution"
TIMESTAMP_HEADER = "X-Erap-Timestamp"
NONCE_HEADER = "X-Erap-Nonce"
SIGNATURE_HEADER = "X-Erap-Signature"
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class PaymentNotification(BaseModel):
    """What a bank or eGov says of one payment it took for a case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: str = Field(
        min_length=1,
        max_length=35,
        pattern=r"^[A-Za-z0-9/_.:-]+$",
        description="the institution's own reference of the payment: the AcctSvcrRef its"
        " statement gives the same payment",
    )
    case_number: str = Field(min_length=3, max_length=40, description="as the payer gave it")
    amount_minor: int = Field(gt=0, description="amount paid, in tiyn (1/100 KZT)")
    currency: Literal["KZT"] = "KZT"
    paid_at: UtcDatetime


class NotificationRefused(Forbidden):
    """The notification is not from a known institution, or not signed by it just now."""


def notification_signing_bytes(
    *, institution: str, timestamp: str, nonce: str, body_sha256: str
) -> bytes:
    """What an institution signs: the request, its time, its nonce and the body's hash."""
    return canonical_json(
        {
            "method": "POST",
            "path": NOTIFICATIONS_PATH,
            "institution": institution,
            "timestamp": timestamp,
            "nonce": nonce,
            "body_sha256": body_sha256,
        }
    )


def notification_headers(
    key: DeviceKey, institution: str, body: bytes, *, nonce: str, now: datetime | None = None
) -> dict[str, str]:
    """The headers an institution sends with ``body`` (its side of the protocol: tests, demo)."""
    timestamp = (now or now_utc()).isoformat()
    data = notification_signing_bytes(
        institution=institution,
        timestamp=timestamp,
        nonce=nonce,
        body_sha256=hashlib.sha256(body).hexdigest(),
    )
    return {
        INSTITUTION_HEADER: institution,
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: key.sign(data),
    }


def parse_notification(body: bytes) -> PaymentNotification:
    try:
        return PaymentNotification.model_validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors()[:3]
        )
        raise InvalidInput(
            "notification_invalid",
            Text("The notification is not a payment report: %(problems)s.", problems=problems),
        ) from None
