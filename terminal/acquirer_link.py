"""The acquirer host over mutual TLS: one ISO 8583 exchange per connection, 2-byte length framing.

The 0200 carries the full card number (DE2) and track 2 (DE35), over the car's mobile link: so
TLS 1.2 or later, only the acquirer's certificate authority trusted (pinned in the terminal's
configuration, not the system's list), the server's name checked, and the terminal's own client
certificate presented, which the acquirer requires.

A refusal during the TLS handshake means the request never reached the bank's application:
the client sends nothing before its handshake is done, and a server that refuses the client's
certificate never reads what follows. Those end as ``AcquirerRefused``, which the payment takes
as "nothing was charged"; anything else after the request left is ``AcquirerUnavailable`` (the
outcome is unknown, so the payment is reversed).

Plain TCP (``tls=None``) is for tests only; every connection over it is logged at WARNING.
"""

from __future__ import annotations

import logging
import socket
import ssl
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from i18n import Text
from terminal import iso8583
from terminal.messages import SpokenError

log = logging.getLogger(__name__)

# OpenSSL's reasons for an alert by which the server refused the terminal's certificate (or its
# absence): TLS 1.3 reports them on the first read, after the request was written.
_CLIENT_CERTIFICATE_REFUSED = ("CERTIFICATE", "UNKNOWN_CA", "DECRYPT_ERROR")


class AcquirerUnavailable(Exception):
    """No answer in time: the outcome at the bank is unknown."""


class AcquirerRefused(AcquirerUnavailable, SpokenError):
    """The secure connection was refused before the bank could read the request: nothing was
    charged. ``text`` says why, for the officer (and the technician they call)."""


@dataclass(frozen=True)
class AcquirerTls:
    ca_file: Path  # the acquirer's certificate authority: the only one trusted for its host
    cert_file: Path  # this terminal's client certificate (PEM), issued for the acquirer
    key_file: Path  # its private key (PEM)
    server_name: str  # the name (or IP address) the acquirer's certificate must carry


def client_context(tls: AcquirerTls) -> ssl.SSLContext:
    """Raises ``OSError`` or ``ssl.SSLError`` when a file cannot be read or does not match."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(tls.ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
    return context


class AcquirerLink:
    """``tls``: required by keyword; None is plain TCP, card data in clear, for tests only."""

    def __init__(self, host: str, port: int, timeout_s: float, *, tls: AcquirerTls | None) -> None:
        self._address = (host, port)
        self._timeout_s = timeout_s
        self._tls = tls
        self._context = client_context(tls) if tls is not None else None

    def _where(self) -> str:
        return f"{self._address[0]}:{self._address[1]}"

    def _unavailable(self, exc: BaseException) -> AcquirerUnavailable:
        return AcquirerUnavailable(
            f"the bank's host at {self._where()} did not answer within {self._timeout_s:g} s"
            f" ({exc})"
        )

    def exchange(self, doc: dict[str, Any]) -> dict[str, Any]:
        try:
            raw = socket.create_connection(self._address, timeout=self._timeout_s)
        except OSError as exc:
            raise self._unavailable(exc) from exc
        with raw:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._context is None or self._tls is None:
                log.warning(
                    "card data to %s over PLAIN TCP, unencrypted: a test-only setting",
                    self._where(),
                )
                return self._exchange_on(raw, doc)
            with self._handshake(raw, self._context, self._tls.server_name) as sock:
                return self._exchange_on(sock, doc)

    def _handshake(self, raw: socket.socket, context: ssl.SSLContext, name: str) -> ssl.SSLSocket:
        try:
            return context.wrap_socket(raw, server_hostname=name)
        except ssl.SSLCertVerificationError as exc:
            raise AcquirerRefused(
                Text(
                    "The bank's host at %(address)s did not prove that it is the bank: its"
                    " certificate is not from the bank's certificate authority in the"
                    " terminal's configuration (%(reason)s). The card data was not sent."
                    " Nothing was charged. Call the technician.",
                    address=self._where(),
                    reason=exc.verify_message,
                )
            ) from exc
        except ssl.SSLError as exc:
            raise self._refused(exc) from exc
        except OSError as exc:
            raise self._unavailable(exc) from exc

    def _refused(self, exc: ssl.SSLError) -> AcquirerRefused:
        reason = exc.reason or str(exc)
        if any(word in reason for word in _CLIENT_CERTIFICATE_REFUSED):
            return AcquirerRefused(
                Text(
                    "The bank's host at %(address)s refused this terminal's certificate"
                    " (%(reason)s): the terminal's certificate or key is missing, expired or"
                    " not issued for this bank. Nothing was charged. Call the technician.",
                    address=self._where(),
                    reason=reason,
                )
            )
        return AcquirerRefused(
            Text(
                "The bank's host at %(address)s refused the secure connection (%(reason)s):"
                " check that the terminal's certificate is issued for this bank and that both"
                " sides allow TLS 1.2 or later. Nothing was charged. Call the technician.",
                address=self._where(),
                reason=reason,
            )
        )

    def _exchange_on(self, sock: socket.socket, doc: dict[str, Any]) -> dict[str, Any]:
        try:
            sock.sendall(iso8583.encode_frame(doc))
            (size,) = struct.unpack(">H", receive_exactly(sock, 2))
            return iso8583.decode(receive_exactly(sock, size))
        except ssl.SSLError as exc:
            # TLS 1.3: the server checks the client's certificate after the client's side of
            # the handshake is done, and its refusal arrives here. It read nothing.
            if exc.reason and any(word in exc.reason for word in _CLIENT_CERTIFICATE_REFUSED):
                raise self._refused(exc) from exc
            raise self._unavailable(exc) from exc
        except OSError as exc:
            raise self._unavailable(exc) from exc


def receive_exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes; ``ConnectionError`` if the peer closes first (``recv`` with
    ``MSG_WAITALL`` is not allowed on a TLS socket)."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the peer closed the connection")
        data += chunk
    return data
