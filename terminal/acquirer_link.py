"""The acquirer host over TCP: one ISO 8583 exchange per connection, 2-byte length framing."""

from __future__ import annotations

import socket
import struct
from typing import Any

from terminal import iso8583


class AcquirerUnavailable(Exception):
    """No answer in time: the outcome at the bank is unknown."""


class AcquirerLink:
    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self._address = (host, port)
        self._timeout_s = timeout_s

    def exchange(self, doc: dict[str, Any]) -> dict[str, Any]:
        try:
            with socket.create_connection(self._address, timeout=self._timeout_s) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.sendall(iso8583.encode_frame(doc))
                (size,) = struct.unpack(">H", _receive(sock, 2))
                return iso8583.decode(_receive(sock, size))
        except (OSError, ConnectionError) as exc:
            raise AcquirerUnavailable(
                f"the bank's host at {self._address[0]}:{self._address[1]} did not answer"
                f" within {self._timeout_s:g} s"
            ) from exc


def _receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the acquirer closed the connection")
        data += chunk
    return data
