"""CMS (PKCS#7, RFC 5652) detached signatures, as an officer's token makes them.

``cryptography``'s PKCS7 builder needs the private key object, and a signing token never gives
it out: so the SignedData is assembled here with ``asn1crypto`` and only the DER of the signed
attributes goes to the token (``sign_detached`` takes the token's sign function). Verification
(``verify_detached``) is the registry's: the message digest attribute must match the content,
the signature must verify with the certificate carried inside. Trust in that certificate (chain,
revocation, whose it is) is the caller's decision.

Algorithms: SHA-256 with ECDSA (P-256, as the agency's CA issues) or RSA PKCS#1 v1.5 (the
national CA's RSA certificates). GOST keys are not supported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

# asn1crypto ships no type information: its objects are Any to mypy.
from asn1crypto import algos, cms  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding


class CmsError(ValueError):
    """A CMS structure that is not a valid detached signature of the content; ``reason`` is a
    short code (``malformed``, ``digest_mismatch``, ``bad_signature``, ``unsupported``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class CmsSignature:
    certificate: x509.Certificate
    signing_time: datetime | None


def _signature_algorithm(certificate: x509.Certificate) -> str:
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "sha256_ecdsa"
    if isinstance(key, rsa.RSAPublicKey):
        return "sha256_rsa"
    raise CmsError("unsupported", f"a {type(key).__name__} key cannot sign a protocol here")


def signed_attributes(content: bytes, signing_time: datetime) -> cms.CMSAttributes:
    return cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute(
                {"type": "message_digest", "values": [hashlib.sha256(content).digest()]}
            ),
            cms.CMSAttribute(
                {
                    "type": "signing_time",
                    "values": [cms.Time({"utc_time": signing_time.astimezone(UTC)})],
                }
            ),
        ]
    )


def sign_detached(
    content: bytes,
    certificate: x509.Certificate,
    sign: Callable[[bytes], bytes],
    signing_time: datetime,
) -> bytes:
    """A DER ContentInfo holding a detached SignedData over ``content``. ``sign`` receives the
    DER of the signed attributes (what RFC 5652 5.4 says is signed) and returns the signature
    (ECDSA as a DER SEQUENCE of r and s, RSA as its raw block), hashing with SHA-256 itself."""
    attributes = signed_attributes(content, signing_time)
    signature = sign(attributes.dump())
    cert = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    sha256 = algos.DigestAlgorithm({"algorithm": "sha256"})
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": cert.issuer, "serial_number": cert.serial_number}
                    )
                }
            ),
            "digest_algorithm": sha256,
            "signed_attrs": attributes,
            "signature_algorithm": algos.SignedDigestAlgorithm(
                {"algorithm": _signature_algorithm(certificate)}
            ),
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [sha256],
            "encap_content_info": {"content_type": "data"},  # detached: no content inside
            "certificates": [cert],
            "signer_infos": [signer],
        }
    )
    info = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    return bytes(info.dump())


def _attribute(attributes: cms.CMSAttributes, name: str) -> object:
    values = [attr["values"] for attr in attributes if attr["type"].native == name]
    if len(values) != 1 or len(values[0]) != 1:
        raise CmsError("malformed", f"the signed attributes need exactly one {name}")
    return values[0][0].native


def verify_detached(signature_der: bytes, content: bytes) -> CmsSignature:
    """Check that ``signature_der`` is a detached CMS signature of ``content`` by the key of the
    certificate it carries, and return that certificate. Raises ``CmsError``."""
    try:
        info = cms.ContentInfo.load(signature_der, strict=True)
        if info["content_type"].native != "signed_data":
            raise CmsError("malformed", "the CMS is not SignedData")
        signed_data = info["content"]
        signers = signed_data["signer_infos"]
        if len(signers) != 1:
            raise CmsError("malformed", "a protocol carries exactly one signer")
        signer = signers[0]
        if signed_data["encap_content_info"]["content"].native is not None:
            raise CmsError("malformed", "the signature must be detached (no content inside)")
        if signer["digest_algorithm"]["algorithm"].native != "sha256":
            raise CmsError("unsupported", "only SHA-256 digests are accepted")
        attributes = signer["signed_attrs"]
        if not isinstance(attributes, cms.CMSAttributes) or len(attributes) == 0:
            raise CmsError("malformed", "the signature has no signed attributes")
        sid = signer["sid"].chosen
        if not isinstance(sid, cms.IssuerAndSerialNumber):
            raise CmsError("unsupported", "the signer must be named by issuer and serial")
        certificate = _signer_certificate(signed_data, sid)
        if _attribute(attributes, "content_type") != "data":
            raise CmsError("malformed", "the signed content type is not data")
        if _attribute(attributes, "message_digest") != hashlib.sha256(content).digest():
            raise CmsError("digest_mismatch", "the signature was made over other content")
        signing_time = _attribute_or_none(attributes, "signing_time")
        # The signature covers the attributes' DER with the SET OF tag, not the [0] of
        # SignerInfo (RFC 5652 5.4): re-tag the bytes exactly as received.
        signed = b"\x31" + attributes.dump()[1:]
        algorithm = signer["signature_algorithm"].signature_algo
        raw_signature = signer["signature"].native
    except (ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, CmsError):
            raise
        raise CmsError("malformed", f"the CMS signature cannot be read: {exc}") from None
    _verify(certificate, algorithm, raw_signature, signed)
    return CmsSignature(certificate, signing_time)


def _attribute_or_none(attributes: cms.CMSAttributes, name: str) -> datetime | None:
    if not any(attr["type"].native == name for attr in attributes):
        return None
    value = _attribute(attributes, name)
    return value if isinstance(value, datetime) else None


def _signer_certificate(
    signed_data: cms.SignedData, sid: cms.IssuerAndSerialNumber
) -> x509.Certificate:
    for choice in signed_data["certificates"]:
        cert = choice.chosen
        if (
            isinstance(cert, asn1_x509.Certificate)
            and cert.issuer == sid["issuer"]
            and cert.serial_number == sid["serial_number"].native
        ):
            return x509.load_der_x509_certificate(cert.dump())
    raise CmsError("malformed", "the signer's certificate is not inside the signature")


def _verify(certificate: x509.Certificate, algorithm: str, signature: bytes, data: bytes) -> None:
    key = certificate.public_key()
    try:
        if algorithm == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif algorithm == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise CmsError(
                "unsupported", f"a {algorithm} signature with a {type(key).__name__} key"
            )
    except InvalidSignature:
        raise CmsError("bad_signature", "the signature does not verify") from None


__all__ = ["CmsError", "CmsSignature", "sign_detached", "verify_detached"]
