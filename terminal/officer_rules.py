"""The rules of the officer's sign-in, apart from the token: PIN tries and certificate dates.

PKCS#11 does not say how many PIN tries a token has left: it only raises flags (count low,
final try, locked). A real token counts and locks by itself; Debian's SoftHSM2 only ever sets
"count low" and never locks. So the terminal keeps its own count per token (by its serial
number) and locks the token for itself at ``limit`` wrong PINs in a row, whichever comes first:
the officer hears a number, and a guessed PIN meets a lock on every token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from contract.officer_certificate import Validity, certificate_iin, validity_at
from i18n import Message, PluralText, Text
from terminal.messages import SpokenError

DEFAULT_PIN_LIMIT = 10
UNLOCKED_BY = Text(
    "The agency's token administrator unlocks it with the security officer's PIN; until then"
    " the officer cannot sign."
)


class TokenLocked(SpokenError):
    pass


class WrongPin(SpokenError):
    def __init__(self, text: Message, tries_left: int) -> None:
        super().__init__(text)
        self.tries_left = tries_left


class TokenGone(SpokenError):
    """The token was pulled out or stopped answering: nothing was signed."""


class CertificateRefused(SpokenError):
    pass


def locked_text(serial: str) -> Text:
    return Text(
        "The signing token %(serial)s is locked after too many wrong PINs. %(who)s",
        serial=serial,
        who=UNLOCKED_BY,
    )


@dataclass(frozen=True)
class TokenPinFlags:
    """What the token says about its own PIN counter (PKCS#11 CKF_USER_PIN_* flags)."""

    count_low: bool = False
    final_try: bool = False
    locked: bool = False


def tries_left(limit: int, wrong_in_a_row: int, flags: TokenPinFlags) -> int:
    """The smaller of the terminal's count and what the token's flags allow."""
    left = max(limit - wrong_in_a_row, 0)
    if flags.locked:
        return 0
    if flags.final_try:
        return min(left, 1)
    return left


def wrong_pin_error(serial: str, left: int) -> SpokenError:
    if left <= 0:
        return TokenLocked(locked_text(serial))
    return WrongPin(
        PluralText(
            "Wrong PIN: %(count)s try left before the token locks.",
            "Wrong PIN: %(count)s tries left before the token locks.",
            left,
            count=left,
        ),
        left,
    )


def check_certificate(certificate: x509.Certificate, now: datetime) -> str:
    """The officer's IIN if his certificate may sign now; else ``CertificateRefused`` saying
    which date stops it."""
    validity = validity_at(certificate, now)
    if validity is Validity.EXPIRED:
        raise CertificateRefused(
            Text(
                "The certificate on the token expired on %(date)s: the officer cannot sign"
                " with it. Ask the agency's certification centre for a new one.",
                date=certificate.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC"),
            )
        )
    if validity is Validity.NOT_YET_VALID:
        raise CertificateRefused(
            Text(
                "The certificate on the token is valid only from %(date)s: check the"
                " terminal's clock, or wait until then.",
                date=certificate.not_valid_before_utc.strftime("%Y-%m-%d %H:%M UTC"),
            )
        )
    iin = certificate_iin(certificate)
    if iin is None:
        raise CertificateRefused(
            Text(
                "The certificate on the token names no IIN (its serialNumber is not 'IIN'"
                " and 12 digits): it is not an officer's signing certificate."
            )
        )
    return iin
