"""The in-car payment terminal of the demo, as an officer runs it: ``python -m terminal`` with
its own configuration file, a PC/SC daemon with the virtual reader and our virtual EMV card,
the acquirer simulator speaking ISO 8583 over mutual TLS with certificates made at start (the
bank's host cannot exist here), and a receipt printer on a pty pair, whose bytes are read back
as the printer puts them on paper (``terminal.sim.escpos_reader``): the receipt in Kazakh and
in Russian."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from demo.story import say
from terminal.paper import load_profile
from terminal.sim.escpos_reader import Paper, PrintedText, read_paper
from terminal.sim.harness import READER_NAME, Acquirer, Pcscd, PrinterPty, VirtualCard

ROOT = Path(__file__).resolve().parent.parent
# Debian's vsmartcard-vpcd configures the system pcscd with a virtual reader on this port.
SYSTEM_VPCD_PORT = 0x8C7B
RECEIPT_CUT = b"\x1dV\x00"  # GS V 0: the last command of every receipt
# python-escpos's generic Epson profile: CP866 is ESC t 17, KZ-1048 (Kazakh) ESC t 53. On a
# model without KZ-1048 (printer_profile = "TM-T88IV") the Kazakh lines would be images.
PRINTER_PROFILE = "default"


class PaymentTerminalRig:
    def __init__(self, workdir: Path, device_id: str, key_file: Path, registry_url: str) -> None:
        self.workdir = workdir
        self.config_path = workdir / "terminal.toml"
        self._device_id = device_id
        self._key_file = key_file
        self._registry_url = registry_url
        self._pcscd: Pcscd | None = None
        self._card_port = SYSTEM_VPCD_PORT
        self._acquirer = Acquirer(workdir / "acquirer.jsonl", delay_s=0.5)
        self.printer = PrinterPty(workdir)

    def start(self) -> PaymentTerminalRig:
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self._pcscd = Pcscd(self.workdir).start()
            self._card_port = self._pcscd.card_port
            say(f"pcscd started with a virtual reader on port {self._card_port}")
        except RuntimeError as error:
            say(f"{error}: using it, with Debian's virtual reader on port {SYSTEM_VPCD_PORT}")
        self._acquirer.start()
        self.printer.start()
        self.config_path.write_text(self._config_text(), encoding="utf-8")
        return self

    def _config_text(self) -> str:
        tls = self._acquirer.terminal_tls()
        assert tls is not None  # the simulator speaks mutual TLS, as the bank's host does
        return f"""# Written by the demo: see terminal/terminal.example.toml for every option.
device_id = "{self._device_id}"
terminal_id = "T0000042"
language = "ru"
registry_url = "{self._registry_url}"
data_dir = "{self.workdir / "data"}"
key_path = "{self._key_file}"
printer_device = "{self.printer.device}"
printer_profile = "{PRINTER_PROFILE}"
payment_device = "emv"

[agency]
kk = "Астана қаласы Полиция департаменті"
ru = "Департамент полиции города Астаны"
en = "Astana Police Department"

[emv]
reader = "{READER_NAME}"
acquirer_host = "127.0.0.1"
acquirer_port = {self._acquirer.port}
acquirer_timeout_s = 10
merchant_id = "ERAPASTANA00001"
acquirer_ca_file = "{tls.ca_file}"
acquirer_server_name = "{tls.server_name}"
client_cert_file = "{tls.cert_file}"
client_key_file = "{tls.key_file}"
"""

    def insert_card(self) -> VirtualCard:
        return VirtualCard(self._card_port).insert()

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``python -m terminal ARGS --config ...`` as the officer types it."""
        return subprocess.run(
            [
                sys.executable,
                "-W",
                "ignore",
                "-m",
                "terminal",
                *args,
                "--config",
                str(self.config_path),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={**os.environ, "COLUMNS": "200"},
        )

    def receipt(self) -> Paper:
        """The next receipt as the printer put it on paper: text decoded in the character
        table the terminal selected, images as images."""
        data = self.printer.take_receipt(timeout_s=10)
        return read_paper(data, load_profile(PRINTER_PROFILE))

    def show_receipt(self, paper: Paper, language: str) -> None:
        lines = [line for line in paper.lines if line]
        tables = sorted(
            {i.code_page for i in paper.items if isinstance(i, PrintedText) and i.code_page}
        )
        say(
            f"[printer] receipt in {language}: {len(lines)} lines as text"
            f" in {', '.join(tables) or 'ASCII'}, {len(paper.rasters)} as raster images"
        )
        for line in lines:
            say(f"[printer {language}] {line}")
        for url in paper.qr_codes:
            say(f"[printer {language}] (QR code) {url}")

    def stop(self) -> None:
        self.printer.stop()
        self._acquirer.stop()
        if self._pcscd is not None:
            self._pcscd.stop()
