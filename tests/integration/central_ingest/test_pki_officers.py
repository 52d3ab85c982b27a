"""The officers' certification authority of the registry, end to end with a real token: the key
generated on SoftHSM2, its public key certified with ``erap-registry pki officer-issue``, the
certificate written onto the token; a protocol signed on it verifies against the CA and the
CRL the registry publishes; after ``officer-revoke`` and a new ``officer-crl`` the same
officer's next protocol is refused as revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from central_ingest.cli import app
from central_ingest.core.roadside import (
    ProtocolRefused,
    ProtocolRejection,
    verify_roadside_protocol,
)
from central_ingest.pki import PkiError
from central_ingest.pki_officers import officer_trust
from contract import DeviceKey, load_public_key
from contract.roadside import RoadsideProtocol
from terminal.officer_token import OfficerToken, PinCounter, TokenSettings
from terminal.protocol_signing import sign_protocol
from tests.support.officer_pki import SOFTHSM_MODULE, softhsm, valid_iin

runner = CliRunner()
PIN = "204816"


def _pki(*args: str) -> str:
    result = runner.invoke(app, ["--language", "en", "pki", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _protocol(iin: str) -> RoadsideProtocol:
    return RoadsideProtocol.model_validate(
        {
            "protocol_id": uuid4(),
            "protocol_number": "KZ-KRG-0000009",
            "officer_iin": iin,
            "plate": "777KZA09",
            "article": "592",
            "part": 2,
            "outcome": "warning",
            "place": {"address": "Караганда, ул. Ерубаева 1", "manual": True},
            "drawn_up_at": datetime.now(UTC),
            "description": "Не пристёгнут ремень безопасности",
            "driver_signature": "refused",
        }
    )


def test_a_certificate_issued_by_the_registry_signs_until_it_is_revoked(tmp_path: Path) -> None:
    hsm = softhsm()
    ca_dir = tmp_path / "officers-ca"
    _pki("officer-init-ca", "--ca-dir", str(ca_dir))
    label, iin = f"ca-officer-{uuid4().hex[:8]}", valid_iin()
    public_key = hsm.generate_key(label, PIN)
    (tmp_path / "token.pub").write_bytes(
        public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    output = _pki(
        "officer-issue",
        "--ca-dir",
        str(ca_dir),
        "--public-key",
        str(tmp_path / "token.pub"),
        "--iin",
        iin,
        "--name",
        "Айгүл Нұрланқызы",
    )
    issued = sorted((ca_dir / "officers").glob("*.crt"))
    assert len(issued) == 1
    certificate = x509.load_pem_x509_certificate(issued[0].read_bytes())
    assert f"{certificate.serial_number:x}" in output
    hsm.store_certificate(label, PIN, certificate)
    _pki("officer-crl", "--ca-dir", str(ca_dir))

    device_key = DeviceKey.generate()
    officer = OfficerToken(
        TokenSettings(SOFTHSM_MODULE, label), PinCounter(tmp_path / "pins.json")
    ).sign_in(PIN, datetime.now(UTC))
    assert officer.iin == iin

    def check() -> None:
        envelope = sign_protocol(
            _protocol(iin),
            officer,
            device_id="terminal-krg-002",
            device_key=device_key,
            now=datetime.now(UTC),
        )
        verify_roadside_protocol(
            envelope.model_dump(mode="json"),
            device_key=load_public_key(device_key.public_key_b64),
            trust=officer_trust(ca_dir / "ca.crt", ca_dir / "officers.crl"),
            is_active_officer=lambda candidate: candidate == iin,
            now=datetime.now(UTC) + timedelta(seconds=1),
        )

    check()
    _pki("officer-revoke", "--ca-dir", str(ca_dir), f"{certificate.serial_number:x}")
    check()  # revoked, but the published CRL does not say so yet
    _pki("officer-crl", "--ca-dir", str(ca_dir))
    with pytest.raises(ProtocolRefused) as refused:
        check()
    assert refused.value.reason is ProtocolRejection.CERTIFICATE_REVOKED
    officer.close()


def test_the_ca_refuses_an_invalid_iin_and_an_unknown_serial(tmp_path: Path) -> None:
    ca_dir = tmp_path / "officers-ca"
    _pki("officer-init-ca", "--ca-dir", str(ca_dir))
    (tmp_path / "k.pub").write_bytes(b"-----BEGIN PUBLIC KEY-----\n")
    bad_iin = runner.invoke(
        app,
        [
            "--language",
            "en",
            "pki",
            "officer-issue",
            "--ca-dir",
            str(ca_dir),
            "--public-key",
            str(tmp_path / "k.pub"),
            "--iin",
            "821214240092",
            "--name",
            "X",
        ],
    )
    assert bad_iin.exit_code == 1
    assert "821214240092 is not a valid IIN" in bad_iin.output
    unknown = runner.invoke(
        app, ["--language", "ru", "pki", "officer-revoke", "--ca-dir", str(ca_dir), "abc123"]
    )
    assert unknown.exit_code == 1
    assert "abc123" in unknown.output and "This CA" not in unknown.output
    with pytest.raises(PkiError):
        officer_trust(ca_dir / "ca.crt", ca_dir / "officers.crl")
