"""Start and stop the real parts and the simulators as separate processes, for tests and the
benchmark: pcscd with a vpcd reader on a port of our choosing, a virtual card, the acquirer
simulator (mutual TLS, certificates made at start), and a printer on a socat pty pair whose
bytes are collected.

pcscd runs in the foreground at its default log level: never with ``-a``, which logs APDUs
(card number and track 2 included).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from terminal.acquirer_link import AcquirerTls
from terminal.sim.acquirer import Mode
from terminal.sim.acquirer_pki import AcquirerPki
from terminal.sim.escpos_reader import receipt_end

# One free_port for every harness (the tests' Mosquitto's); the tests that start these
# simulators import it from here too.
from tests.support.broker import free_port

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD_PID_FILE = Path("/run/pcscd/pcscd.pid")
READER_NAME = "Virtual PCD 00 00"
CARD_SETTLE_S = 0.8  # two of pcscd's poll periods (see VirtualCard.remove)


def _wait_for_line(process: subprocess.Popen[str], text: str, timeout_s: float) -> None:
    """Read the process's output until ``text`` appears; the rest keeps draining in a thread
    so the child never blocks on a full pipe."""
    assert process.stdout is not None
    stream: IO[str] = process.stdout
    found = threading.Event()
    seen: list[str] = []

    def drain() -> None:
        for line in stream:
            seen.append(line)
            if text in line:
                found.set()
        found.set()

    threading.Thread(target=drain, daemon=True).start()
    found.wait(timeout_s)
    if not any(text in line for line in seen):
        process.kill()
        raise RuntimeError(f"{process.args!r} did not print {text!r}: {''.join(seen)[-2000:]}")


def _stop(process: subprocess.Popen[str] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _pcscd_running() -> bool:
    """True when the pid file names a live process (pcscd itself replaces a stale file)."""
    try:
        os.kill(int(PCSCD_PID_FILE.read_text().strip()), 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    return True


class Pcscd:
    """pcscd with one vpcd reader pair listening on ``card_port`` (and ``card_port + 1``)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.card_port = free_port()
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> Pcscd:
        if _pcscd_running():
            raise RuntimeError(
                f"another pcscd is running ({PCSCD_PID_FILE}); stop it before the tests"
            )
        conf = self.workdir / "reader.conf.d"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "vpcd").write_text(
            'FRIENDLYNAME "Virtual PCD"\n'
            f"DEVICENAME   /dev/null:0x{self.card_port:X}\n"
            f"LIBPATH      {VPCD_DRIVER}\n"
            f"CHANNELID    0x{self.card_port:X}\n"
        )
        self._process = subprocess.Popen(
            ["pcscd", "--foreground", "--info", "--config", str(conf)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        _wait_for_line(self._process, "daemon ready", 10)
        return self

    def stop(self) -> None:
        _stop(self._process)


class VirtualCard:
    def __init__(self, port: int, flags: Sequence[str] = ()) -> None:
        self.port = port
        self.flags = list(flags)
        self._process: subprocess.Popen[str] | None = None

    def insert(self) -> VirtualCard:
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-W",
                "ignore",
                "-m",
                "terminal.sim.virtual_card",
                "--port",
                str(self.port),
                *self.flags,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        _wait_for_line(self._process, "card inserted", 10)
        _wait_until_present()
        return self

    def remove(self) -> None:
        _stop(self._process)
        _wait_until_absent()
        # After a card pulled in the middle of a command, vpcd missed the next card inserted
        # within the following poll or so (pcscd polls every 0.4 s): the tests after a pulled
        # card then failed, on some days every time. Two poll periods made them pass.
        time.sleep(CARD_SETTLE_S)


def _reader_state() -> int:
    """The reader's SCARD_STATE_* flags as pcscd reports them (0 when pcscd cannot answer)."""
    from smartcard.scard import (  # type: ignore[import-untyped]
        SCARD_S_SUCCESS,
        SCARD_SCOPE_USER,
        SCARD_STATE_UNAWARE,
        SCardEstablishContext,
        SCardGetStatusChange,
        SCardReleaseContext,
    )

    result, context = SCardEstablishContext(SCARD_SCOPE_USER)
    if result != SCARD_S_SUCCESS:
        return 0
    try:
        result, states = SCardGetStatusChange(context, 0, [(READER_NAME, SCARD_STATE_UNAWARE)])
        return int(states[0][1]) if result == SCARD_S_SUCCESS else 0
    finally:
        SCardReleaseContext(context)


def _wait_until_present(timeout_s: float = 10) -> None:
    from smartcard.scard import SCARD_STATE_PRESENT

    deadline = time.monotonic() + timeout_s
    while not _reader_state() & SCARD_STATE_PRESENT:
        if time.monotonic() > deadline:
            raise RuntimeError(f"pcscd did not see the virtual card in {READER_NAME}")
        time.sleep(0.02)


def _wait_until_absent(timeout_s: float = 10) -> None:
    """Until pcscd reports the reader empty (a card pulled in the middle of a command loses its
    PRESENT flag before pcscd's poller has seen it go)."""
    from smartcard.scard import SCARD_STATE_EMPTY

    deadline = time.monotonic() + timeout_s
    while not _reader_state() & SCARD_STATE_EMPTY:
        if time.monotonic() > deadline:
            raise RuntimeError(f"pcscd still sees a card in {READER_NAME}")
        time.sleep(0.02)


class Acquirer:
    """The acquirer simulator over mutual TLS with certificates made for it (``pki``: the
    terminal's side is ``pki.terminal_tls()``); ``plain_tcp=True`` for tests of a plain link."""

    def __init__(
        self,
        journal: Path,
        mode: Mode = Mode.APPROVE,
        *,
        delay_s: float = 2.0,
        drop_reversals: int = 0,
        plain_tcp: bool = False,
    ) -> None:
        self.port = free_port()
        self.journal = journal
        self.pki: AcquirerPki | None = None
        self._args = [
            "--mode",
            mode.value,
            "--delay",
            str(delay_s),
            "--drop-reversals",
            str(drop_reversals),
        ]
        if plain_tcp:
            self._args.append("--insecure-plain-tcp")
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> Acquirer:
        if "--insecure-plain-tcp" not in self._args:
            self.pki = AcquirerPki.create(self.journal.with_name(f"{self.journal.stem}-pki"))
            self._args += [
                "--cert",
                str(self.pki.server.certificate),
                "--key",
                str(self.pki.server.private_key),
                "--client-ca",
                str(self.pki.terminals_ca),
            ]
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-W",
                "ignore",
                "-m",
                "terminal.sim.acquirer",
                "--port",
                str(self.port),
                "--journal",
                str(self.journal),
                *self._args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        _wait_for_line(self._process, "acquirer listening", 10)
        return self

    def terminal_tls(self) -> AcquirerTls | None:
        """What the terminal needs to reach it: None over plain TCP."""
        return self.pki.terminal_tls() if self.pki is not None else None

    def stop(self) -> None:
        _stop(self._process)


class SocatPair:
    """Two linked ptys, ``near`` and ``far``: a serial cable with nothing to buy."""

    def __init__(self, workdir: Path, name: str) -> None:
        self.near = workdir / f"{name}-near"
        self.far = workdir / f"{name}-far"
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> SocatPair:
        socat = shutil.which("socat")
        if socat is None:
            raise RuntimeError("socat is not installed (apt-get install socat)")
        self._process = subprocess.Popen(
            [
                socat,
                "-d",
                "-d",
                f"pty,raw,echo=0,link={self.near}",
                f"pty,raw,echo=0,link={self.far}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        _wait_for_line(self._process, "starting data transfer loop", 10)
        return self

    def stop(self) -> None:
        _stop(self._process)


class BankPos:
    """The bank POS simulator listening on ``device`` (the far end of a ``SocatPair``)."""

    def __init__(self, device: Path, journal: Path, mode: str = "approve") -> None:
        self.device = device
        self.journal = journal
        self.mode = mode
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> BankPos:
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "terminal.sim.bank_pos",
                "--device",
                str(self.device),
                "--mode",
                self.mode,
                "--journal",
                str(self.journal),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        _wait_for_line(self._process, "bank POS ready", 10)
        return self

    def stop(self) -> None:
        _stop(self._process)


class PrinterPty:
    """A printer on a socat pty pair: the terminal prints to ``device``; ``take`` returns what
    arrived."""

    def __init__(self, workdir: Path) -> None:
        self._pair = SocatPair(workdir, "printer")
        self.device = self._pair.near
        self._buffer = bytearray()
        self._lock = threading.Lock()

    def start(self) -> PrinterPty:
        self._pair.start()
        fd = os.open(self._pair.far, os.O_RDONLY | os.O_NOCTTY)
        threading.Thread(target=self._collect, args=(fd,), daemon=True).start()
        return self

    def _collect(self, fd: int) -> None:
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self._buffer += chunk

    def take(self, until: bytes, timeout_s: float = 5) -> bytes:
        """Everything received up to and including ``until`` (the cut command), then forget it."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                end = self._buffer.find(until)
                if end >= 0:
                    data = bytes(self._buffer[: end + len(until)])
                    del self._buffer[: end + len(until)]
                    return data
            if time.monotonic() > deadline:
                raise TimeoutError(f"the printer did not receive {until!r}")
            time.sleep(0.005)

    def take_receipt(self, *, cut: bool = True, timeout_s: float = 5) -> bytes:
        """One whole receipt, found by walking its commands rather than searching for the cut's
        bytes, which an image line's data may hold: up to and including the cut, or for a
        printer without a cutter (``cut=False``) its last paper feed."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                end = receipt_end(bytes(self._buffer), cut=cut)
                if end is not None:
                    data = bytes(self._buffer[:end])
                    del self._buffer[:end]
                    return data
            if time.monotonic() > deadline:
                raise TimeoutError("the printer did not receive a whole receipt")
            time.sleep(0.005)

    def stop(self) -> None:
        self._pair.stop()
