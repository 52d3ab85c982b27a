"""The agency's certification authority for officers' signing certificates, and the
certificate revocation list (CRL) the registry publishes for it.

An officer's key is generated on his token; the certification centre takes the public key the
token gives out and issues an X.509 certificate for it, with the officer's IIN in the subject's
serialNumber as Kazakhstan's national CA writes it (``IIN`` + 12 digits). Revoking one (a token
lost, an officer dismissed) adds it to ``revoked.json``; ``crl`` signs the current list, which
the registry publishes and its protocol checks read (``officer_trust``). Files are written
once (keys, certificates) or replaced atomically (the revocation list, the CRL).

The CA is a separate one from the broker's (``central_ingest.pki``): an officer's certificate
must never open a device's MQTT connection, nor a device's sign a protocol.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from central_ingest.core.iin import is_valid_iin
from central_ingest.core.roadside import OfficerTrust
from central_ingest.pki import CertificateAuthority, PkiError, _write_new
from i18n import Text

OFFICER_VALIDITY = timedelta(days=2 * 365)
CRL_VALIDITY = timedelta(days=1)
"""A CRL older than this is out of date and the registry refuses protocols it cannot check:
publish a new one at least daily (``erap-registry pki officer-crl`` from a timer)."""

REVOKED_FILE = "revoked.json"
CRL_FILE = "officers.crl"
ISSUED_DIR = "officers"


@dataclass(frozen=True)
class Revocation:
    serial: int
    revoked_at: datetime


class OfficerCa:
    """A folder holding the officers' CA (ca.crt, ca.key), the certificates it issued
    (officers/<serial>.crt) and its revocations (revoked.json)."""

    def __init__(self, folder: Path, authority: CertificateAuthority) -> None:
        self.folder = folder
        self.authority = authority

    @classmethod
    def create(cls, folder: Path, name: str, now: datetime) -> OfficerCa:
        return cls(folder, CertificateAuthority.create(folder, name, now))

    @classmethod
    def load(cls, folder: Path) -> OfficerCa:
        return cls(folder, CertificateAuthority.load(folder))

    def issue(
        self, public_key_pem: bytes, *, iin: str, name: str, now: datetime
    ) -> tuple[x509.Certificate, Path]:
        """The officer's signing certificate for the public key of his token."""
        if not is_valid_iin(iin):
            raise PkiError(Text("%(iin)s is not a valid IIN.", iin=iin))
        try:
            public_key = serialization.load_pem_public_key(public_key_pem)
        except ValueError:
            raise PkiError(Text("The public key given is not a PEM public key.")) from None
        if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            raise PkiError(Text("An officer's key must be an EC or RSA key."))
        ca = self.authority
        certificate = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
                        x509.NameAttribute(NameOID.COMMON_NAME, name),
                        x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"),
                    ]
                )
            )
            .issuer_name(ca.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(min(now + OFFICER_VALIDITY, ca.certificate.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()),
                critical=False,
            )
            .sign(ca.private_key, hashes.SHA256())
        )
        path = self.folder / ISSUED_DIR / f"{certificate.serial_number:x}.crt"
        _write_new(path, certificate.public_bytes(serialization.Encoding.PEM))
        return certificate, path

    def revocations(self) -> list[Revocation]:
        try:
            rows = json.loads((self.folder / REVOKED_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        return [
            Revocation(int(row["serial"], 16), datetime.fromisoformat(row["revoked_at"]))
            for row in rows
        ]

    def revoke(self, serial_hex: str, now: datetime) -> Revocation:
        """Revoke a certificate this CA issued (by its serial, hexadecimal as printed)."""
        try:
            serial = int(serial_hex, 16)
        except ValueError:
            raise PkiError(
                Text("%(serial)s is not a certificate serial.", serial=serial_hex)
            ) from None
        if not (self.folder / ISSUED_DIR / f"{serial:x}.crt").exists():
            raise PkiError(
                Text("This CA issued no certificate with serial %(serial)s.", serial=serial_hex)
            )
        known = self.revocations()
        for revocation in known:
            if revocation.serial == serial:
                return revocation
        revocation = Revocation(serial, now)
        rows = [
            {"serial": f"{r.serial:x}", "revoked_at": r.revoked_at.isoformat()}
            for r in [*known, revocation]
        ]
        _replace(self.folder / REVOKED_FILE, json.dumps(rows, indent=1).encode("utf-8"))
        return revocation

    def crl(self, now: datetime) -> x509.CertificateRevocationList:
        ca = self.authority
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca.certificate.subject)
            .last_update(now)
            .next_update(now + CRL_VALIDITY)
        )
        for revocation in self.revocations():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(revocation.serial)
                .revocation_date(revocation.revoked_at)
                .build()
            )
        return builder.sign(ca.private_key, hashes.SHA256())

    def publish_crl(self, now: datetime, path: Path | None = None) -> Path:
        """Write the signed CRL (DER) where the registry and the public read it."""
        target = path or self.folder / CRL_FILE
        _replace(target, self.crl(now).public_bytes(serialization.Encoding.DER))
        return target


def officer_trust(ca_certificate: Path, crl: Path) -> OfficerTrust:
    """What the registry's protocol checks trust: the officers' CA certificate and its CRL."""
    try:
        anchor = x509.load_pem_x509_certificate(ca_certificate.read_bytes())
        revocations = x509.load_der_x509_crl(crl.read_bytes())
    except FileNotFoundError as missing:
        raise PkiError(
            Text(
                "%(file)s is missing: officers' protocols cannot be checked.",
                file=str(missing.filename),
            )
        ) from None
    except ValueError:
        raise PkiError(
            Text(
                "%(ca)s or %(crl)s is not a certificate or a CRL.",
                ca=str(ca_certificate),
                crl=str(crl),
            )
        ) from None
    return OfficerTrust(anchors=(anchor,), crls=(revocations,))


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(name, 0o644)
    os.replace(name, path)
