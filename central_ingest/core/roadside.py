"""The registry's checks of a roadside protocol before it may open a case.

A protocol travels in a device envelope (``contract.roadside``) and carries two signatures. It
is accepted only when every check below holds; each failure has its own reason code and its
own sentence, because the duty officer who reads the dead-letters must know whether to call
the car (device), the certification centre (certificate) or personnel (officer):

1. the terminal's device signature over the envelope (``bad_device_signature``);
2. the body is a well-formed signed protocol (``protocol_malformed``);
3. the officer's CMS signature verifies over the protocol's canonical form
   (``officer_signature_invalid``);
4. the certificate was issued by one of the agency's CA certificates the registry trusts
   (``certificate_untrusted``: another CA, or a forged one), is meant for signing
   (``certificate_not_for_signing``) and was valid when the protocol was signed
   (``certificate_expired``, ``certificate_not_yet_valid``);
5. that CA's certificate revocation list, signed by it and not out of date, does not list it
   (``certificate_revoked``; ``revocation_unknown`` when there is no such list);
6. the certificate names a valid IIN (``certificate_without_iin``), the protocol's own
   officer IIN is that one (``officer_mismatch``), and it belongs to an active officer
   (``not_an_active_officer``);
7. then, by the registry's service with its own records: the number lies in a block the
   registry issued to the very terminal that sent it (``protocol_number_not_issued``), the
   article is one of the registry's fine schedule (``article_unknown``) and the fine is that
   article's in MRP of the day (``amount_mismatch``), and its photos were uploaded
   (``photo_missing``, the terminal sends again).

A revoked certificate refuses the protocol whatever its signing time: that time is the
terminal's claim, and a stolen token's thief would claim an earlier one.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from pydantic import ValidationError

from central_ingest.core.errors import DomainError
from central_ingest.core.fines import FineSchedule, fine_minor
from central_ingest.core.iin import is_valid_iin
from contract.cms import CmsError, verify_detached
from contract.officer_certificate import Validity, certificate_iin, validity_at
from contract.roadside import RoadsideProtocol, SignedRoadsideProtocol, protocol_signed_bytes
from contract.signing import PublicKey, signed_bytes_and_body, verify_signature
from contract.wire import MessageKind, ViolationCode
from i18n.text import Text

_DAY = "%Y-%m-%d %H:%M UTC"


class ProtocolRejection(StrEnum):
    BAD_DEVICE_SIGNATURE = "bad_device_signature"
    MALFORMED = "protocol_malformed"
    OFFICER_SIGNATURE_INVALID = "officer_signature_invalid"
    CERTIFICATE_UNTRUSTED = "certificate_untrusted"
    CERTIFICATE_NOT_FOR_SIGNING = "certificate_not_for_signing"
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_NOT_YET_VALID = "certificate_not_yet_valid"
    CERTIFICATE_REVOKED = "certificate_revoked"
    REVOCATION_UNKNOWN = "revocation_unknown"
    CERTIFICATE_WITHOUT_IIN = "certificate_without_iin"
    OFFICER_MISMATCH = "officer_mismatch"
    NOT_AN_ACTIVE_OFFICER = "not_an_active_officer"
    NUMBER_NOT_ISSUED = "protocol_number_not_issued"
    ARTICLE_UNKNOWN = "article_unknown"
    AMOUNT_MISMATCH = "amount_mismatch"
    PHOTO_MISSING = "photo_missing"

    @property
    def retryable(self) -> bool:
        """The terminal should send it again later: the registry lacks a current revocation
        list, or a photo is still on its way. Every other refusal is final."""
        return self in (ProtocolRejection.REVOCATION_UNKNOWN, ProtocolRejection.PHOTO_MISSING)

    @property
    def after_signature(self) -> bool:
        """As ``core.intake.Rejection.after_signature``: only a message whose device signature
        verified is answered, and kept whole in the dead-letters."""
        return self is not ProtocolRejection.BAD_DEVICE_SIGNATURE


class ProtocolRefused(DomainError):
    def __init__(self, reason: ProtocolRejection, text: Text) -> None:
        super().__init__(reason.value, text)
        self.reason = reason


@dataclass(frozen=True)
class OfficerTrust:
    """The agency's CA certificates the registry trusts for officers, and their current
    revocation lists (the registry publishes them; any CRL not signed by an anchor is ignored)."""

    anchors: tuple[x509.Certificate, ...]
    crls: tuple[x509.CertificateRevocationList, ...] = ()


@dataclass(frozen=True)
class VerifiedProtocol:
    protocol: RoadsideProtocol
    officer_iin: str
    certificate_serial: int
    signed_at: datetime


def verify_roadside_protocol(
    document: Mapping[str, Any],
    *,
    device_key: PublicKey,
    trust: OfficerTrust,
    is_active_officer: Callable[[str], bool],
    now: datetime,
) -> VerifiedProtocol:
    """Every check of a received protocol envelope (the dict as parsed from the wire), in the
    order above. Raises ``ProtocolRefused`` with the first failing check's reason."""
    signed, _ = signed_bytes_and_body(dict(document))
    signature = document.get("signature")
    if not isinstance(signature, str) or not verify_signature(device_key, signed, signature):
        raise ProtocolRefused(
            ProtocolRejection.BAD_DEVICE_SIGNATURE,
            Text("The terminal's signature over the protocol message does not verify."),
        )
    body = document.get("body")
    if document.get("kind") != MessageKind.ROADSIDE_PROTOCOL.value or not isinstance(body, dict):
        raise _malformed("the message is not a roadside protocol")
    try:
        parsed = SignedRoadsideProtocol.model_validate(body)
        padded = parsed.officer_cms + "=" * (-len(parsed.officer_cms) % 4)
        cms_der = base64.urlsafe_b64decode(padded)
    except (ValidationError, ValueError) as exc:
        raise _malformed(str(exc).splitlines()[0]) from None
    try:
        # Verify the canonical form of what was received, not of the re-read model.
        cms = verify_detached(cms_der, protocol_signed_bytes(body["protocol"]))
    except CmsError as exc:
        raise ProtocolRefused(
            ProtocolRejection.OFFICER_SIGNATURE_INVALID,
            Text(
                "The officer's signature does not verify over this protocol (%(detail)s).",
                detail=str(exc),
            ),
        ) from None
    certificate = cms.certificate
    signed_at = cms.signing_time or parsed.protocol.drawn_up_at
    anchor = _issuer(certificate, trust.anchors)
    _check_use_and_dates(certificate, signed_at)
    _check_revocation(certificate, anchor, trust.crls, now)
    iin = certificate_iin(certificate)
    if iin is None or not is_valid_iin(iin):
        raise ProtocolRefused(
            ProtocolRejection.CERTIFICATE_WITHOUT_IIN,
            Text(
                "The signing certificate names no valid IIN (its serialNumber must be 'IIN'"
                " and a valid 12-digit IIN)."
            ),
        )
    if iin != parsed.protocol.officer_iin:
        raise ProtocolRefused(
            ProtocolRejection.OFFICER_MISMATCH,
            Text(
                "The protocol names officer %(named)s but was signed with the certificate of"
                " %(signer)s.",
                named=parsed.protocol.officer_iin,
                signer=iin,
            ),
        )
    if not is_active_officer(iin):
        raise ProtocolRefused(
            ProtocolRejection.NOT_AN_ACTIVE_OFFICER,
            Text(
                "The IIN %(iin)s in the signing certificate is not an active officer of the"
                " registry.",
                iin=iin,
            ),
        )
    return VerifiedProtocol(parsed.protocol, iin, certificate.serial_number, signed_at)


def _malformed(detail: str) -> ProtocolRefused:
    return ProtocolRefused(
        ProtocolRejection.MALFORMED,
        Text("The roadside protocol cannot be read: %(detail)s.", detail=detail),
    )


def _issuer(
    certificate: x509.Certificate, anchors: tuple[x509.Certificate, ...]
) -> x509.Certificate:
    for anchor in anchors:
        try:
            certificate.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return anchor
    raise ProtocolRefused(
        ProtocolRejection.CERTIFICATE_UNTRUSTED,
        Text(
            "The signing certificate was not issued by the agency's certification authority"
            " (its issuer is %(issuer)s).",
            issuer=certificate.issuer.rfc4514_string(),
        ),
    )


def _check_use_and_dates(certificate: x509.Certificate, signed_at: datetime) -> None:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        for_signing = usage.digital_signature or usage.content_commitment
    except x509.ExtensionNotFound:
        for_signing = False
    if not for_signing:
        raise ProtocolRefused(
            ProtocolRejection.CERTIFICATE_NOT_FOR_SIGNING,
            Text("The certificate is not issued for signing documents (its key usage)."),
        )
    validity = validity_at(certificate, signed_at)
    if validity is Validity.EXPIRED:
        raise ProtocolRefused(
            ProtocolRejection.CERTIFICATE_EXPIRED,
            Text(
                "The signing certificate expired on %(expired)s, before the protocol was"
                " signed on %(signed)s.",
                expired=certificate.not_valid_after_utc.strftime(_DAY),
                signed=signed_at.strftime(_DAY),
            ),
        )
    if validity is Validity.NOT_YET_VALID:
        raise ProtocolRefused(
            ProtocolRejection.CERTIFICATE_NOT_YET_VALID,
            Text(
                "The signing certificate is valid only from %(valid_from)s, after the protocol"
                " was signed on %(signed)s.",
                valid_from=certificate.not_valid_before_utc.strftime(_DAY),
                signed=signed_at.strftime(_DAY),
            ),
        )


def _check_revocation(
    certificate: x509.Certificate,
    anchor: x509.Certificate,
    crls: tuple[x509.CertificateRevocationList, ...],
    now: datetime,
) -> None:
    current = [
        crl
        for crl in crls
        if crl.issuer == anchor.subject
        and crl.is_signature_valid(anchor.public_key())  # type: ignore[arg-type]
        and (crl.next_update_utc is None or crl.next_update_utc >= now)
    ]
    if not current:
        raise ProtocolRefused(
            ProtocolRejection.REVOCATION_UNKNOWN,
            Text(
                "There is no current revocation list of %(issuer)s: whether the certificate was"
                " revoked cannot be told.",
                issuer=anchor.subject.rfc4514_string(),
            ),
        )
    newest = max(current, key=lambda crl: crl.last_update_utc)
    revoked = newest.get_revoked_certificate_by_serial_number(certificate.serial_number)
    if revoked is not None:
        raise ProtocolRefused(
            ProtocolRejection.CERTIFICATE_REVOKED,
            Text(
                "The signing certificate (serial %(serial)s) was revoked on %(date)s.",
                serial=format(certificate.serial_number, "x"),
                date=revoked.revocation_date_utc.strftime(_DAY),
            ),
        )


@dataclass(frozen=True)
class RoadsideAssessment:
    """What the registry makes of a protocol's article: the camera violation it stands under
    (cases are kept by violation) and the fine in MRP (0 for a warning)."""

    violation: ViolationCode
    fine_mrp: int


def assess_protocol(
    protocol: RoadsideProtocol, schedule: FineSchedule, mrp_kzt: int
) -> RoadsideAssessment:
    """The protocol's article against the registry's fine schedule. A part the schedule lists
    must carry its fine exactly (its MRP times the MRP of the offence's day); a part it does
    not list (a repeat offence, say) must carry whole MRP."""
    article, part = protocol.article, str(protocol.part)
    listed: dict[ViolationCode, dict[str, int]] = {
        ViolationCode.SPEEDING: {band.part: band.fine_mrp for band in schedule.speeding_bands}
    }
    articles = {schedule.speeding_article: ViolationCode.SPEEDING}
    for code, fixed in schedule.fixed.items():
        articles.setdefault(fixed.article, code)
        listed.setdefault(code, {})[fixed.part] = fixed.fine_mrp
    violation = articles.get(article)
    if violation is None:
        raise ProtocolRefused(
            ProtocolRejection.ARTICLE_UNKNOWN,
            Text(
                "Article %(article)s is not in the registry's fine schedule: the terminal's code"
                " table and the registry's differ.",
                article=article,
            ),
        )
    amount = protocol.amount_minor
    if amount is None:
        return RoadsideAssessment(violation, 0)
    per_mrp = fine_minor(1, mrp_kzt)
    fine_mrp = listed.get(violation, {}).get(part)
    if fine_mrp is None and amount % per_mrp == 0:
        fine_mrp = amount // per_mrp
    if fine_mrp is None or amount != fine_minor(fine_mrp, mrp_kzt):
        raise ProtocolRefused(
            ProtocolRejection.AMOUNT_MISMATCH,
            Text(
                "The protocol's fine of %(amount)s tiyn is not the fine of article %(article)s"
                " part %(part)s at %(mrp)s tenge per MRP (%(expected)s).",
                amount=amount,
                article=article,
                part=part,
                mrp=mrp_kzt,
                expected="whole MRP" if fine_mrp is None else fine_minor(fine_mrp, mrp_kzt),
            ),
        )
    return RoadsideAssessment(violation, fine_mrp)


def number_not_issued(protocol_number: str, device_id: str) -> ProtocolRefused:
    return ProtocolRefused(
        ProtocolRejection.NUMBER_NOT_ISSUED,
        Text(
            "Protocol number %(number)s was not issued to terminal %(device)s: it lies in none of"
            " the blocks of numbers the registry gave that terminal.",
            number=protocol_number,
            device=device_id,
        ),
    )


def photo_missing(sha256: str) -> ProtocolRefused:
    return ProtocolRefused(
        ProtocolRejection.PHOTO_MISSING,
        Text(
            "Photo %(sha256)s of the protocol has not been uploaded yet; the terminal sends the"
            " protocol again once it is.",
            sha256=sha256,
        ),
    )
