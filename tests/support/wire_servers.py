"""The SMSC simulator (tests/support/smsc.py) and the SMTP relay (tests/support/smtpd.py) as
processes of their own: started, waited for until they listen, stopped at the end."""

from __future__ import annotations

import ipaddress
import json
import os
import selectors
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 10.0


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    journal: Path

    def entries(self) -> list[dict[str, Any]]:
        if not self.journal.exists():
            return []
        text = self.journal.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines()]


@contextmanager
def running(module: str, journal: Path, *args: str) -> Iterator[Server]:
    """``python -m module --journal journal args...`` until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--journal", str(journal), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            if not selector.select(START_TIMEOUT_S):
                raise RuntimeError(f"{module} did not start listening in {START_TIMEOUT_S} s")
        line = process.stdout.readline()
        if not line.startswith("LISTENING "):
            raise RuntimeError(f"{module} did not start: {line!r} (exit {process.poll()})")
        yield Server(process, int(line.split()[1]), journal)
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def throwaway_certificate(directory: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A self-signed certificate for ``host`` and 127.0.0.1, valid for a day: (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "relay-cert.pem", directory / "relay-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
