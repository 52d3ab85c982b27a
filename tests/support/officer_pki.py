"""Officers' signing tokens for tests: an agency CA, officer certificates (valid, expired, not
yet valid, revoked, from another CA), and Debian's SoftHSM2 as the real PKCS#11 token.

The key is generated ON the token (python-pkcs11, EC P-256) and the CA issues the certificate
for the public key the token gives out, which is then written onto the token beside the key
under the same CKA_ID: the flow of a real certification centre. The private key never exists
outside SoftHSM2.

SoftHSM2 reads its configuration (``SOFTHSM2_CONF``) when a process first loads the module,
so one token folder serves the whole test process (``softhsm()``), made on first use and
removed at exit; every test makes its own token with its own label (``softhsm2-util``).
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
from pkcs11.util.x509 import decode_x509_certificate

from central_ingest.core.iin import check_digit

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
SO_PIN = "87654321"
KEY_ID = b"\x01"
_serials = itertools.count(1)


def valid_iin(birth: str = "850315", century_sex: str = "3") -> str:
    """A valid IIN (check digit holds) with a fresh serial part on every call."""
    while True:
        first = f"{birth}{century_sex}{next(_serials) % 10000:04d}"
        digit = check_digit(first)
        if digit is not None:
            return f"{first}{digit}"


@dataclass
class AgencyCa:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls, name: str, now: datetime) -> AgencyCa:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
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
            .not_valid_before(now - timedelta(days=365))
            .not_valid_after(now + timedelta(days=3650))
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
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    def issue_officer(
        self,
        public_key: ec.EllipticCurvePublicKey,
        *,
        iin: str,
        name: str,
        not_before: datetime,
        not_after: datetime,
    ) -> x509.Certificate:
        """An officer's signing certificate, the subject as the national CA writes it."""
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"),
            ]
        )
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
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
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )

    def crl(
        self, revoked: list[tuple[x509.Certificate, datetime]], now: datetime
    ) -> x509.CertificateRevocationList:
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(now - timedelta(minutes=1))
            .next_update(now + timedelta(days=1))
        )
        for certificate, when in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(certificate.serial_number)
                .revocation_date(when)
                .build()
            )
        return builder.sign(self.key, hashes.SHA256())


class SoftHsm:
    """A SoftHSM2 token folder and its configuration, for this test process."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="erap-softhsm-"))
        (self.folder / "tokens").mkdir()
        self.conf = self.folder / "softhsm2.conf"
        self.conf.write_text(
            f"directories.tokendir = {self.folder / 'tokens'}\n"
            "objectstore.backend = file\nlog.level = ERROR\n",
            encoding="utf-8",
        )
        os.environ["SOFTHSM2_CONF"] = str(self.conf)

    def _util(self, *args: str) -> None:
        subprocess.run(
            ["softhsm2-util", *args], check=True, capture_output=True, env=os.environ.copy()
        )

    def init_token(self, label: str, pin: str) -> None:
        """A new token. SoftHSM2 sees tokens made by another process only after C_Finalize and
        C_Initialize, which end every session of this process: make tokens before signing in."""
        self._util("--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", pin)
        pkcs11.lib(str(SOFTHSM_MODULE)).reinitialize()

    def pull(self, label: str) -> None:
        """The officer pulls his token out: its slot and objects are gone."""
        self._util("--delete-token", "--token", label)

    def officer_token(
        self,
        label: str,
        pin: str,
        ca: AgencyCa,
        *,
        iin: str,
        name: str,
        not_before: datetime,
        not_after: datetime,
    ) -> x509.Certificate:
        """A token with a key generated on it and the CA's certificate for that key."""
        public_key = self.generate_key(label, pin)
        certificate = ca.issue_officer(
            public_key, iin=iin, name=name, not_before=not_before, not_after=not_after
        )
        self.store_certificate(label, pin, certificate)
        return certificate

    def generate_key(self, label: str, pin: str) -> ec.EllipticCurvePublicKey:
        """A new token with an EC P-256 key pair generated on it; its public key."""
        self.init_token(label, pin)
        token = pkcs11.lib(str(SOFTHSM_MODULE)).get_token(token_label=label)
        with token.open(rw=True, user_pin=pin) as session:
            parameters = session.create_domain_parameters(
                KeyType.EC,
                {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
                local=True,
            )
            public, _ = parameters.generate_keypair(store=True, label=label, id=KEY_ID)
            public_key = serialization.load_der_public_key(encode_ec_public_key(public))
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        return public_key

    def store_certificate(self, label: str, pin: str, certificate: x509.Certificate) -> None:
        """Write the certificate onto the token beside its key (the same CKA_ID)."""
        token = pkcs11.lib(str(SOFTHSM_MODULE)).get_token(token_label=label)
        der = certificate.public_bytes(serialization.Encoding.DER)
        with token.open(rw=True, user_pin=pin) as session:
            session.create_object(
                {
                    **decode_x509_certificate(der),
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.TOKEN: True,
                    Attribute.ID: KEY_ID,
                    Attribute.LABEL: label,
                }
            )


_softhsm: SoftHsm | None = None


def softhsm() -> SoftHsm:
    global _softhsm
    if _softhsm is None:
        _softhsm = SoftHsm()
        atexit.register(shutil.rmtree, _softhsm.folder, True)
    return _softhsm
