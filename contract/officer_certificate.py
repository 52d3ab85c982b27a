"""What the terminal and the registry both read from an officer's X.509 certificate.

Kazakhstan's national certification authority writes a person's IIN into the subject's
serialNumber attribute (OID 2.5.4.5) as ``IIN`` followed by the twelve digits; the agency's CA
issues officers' certificates the same way, so one reading serves both. The check digit is the
registry's to verify (``central_ingest.core.iin``): here only the form is read.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from cryptography import x509
from cryptography.x509.oid import NameOID

IIN_SERIAL = re.compile(r"^IIN(\d{12})$")


class Validity(StrEnum):
    VALID = "valid"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"


def certificate_iin(certificate: x509.Certificate) -> str | None:
    """The IIN in the subject's serialNumber, or None when there is none (or several)."""
    values = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if len(values) != 1 or not isinstance(values[0].value, str):
        return None
    found = IIN_SERIAL.fullmatch(values[0].value)
    return found.group(1) if found else None


def certificate_name(certificate: x509.Certificate) -> str:
    """The subject's common name (the officer's name), or the whole subject when it has none."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names and isinstance(names[0].value, str):
        return names[0].value
    return certificate.subject.rfc4514_string()


def validity_at(certificate: x509.Certificate, moment: datetime) -> Validity:
    if moment < certificate.not_valid_before_utc:
        return Validity.NOT_YET_VALID
    if moment > certificate.not_valid_after_utc:
        return Validity.EXPIRED
    return Validity.VALID
