"""The roadside protocol's pure parts: the model's rules, the CMS detached signature made and
checked in memory (a software key standing in for the token), and the PIN count rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from contract.cms import CmsError, sign_detached, verify_detached
from contract.officer_certificate import Validity, certificate_iin, validity_at
from contract.roadside import (
    DriverSignature,
    ProtocolOutcome,
    ProtocolPlace,
    RoadsideProtocol,
    protocol_signed_bytes,
)
from terminal.officer_rules import TokenLocked, TokenPinFlags, WrongPin, tries_left, wrong_pin_error

NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)


def _certificate(serial_number: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Officer"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def _fields(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "protocol_id": uuid4(),
        "protocol_number": "KZ-AST-0000417",
        "officer_iin": "791028302728",
        "plate": "123ABC01",
        "article": "592",
        "part": 1,
        "outcome": "fine",
        "amount_minor": 1_966_000,
        "place": {"lat": 51.1, "lon": 71.4, "manual": False},
        "drawn_up_at": NOW,
        "description": "speeding",
        "driver_signature": "refused",
    }
    fields.update(changes)
    return fields


def test_cms_signature_verifies_over_its_content_only() -> None:
    certificate, key = _certificate("IIN791028302728")
    content = protocol_signed_bytes(RoadsideProtocol.model_validate(_fields()))
    der = sign_detached(
        content, certificate, lambda data: key.sign(data, ec.ECDSA(hashes.SHA256())), NOW
    )
    checked = verify_detached(der, content)
    assert checked.certificate == certificate
    assert checked.signing_time == NOW
    with pytest.raises(CmsError) as other:
        verify_detached(der, content.replace(b"1966000", b"1966001"))
    assert other.value.reason == "digest_mismatch"
    # A signature by another key over the same attributes does not verify.
    _, stranger = _certificate("IIN791028302728")
    forged = sign_detached(
        content, certificate, lambda data: stranger.sign(data, ec.ECDSA(hashes.SHA256())), NOW
    )
    with pytest.raises(CmsError) as bad:
        verify_detached(forged, content)
    assert bad.value.reason == "bad_signature"
    with pytest.raises(CmsError) as garbage:
        verify_detached(b"\x30\x03\x02\x01\x01", content)
    assert garbage.value.reason == "malformed"


def test_the_iin_is_read_as_the_national_ca_writes_it() -> None:
    assert certificate_iin(_certificate("IIN791028302728")[0]) == "791028302728"
    assert certificate_iin(_certificate("791028302728")[0]) is None
    assert certificate_iin(_certificate("BIN123456789012")[0]) is None
    certificate = _certificate("IIN791028302728")[0]
    assert validity_at(certificate, NOW) is Validity.VALID
    assert validity_at(certificate, NOW + timedelta(days=2)) is Validity.EXPIRED
    assert validity_at(certificate, NOW - timedelta(days=2)) is Validity.NOT_YET_VALID


def test_the_protocol_model_keeps_outcome_amount_place_and_signature_consistent() -> None:
    RoadsideProtocol.model_validate(_fields())
    warning = RoadsideProtocol.model_validate(_fields(outcome="warning", amount_minor=None))
    assert warning.outcome is ProtocolOutcome.WARNING
    bad = [
        _fields(amount_minor=None),
        _fields(outcome="warning"),
        _fields(place={"manual": False}),
        _fields(place={"manual": True}),
        _fields(place={"lat": 51.1, "manual": False}),
        _fields(driver_signature="signed"),
        _fields(driver_signature_sha256="ab" * 32),
        _fields(officer_iin="IIN791028302728"),
    ]
    for fields in bad:
        with pytest.raises(ValidationError):
            RoadsideProtocol.model_validate(fields)
    manual = ProtocolPlace(address="Астана, пр. Республики 5", manual=True)
    assert manual.lat is None
    signed = RoadsideProtocol.model_validate(
        _fields(driver_signature="signed", driver_signature_sha256="ab" * 32)
    )
    assert signed.driver_signature is DriverSignature.SIGNED


def test_the_signed_bytes_are_the_canonical_form_of_the_json_as_sent() -> None:
    protocol = RoadsideProtocol.model_validate(_fields())
    sent = protocol.model_dump(mode="json")
    assert protocol_signed_bytes(protocol) == protocol_signed_bytes(sent)
    assert protocol_signed_bytes(dict(reversed(list(sent.items())))) == protocol_signed_bytes(sent)


def test_pin_tries_count_down_by_the_terminal_and_the_tokens_flags() -> None:
    assert tries_left(10, 3, TokenPinFlags()) == 7
    assert tries_left(10, 3, TokenPinFlags(count_low=True)) == 7
    assert tries_left(10, 3, TokenPinFlags(final_try=True)) == 1
    assert tries_left(10, 3, TokenPinFlags(locked=True)) == 0
    assert tries_left(3, 5, TokenPinFlags()) == 0
    wrong = wrong_pin_error("0d2a8b", 2)
    assert isinstance(wrong, WrongPin) and wrong.tries_left == 2
    assert str(wrong) == "Wrong PIN: 2 tries left before the token locks."
    locked = wrong_pin_error("0d2a8b", 0)
    assert isinstance(locked, TokenLocked)
    assert "0d2a8b" in str(locked) and "administrator" in str(locked)
