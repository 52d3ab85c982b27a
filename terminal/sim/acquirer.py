"""An acquirer host simulator: ISO 8583 over mutual TLS on loopback (2-byte length framing), the
test issuer behind it. Like a bank's host it presents its server certificate and requires a
client certificate signed by the terminals' CA (``--cert``, ``--key``, ``--client-ca``; a
refused handshake is journalled as ``{"refused": reason}``); ``--insecure-plain-tcp`` is for
tests of the plain link only. It checks the card's ARQC and answers with an ARPC, and keeps a
journal (JSON lines, masked card numbers only) so tests can tell whether money moved.

Modes: approve, decline (response code 05), timeout (financial requests are never answered;
reversals are), slow (every answer waits ``--delay`` seconds). ``--drop-reversals N`` closes
the connection on the first N reversals, as a flaky link would.
"""

from __future__ import annotations

import json
import socket
import socketserver
import ssl
import struct
import threading
import time
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from pyemv import tlv as pyemv_tlv

from terminal import iso8583
from terminal.acquirer_link import receive_exactly
from terminal.emv import mask_pan
from terminal.sim import test_issuer


class Mode(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    TIMEOUT = "timeout"
    SLOW = "slow"


class AcquirerHost:
    def __init__(self, mode: Mode, delay_s: float, drop_reversals: int, journal: Path) -> None:
        self.mode = mode
        self.delay_s = delay_s
        self.reversals_to_drop = drop_reversals
        self.journal = journal
        self._lock = threading.Lock()
        self._rrn = int(time.time()) % 10**8 * 1000

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock, self.journal.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, sort_keys=True) + "\n")

    def next_rrn(self) -> str:
        with self._lock:
            self._rrn += 1
            return f"{self._rrn % 10**12:012d}"

    def answer(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        """The reply, or None to stay silent (timeout) or drop the connection."""
        if self.mode is Mode.SLOW:
            time.sleep(self.delay_s)
        if doc["t"] == "0200":
            return self._financial(doc)
        if doc["t"] == "0400":
            return self._reversal(doc)
        return None

    def _financial(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        chip = pyemv_tlv.decode(bytes.fromhex(doc["55"]), flatten=True)
        pan, psn = doc["2"], doc.get("23", "000")[-2:]
        key = test_issuer.session_key(pan, psn, chip["9F36"])
        arqc_ok = chip["9F26"] == test_issuer.cryptogram(key, chip)
        code = "05" if not arqc_ok or self.mode is Mode.DECLINE else iso8583.APPROVED
        rrn = self.next_rrn()
        approval = f"{int(rrn) % 10**6:06d}" if code == iso8583.APPROVED else ""
        entry = {
            "mti": "0200",
            "stan": doc["11"],
            "terminal": doc["41"],
            "rrn": rrn,
            "amount_minor": int(doc["4"]),
            "masked_pan": mask_pan(pan),
            "response": code,
            "arqc_valid": arqc_ok,
            "answered": self.mode is not Mode.TIMEOUT,
            "original": iso8583.original_data_elements(doc["11"], _transmitted(doc)),
        }
        self.record(entry)
        if self.mode is Mode.TIMEOUT:
            return None
        arpc = test_issuer.response_cryptogram(key, chip["9F26"], code)
        reply = {
            "t": "0210",
            "3": doc["3"],
            "4": doc["4"],
            "7": doc["7"],
            "11": doc["11"],
            "37": rrn,
            "39": code,
            "41": doc["41"],
            "49": doc["49"],
            "55": bytes(pyemv_tlv.encode({"91": arpc + code.encode("ascii")})).hex().upper(),
        }
        if approval:
            reply["38"] = approval
        return reply

    def _reversal(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            drop = self.reversals_to_drop > 0
            self.reversals_to_drop -= 1 if drop else 0
        self.record(
            {
                "mti": "0400",
                "terminal": doc["41"],
                "original": doc["90"],
                "amount_minor": int(doc["4"]),
                "dropped": drop,
                "reason": doc["39"],
            }
        )
        if drop:
            return None
        return {
            "t": "0410",
            "3": doc["3"],
            "4": doc["4"],
            "7": doc["7"],
            "11": doc["11"],
            "39": iso8583.APPROVED,
            "41": doc["41"],
            "49": doc["49"],
            "90": doc["90"],
        }


def _transmitted(doc: dict[str, Any]) -> datetime:
    return datetime.strptime(doc["7"], "%m%d%H%M%S")


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        # The TLS server writes the handshake's last messages and the answer as small records:
        # with Nagle's algorithm one waited for the terminal's delayed ACK (40 ms a payment).
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        context = self.server.tls
        if context is None:
            self._serve(self.request)
            return
        # A duplicate of the descriptor outlives a failed handshake (which closes the TLS
        # socket): reading on until the terminal hangs up avoids a reset that could overtake
        # the alert telling it why.
        with self.request.dup() as spare:
            try:
                tls = context.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                reason = getattr(exc, "reason", None) or str(exc)
                self.server.host.record({"refused": reason})
                _drain(spare)
                return
            with tls:
                self._serve(tls)

    def _serve(self, sock: socket.socket) -> None:
        while True:
            try:
                (size,) = struct.unpack(">H", receive_exactly(sock, 2))
                raw = receive_exactly(sock, size)
            except ConnectionError:
                return
            reply = self.server.host.answer(iso8583.decode(raw))
            if reply is None:
                if self.server.host.mode is Mode.TIMEOUT:
                    sock.recv(1)  # hold the line open until the terminal gives up
                return
            sock.sendall(iso8583.encode_frame(reply))


def _drain(sock: socket.socket, timeout_s: float = 2.0) -> None:
    sock.settimeout(timeout_s)
    try:
        while sock.recv(4096):
            pass
    except OSError:
        pass


def server_context(cert: Path, key: Path, client_ca: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(client_ca))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(str(cert), str(key))
    return context


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], host: AcquirerHost, tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(address, _Handler)
        self.host = host
        self.tls = tls


def main(
    port: int = typer.Option(..., help="TCP port on 127.0.0.1"),
    mode: Mode = typer.Option(Mode.APPROVE, help="how to answer financial requests"),
    delay: float = typer.Option(2.0, help="seconds to wait before each answer in slow mode"),
    drop_reversals: int = typer.Option(0, help="drop the connection on this many reversals"),
    journal: Path = typer.Option(..., help="JSON-lines journal of what was charged"),
    cert: Path | None = typer.Option(None, help="the host's certificate (PEM)"),
    key: Path | None = typer.Option(None, help="its private key (PEM)"),
    client_ca: Path | None = typer.Option(None, help="CA that signs terminals' certificates"),
    insecure_plain_tcp: bool = typer.Option(False, help="no TLS: card data in clear (tests)"),
) -> None:
    """Run the acquirer simulator until interrupted."""
    if insecure_plain_tcp:
        tls = None
    elif cert is None or key is None or client_ca is None:
        raise typer.BadParameter("--cert, --key and --client-ca, or --insecure-plain-tcp")
    else:
        tls = server_context(cert, key, client_ca)
    host = AcquirerHost(mode, delay, drop_reversals, journal)
    server = _Server(("127.0.0.1", port), host, tls)
    link = "plain TCP" if tls is None else "mutual TLS"
    print(f"acquirer listening on 127.0.0.1:{port} mode={mode.value} {link}", flush=True)
    with server:
        server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    typer.run(main)
