"""The acquirer link carries the card number (DE2) and track 2 (DE35): mutual TLS, on real parts
(pcscd with the virtual card, the acquirer simulator as its own process, the registry's app).

- A TCP relay between terminal and acquirer records every byte on the wire: over TLS neither
  the card number nor track 2 is in it; over the plain link (the old one, kept for tests only)
  both are, which shows the capture would catch them.
- A terminal whose certificate is missing or from another CA is refused by the acquirer, and a
  host whose certificate is not from the pinned CA is refused by the terminal: nothing charged,
  the reversal not needed, and a sentence for the officer.
- The configuration requires the TLS files and refuses plain TCP outside tests.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from central_ingest.pki import CertificateAuthority
from contract import now_utc
from contract.config_file import ConfigError
from terminal import acquirer_link
from terminal.acquirer_link import AcquirerLink, AcquirerTls
from terminal.config import PLAIN_TCP_TESTS_ENV, load_config
from terminal.journal import Journal, PaymentState, ReversalState
from terminal.payment_device import EmvAcquirerDevice, MerchantIds
from terminal.pcsc import PcscCard
from terminal.receipt import EscposReceiptPrinter
from terminal.registry_client import RegistryClient
from terminal.service import PaymentResult, PaymentTerminal, TerminalIdentity
from terminal.sim.acquirer_pki import SERVER_NAMES
from terminal.sim.harness import READER_NAME, Acquirer, Pcscd, PrinterPty, VirtualCard, free_port
from terminal.sim.virtual_card import TEST_PAN
from tests.support.api import build_env

CUT = b"\x1dV\x00"
CARD_DATA = {
    "card number": TEST_PAN.encode(),
    "card number in BCD": bytes.fromhex(TEST_PAN),
    "track 2": (TEST_PAN + "=3112").encode(),
}


@pytest.fixture(scope="module")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    daemon = Pcscd(tmp_path_factory.mktemp("pcscd")).start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def printer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrinterPty]:
    pty = PrinterPty(tmp_path_factory.mktemp("printer")).start()
    yield pty
    pty.stop()


@pytest.fixture
def card(pcscd: Pcscd) -> Iterator[VirtualCard]:
    virtual = VirtualCard(pcscd.card_port).insert()
    yield virtual
    virtual.remove()


class Relay:
    """A TCP relay on loopback that records what passes, as a tap on the mobile link would."""

    def __init__(self, upstream_port: int) -> None:
        self.port = free_port()
        self.captured = bytearray()
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                self.captured += chunk
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()

    def close(self) -> None:
        self._listener.close()


class Rig:
    def __init__(self, tmp_path: Path, printer: PrinterPty, port: int, tls: AcquirerTls | None):
        self.env = build_env(tmp_path / "registry")
        self.journal = Journal(tmp_path / "terminal" / "terminal.db")
        world = self.env.world
        self.terminal = PaymentTerminal(
            identity=TerminalIdentity(
                device_id=world.terminal_id,
                terminal_id="T0000042",
                agency="Astana Police Department",
                case_url_template="https://erap.kz/cases/{case_number}",
            ),
            key=world.terminal_key,
            registry=RegistryClient(self.env.client(), world.terminal_id, world.terminal_key),
            device=EmvAcquirerDevice(
                open_card=lambda: PcscCard(READER_NAME),
                acquirer=AcquirerLink("127.0.0.1", port, timeout_s=2.0, tls=tls),
                journal=self.journal,
                merchant=MerchantIds(terminal_id="T0000042", merchant_id="ERAPASTANA00001"),
                clock=now_utc,
            ),
            printer=EscposReceiptPrinter(str(printer.device)),
            journal=self.journal,
            clock=now_utc,
        )

    def pay(self) -> tuple[str, PaymentResult]:
        world = self.env.world
        world.clock.set(now_utc() - timedelta(days=1))
        case_number = world.open_case()
        world.clock.set(now_utc())
        return case_number, self.terminal.pay(case_number, uuid4())

    def assert_nothing_charged(self, case_number: str, result: PaymentResult) -> None:
        assert result.state is PaymentState.NOT_CHARGED, result.message
        assert "Nothing was charged" in str(result.message)
        assert self.journal.reversal_state(result.payment_id) is ReversalState.DISARMED
        assert self.env.world.registry.case(case_number).status.value == "open"


@pytest.fixture
def acquirers(tmp_path: Path) -> Iterator[Callable[..., Acquirer]]:
    started: list[Acquirer] = []

    def start(*, plain_tcp: bool = False) -> Acquirer:
        journal = tmp_path / f"acquirer-{len(started)}.jsonl"
        acquirer = Acquirer(journal, plain_tcp=plain_tcp).start()
        started.append(acquirer)
        return acquirer

    yield start
    for acquirer in started:
        acquirer.stop()


def _journal(acquirer: Acquirer) -> list[dict[str, object]]:
    text = acquirer.journal.read_text() if acquirer.journal.exists() else ""
    return [json.loads(line) for line in text.splitlines()]


def test_over_tls_the_wire_carries_no_card_data_and_the_payment_goes_through(
    tmp_path: Path,
    printer: PrinterPty,
    card: VirtualCard,
    acquirers: Callable[..., Acquirer],
) -> None:
    acquirer = acquirers()
    relay = Relay(acquirer.port)
    rig = Rig(tmp_path, printer, relay.port, acquirer.terminal_tls())
    try:
        case_number, result = rig.pay()
    finally:
        relay.close()
        rig.journal.close()
    assert result.state is PaymentState.APPROVED, result.message
    assert rig.env.world.registry.case(case_number).status.value == "paid"
    printer.take(CUT)
    assert [e["mti"] for e in _journal(acquirer)] == ["0200"]
    wire = bytes(relay.captured)
    for name, data in CARD_DATA.items():
        assert data not in wire, f"{name} on the wire"
    assert len(wire) > 500  # the handshake and the exchange went through the relay
    assert wire.startswith(b"\x16\x03")  # a TLS handshake record opens the stream


def test_the_plain_link_for_tests_shows_what_the_capture_would_catch(
    tmp_path: Path,
    printer: PrinterPty,
    card: VirtualCard,
    acquirers: Callable[..., Acquirer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    acquirer = acquirers(plain_tcp=True)
    assert acquirer.terminal_tls() is None
    relay = Relay(acquirer.port)
    rig = Rig(tmp_path, printer, relay.port, None)
    with caplog.at_level(logging.WARNING, logger="terminal.acquirer_link"):
        try:
            _, result = rig.pay()
        finally:
            relay.close()
            rig.journal.close()
    assert result.state is PaymentState.APPROVED, result.message
    printer.take(CUT)
    for name, data in CARD_DATA.items():
        if name != "card number in BCD":
            assert data in bytes(relay.captured), f"{name} not seen in clear"
    assert any("PLAIN TCP" in record.getMessage() for record in caplog.records)


def _context_without_a_certificate(tls: AcquirerTls) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(tls.ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@pytest.mark.parametrize("terminal_certificate", ["missing", "from another CA"])
@pytest.mark.parametrize("tls_version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_the_acquirer_refuses_a_terminal_without_its_certificate(
    tmp_path: Path,
    printer: PrinterPty,
    card: VirtualCard,
    acquirers: Callable[..., Acquirer],
    monkeypatch: pytest.MonkeyPatch,
    terminal_certificate: str,
    tls_version: ssl.TLSVersion,
) -> None:
    acquirer = acquirers()
    tls = acquirer.terminal_tls()
    assert tls is not None
    if terminal_certificate == "missing":
        make_context = _context_without_a_certificate
    else:
        now = now_utc()
        rogue = CertificateAuthority.create(tmp_path / "rogue-ca", "Somebody else", now)
        issued = rogue.issue(tmp_path / "rogue", "T0000042", now)
        tls = AcquirerTls(tls.ca_file, issued.certificate, issued.private_key, tls.server_name)
        make_context = acquirer_link.client_context

    def pinned_version(tls: AcquirerTls) -> ssl.SSLContext:
        context = make_context(tls)
        context.minimum_version = context.maximum_version = tls_version
        return context

    monkeypatch.setattr(acquirer_link, "client_context", pinned_version)
    rig = Rig(tmp_path, printer, acquirer.port, tls)
    try:
        case_number, result = rig.pay()
        rig.assert_nothing_charged(case_number, result)
    finally:
        rig.journal.close()
    message = str(result.message)
    # TLS 1.2 hears "handshake failure" for a missing certificate; the sentence says what to check.
    if terminal_certificate == "missing" and tls_version is ssl.TLSVersion.TLSv1_2:
        assert "refused the secure connection" in message, message
    else:
        assert "refused this terminal's certificate" in message, message
    assert "certificate" in message and "Call the technician" in message
    (entry,) = _journal(acquirer)
    assert "refused" in entry and "mti" not in entry  # no request was read


def test_the_terminal_refuses_a_host_whose_certificate_is_not_from_the_pinned_ca(
    tmp_path: Path,
    printer: PrinterPty,
    card: VirtualCard,
    acquirers: Callable[..., Acquirer],
) -> None:
    """A man in the middle with a valid-looking certificate for 127.0.0.1 from another CA."""
    genuine = acquirers()
    now = now_utc()
    rogue = CertificateAuthority.create(tmp_path / "mitm-ca", "Intercepting proxy", now)
    issued = rogue.issue(tmp_path / "mitm", "acquirer", now, server_names=SERVER_NAMES)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(issued.certificate, issued.private_key)
    listener = socket.create_server(("127.0.0.1", 0))
    received = bytearray()
    refusals: list[str] = []

    def impersonate() -> None:
        connection, _ = listener.accept()
        try:
            with context.wrap_socket(connection, server_side=True) as tls:
                received.extend(tls.recv(65536))
        except ssl.SSLError as exc:
            refusals.append(str(exc.reason))

    thread = threading.Thread(target=impersonate, daemon=True)
    thread.start()
    rig = Rig(tmp_path, printer, listener.getsockname()[1], genuine.terminal_tls())
    try:
        case_number, result = rig.pay()
        rig.assert_nothing_charged(case_number, result)
    finally:
        rig.journal.close()
        listener.close()
    thread.join(5)
    assert "did not prove that it is the bank" in str(result.message)
    assert "card data was not sent" in str(result.message)
    assert received == bytearray()
    assert refusals == ["TLSV1_ALERT_UNKNOWN_CA"]  # the terminal's alert: not our CA
    assert _journal(genuine) == []


def _write_config(tmp_path: Path, emv_extra: str) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(
        f"""device_id = "term-0001"
terminal_id = "T0000042"
agency = "Astana Police"
registry_url = "https://erap.example.kz"
data_dir = "{tmp_path / "data"}"
key_path = "{tmp_path / "terminal.key"}"
printer_device = "/dev/null"
payment_device = "emv"

[emv]
reader = "ACS"
acquirer_host = "127.0.0.1"
acquirer_port = 5000
merchant_id = "ERAPASTANA00001"
{emv_extra}
""",
        encoding="utf-8",
    )
    return path


def test_the_configuration_requires_tls_and_refuses_plain_tcp_outside_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PLAIN_TCP_TESTS_ENV, raising=False)
    with pytest.raises(ConfigError, match="acquirer_ca_file, client_cert_file, client_key_file"):
        load_config(_write_config(tmp_path, ""))
    plain = _write_config(tmp_path, "acquirer_insecure_plain_tcp = true")
    with pytest.raises(ConfigError, match="card numbers in clear"):
        load_config(plain)
    monkeypatch.setenv(PLAIN_TCP_TESTS_ENV, "1")
    config = load_config(plain)
    assert config.emv is not None and config.emv.acquirer_tls() is None


def test_the_configuration_names_unusable_tls_files(tmp_path: Path) -> None:
    now = now_utc()
    ca = CertificateAuthority.create(tmp_path / "ca", "Test acquirer CA", now)
    mine = ca.issue(tmp_path / "mine", "T0000042", now)
    other = ca.issue(tmp_path / "other", "T0000043", now)
    files = f'acquirer_ca_file = "{tmp_path / "ca" / "ca.crt"}"\n'
    good = files + f'client_cert_file = "{mine.certificate}"\n'
    config = load_config(_write_config(tmp_path, good + f'client_key_file = "{mine.private_key}"'))
    assert config.emv is not None
    assert config.emv.acquirer_tls() == AcquirerTls(
        tmp_path / "ca" / "ca.crt", mine.certificate, mine.private_key, "127.0.0.1"
    )
    wrong_key = _write_config(tmp_path, good + f'client_key_file = "{other.private_key}"')
    with pytest.raises(ConfigError, match="the key must belong to the certificate"):
        load_config(wrong_key)
    missing = _write_config(tmp_path, good + f'client_key_file = "{tmp_path / "nowhere.key"}"')
    with pytest.raises(ConfigError, match=r"client_key_file.*cannot be used"):
        load_config(missing)
    no_ca = f'acquirer_ca_file = "{mine.private_key}"\n'  # a key where the CA should be
    bad_ca = _write_config(
        tmp_path,
        no_ca + f'client_cert_file = "{mine.certificate}"\nclient_key_file = "{mine.private_key}"',
    )
    with pytest.raises(ConfigError, match=r"emv\.acquirer_ca_file"):
        load_config(bad_ca)
