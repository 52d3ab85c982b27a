"""Certificates for the acquirer simulator's mutual TLS, made at run time for tests, the demo and
the benchmark (never committed): the bank's certificate authority and its host's certificate
(for 127.0.0.1 and localhost), which the terminal pins; and the terminals' certificate
authority, which the acquirer trusts, with one terminal's client certificate. A real bank
issues both; the shapes are the same. Built with the registry's CA code (``central_ingest.pki``:
ECDSA P-256, private keys mode 0600)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from central_ingest.pki import CertificateAuthority, Issued
from contract import now_utc
from terminal.acquirer_link import AcquirerTls

SERVER_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class AcquirerPki:
    bank_ca: Path  # pinned by the terminal
    server: Issued  # the acquirer host's certificate and key
    terminals_ca: Path  # trusted by the acquirer for client certificates
    terminal: Issued  # one terminal's client certificate and key

    @classmethod
    def create(cls, folder: Path, terminal_name: str = "T0000042") -> AcquirerPki:
        now = now_utc()
        bank = CertificateAuthority.create(folder / "bank-ca", "Test acquirer CA", now)
        server = bank.issue(folder / "server", "acquirer", now, server_names=SERVER_NAMES)
        terminals = CertificateAuthority.create(folder / "terminals-ca", "Test terminals CA", now)
        terminal = terminals.issue(folder / "terminal", terminal_name, now)
        return cls(
            bank_ca=folder / "bank-ca" / "ca.crt",
            server=server,
            terminals_ca=folder / "terminals-ca" / "ca.crt",
            terminal=terminal,
        )

    def terminal_tls(self, server_name: str = "127.0.0.1") -> AcquirerTls:
        """What a terminal's configuration names to reach this acquirer."""
        return AcquirerTls(
            ca_file=self.bank_ca,
            cert_file=self.terminal.certificate,
            key_file=self.terminal.private_key,
            server_name=server_name,
        )
