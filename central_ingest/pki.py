"""The deployment's private certificate authority for mutual TLS to the MQTT broker.

Every device and service connects with a client certificate whose common name (CN) is its id;
the broker (``use_identity_as_username``) takes that CN as the user name its ACL patterns match,
so a box can write only under its own topics. Keys are ECDSA P-256: small, fast on a
Raspberry-Pi-class CPU, and accepted by every TLS stack the devices use. Private keys are
written once with mode 0600 and never overwritten.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from i18n import Message, Text, as_text

CA_VALIDITY = timedelta(days=10 * 365)
LEAF_VALIDITY = timedelta(days=2 * 365)


class PkiError(Exception):
    """A certificate operation that cannot be carried out, with the reason in words: ``text``
    for the person at the command line (rendered in their language), ``str()`` in English."""

    def __init__(self, message: str | Message) -> None:
        self.text: Message = as_text(message)
        super().__init__(self.text.render(None))


@dataclass(frozen=True)
class Issued:
    certificate: Path
    private_key: Path


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls, folder: Path, name: str, now: datetime) -> CertificateAuthority:
        """A new CA in ``folder`` (ca.crt, ca.key). Refuses to replace an existing one: every
        certificate in the field would stop working."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ERAP"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        _write_new(folder / "ca.key", _key_pem(key), private=True)
        _write_new(folder / "ca.crt", certificate.public_bytes(serialization.Encoding.PEM))
        return cls(certificate, key)

    @classmethod
    def load(cls, folder: Path) -> CertificateAuthority:
        try:
            certificate = x509.load_pem_x509_certificate((folder / "ca.crt").read_bytes())
            key = serialization.load_pem_private_key((folder / "ca.key").read_bytes(), None)
        except FileNotFoundError as missing:
            raise PkiError(
                Text(
                    "There is no certificate authority in %(folder)s (%(file)s is missing): create"
                    " one with 'erap-registry pki init-ca'.",
                    folder=str(folder),
                    file=str(missing.filename),
                )
            ) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PkiError(Text("%(path)s is not an EC private key.", path=str(folder / "ca.key")))
        return cls(certificate, key)

    def issue(
        self,
        folder: Path,
        common_name: str,
        now: datetime,
        *,
        server_names: tuple[str, ...] = (),
    ) -> Issued:
        """A leaf certificate for a device or service (client authentication) or, with
        ``server_names``, for the broker (server authentication, names in the SAN)."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ERAP"),
                        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                    ]
                )
            )
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(min(now + LEAF_VALIDITY, self.certificate.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH]
                    if server_names
                    else [ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.private_key.public_key()),
                critical=False,
            )
        )
        if server_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(name) for name in server_names]),
                critical=False,
            )
        certificate = builder.sign(self.private_key, hashes.SHA256())
        issued = Issued(folder / f"{common_name}.crt", folder / f"{common_name}.key")
        _write_new(issued.private_key, _key_pem(key), private=True)
        _write_new(issued.certificate, certificate.public_bytes(serialization.Encoding.PEM))
        return issued


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_new(path: Path, data: bytes, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IRUSR | stat.S_IWUSR if private else 0o644
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise PkiError(
            Text("%(path)s already exists: refusing to overwrite it.", path=str(path))
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
