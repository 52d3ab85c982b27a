"""The demo's roadside stop: a patrol officer stops a car that ran a red light, draws up the
protocol on the terminal's touch UI (``erap-terminal ui``, its own process), signs it with his
token, prints the driver's copy, and the driver pays on the spot by card at half the fine; the
registry then shows the case, opened by the protocol and paid.

Around the product, as in the tests: the officer's token on SoftHSM2 with a certificate from
the registry's officers' CA (tests/support/officer_pki.py), the population register as its own
process (tests/support/population_register.py), the bank's POS simulator over ECR and the
printer on pty pairs, and a GPS receiver that has no fix (the officer types the address, and
the protocol says so). The officer's browser is played by an HTTP client that posts the same
forms the screens post, CSRF tokens included."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from PIL import Image, ImageDraw

from central_ingest.config import RegistryConfig
from central_ingest.pki_officers import OfficerCa
from central_ingest.roadside import officer_ca_dir
from contract import now_utc
from demo.registry_side import Officers, cli, wait_for
from demo.story import Summary, chapter, say
from i18n.formatting import money
from terminal.paper import load_profile
from terminal.sim.escpos_reader import Paper, read_paper
from terminal.sim.harness import BankPos, PrinterPty, SocatPair
from tests.support.broker import free_port
from tests.support.officer_pki import SOFTHSM_MODULE, SoftHsm, valid_iin
from tests.support.population_register import PopulationRegisterProcess

ROOT = Path(__file__).resolve().parent.parent
PLATE = "869AMR03"  # within the limit on the camera's video; at this stop, a red light
DRIVER_IIN = "920704450011"  # Ким Елена Викторовна, in the population register
OFFICER = "serik"  # his console account gets his IIN: his protocols are accepted while active
OFFICER_NAME = "Серік Қайратұлы Ахметов"
TOKEN_LABEL = "officer-serik"
PIN = "482915"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PAYMENT_ID = re.compile(r'name="payment_id" value="([^"]+)"')
MESSAGE = re.compile(r'id="message" role="status">(.*?)</p>', re.S)
NUMBER = re.compile(r"<h1>[^<]*?(KZ-[A-Z]+-R\d+)</h1>")


def _drawn_signature() -> str:
    """What the driver draws with the stylus, as the canvas posts it."""
    image = Image.new("RGB", (600, 160), "white")
    ImageDraw.Draw(image).line(
        [(40, 110), (120, 40), (170, 120), (260, 50), (330, 100), (420, 60)], "navy", 5
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _said(page: str) -> str:
    found = MESSAGE.search(page)
    return re.sub(r"\s+", " ", found.group(1)).strip() if found else ""


class RoadsideStop:
    def __init__(
        self, workdir: Path, device_id: str, key_file: Path, registry: RegistryConfig, url: str
    ) -> None:
        self.workdir = workdir
        self._device_id = device_id
        self._key_file = key_file
        self._registry = registry
        self._registry_url = url
        self.printer = PrinterPty(workdir)
        self._gps = SocatPair(workdir, "gps")
        self._cable = SocatPair(workdir, "ecr")
        self._population = PopulationRegisterProcess()
        self._pos: BankPos | None = None
        self._ui: subprocess.Popen[bytes] | None = None
        self._hsm: SoftHsm | None = None
        self.ui_url = ""

    def start(self) -> RoadsideStop:
        self.workdir.mkdir(parents=True, exist_ok=True)
        iin = valid_iin("850315", "3")
        # The agency's certification centre and the officer's token.
        ca_dir = officer_ca_dir(self._registry)
        authority = OfficerCa.create(ca_dir, "ERAP officers CA", now_utc() - timedelta(days=1))
        hsm = self._hsm = SoftHsm()  # sets SOFTHSM2_CONF: the UI process inherits it
        public_key = hsm.generate_key(TOKEN_LABEL, PIN).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        certificate, _ = authority.issue(public_key, iin=iin, name=OFFICER_NAME, now=now_utc())
        hsm.store_certificate(TOKEN_LABEL, PIN, certificate)
        authority.publish_crl(now_utc())
        say(f"officers' CA in {ca_dir}; the officer's token {TOKEN_LABEL} holds his key and")
        say(f"  certificate (IIN {iin}, serial {certificate.serial_number:x}); CRL published")
        identity = cli(self._registry, "operator", "identity", OFFICER, "--iin", iin)
        say(f"[registry] {(identity.stdout or identity.stderr).strip()}")
        # The car: GPS (no fix today), the bank's POS on its cable, the printer.
        self._population.start()
        self._gps.start()
        self._cable.start()
        self._pos = BankPos(self._cable.far, self.workdir / "pos.jsonl").start()
        self.printer.start()
        port = free_port()
        config = self.workdir / "terminal.toml"
        config.write_text(self._config_text(port), encoding="utf-8")
        self._ui = subprocess.Popen(
            [sys.executable, "-W", "ignore", "-m", "terminal", "ui", "--config", str(config)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "ui.log").open("wb"),
        )
        self.ui_url = f"http://127.0.0.1:{port}"
        if not wait_for(self._serving, 30, poll_s=0.2):
            raise RuntimeError(f"the touch UI did not start: see {self.workdir / 'ui.log'}")
        say(f"[terminal] touch UI on {self.ui_url} (erap-terminal ui, loopback only)")
        return self

    def _serving(self) -> bool:
        try:
            return httpx.get(f"{self.ui_url}/sign-in", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def _config_text(self, port: int) -> str:
        return f"""# Written by the demo: see terminal/terminal.example.toml for every option.
device_id = "{self._device_id}"
terminal_id = "T0000042"
language = "ru"
registry_url = "{self._registry_url}"
data_dir = "{self.workdir / "data"}"
key_path = "{self._key_file}"
printer_device = "{self.printer.device}"
payment_device = "ecr"

[agency]
kk = "Астана қаласы Полиция департаменті"
ru = "Департамент полиции города Астаны"
en = "Astana Police Department"

[token]
module = "{SOFTHSM_MODULE}"
label = "{TOKEN_LABEL}"

[roadside]
population_register_url = "{self._population.url}"
gps_port = "{self._gps.near}"
numbers_low_water = 5
numbers_block_size = 20

[ui]
port = {port}

[ecr]
port = "{self._cable.near}"
answer_timeout_s = 10
"""

    def _paper(self) -> Paper:
        return read_paper(self.printer.take_receipt(timeout_s=10), load_profile("default"))

    def _show(self, paper: Paper, what: str) -> None:
        for line in paper.lines:
            if line:
                say(f"[printer {what}] {line}")
        for url in paper.qr_codes:
            say(f"[printer {what}] (QR code) {url}")

    def tell(self, summary: Summary, officers: Officers) -> None:
        chapter("A roadside stop: the officer's protocol on the terminal, paid on the spot")
        with httpx.Client(base_url=self.ui_url, timeout=60, follow_redirects=True) as browser:
            form = CSRF.findall(browser.get("/sign-in").text)[0]
            page = browser.post("/sign-in", data={"csrf": form, "pin": PIN})
            say(f"[terminal] the officer signs in with his token's PIN: {page.url.path}")
            csrf = CSRF.findall(page.text)[0]
            edit = browser.post("/protocol/new", data={"csrf": csrf})
            fields = {
                "csrf": csrf,
                "plate": PLATE,
                "iin": DRIVER_IIN,
                "article": "599/1",
                "outcome": "fine",
                "address": "пр. Кабанбай батыра / ул. Сыганак",
                "description": "Проезд перекрёстка на запрещающий сигнал светофора",
                "explanation": "Торопилась, не успела остановиться",
                "copy_language": "ru",
                "signature": _drawn_signature(),
            }
            looked = browser.post(edit.url.path, data={**fields, "action": "lookup"})
            person = re.search(r'id="person"><strong>([^<]+)</strong>', looked.text)
            say(f"[terminal] {PLATE}, driver {DRIVER_IIN}: {person.group(1) if person else '?'}")
            review = browser.post(edit.url.path, data={**fields, "action": "review"})
            signed = browser.post(review.url.path.replace("/review", "/sign"), data={"csrf": csrf})
            found = NUMBER.search(signed.text)
            number = found.group(1) if found else ""
            say(f"[terminal] SIGN on the token: {_said(signed.text)}")
            copy = self._paper()
            self._show(copy, "copy ru")
            payment = PAYMENT_ID.search(signed.text)
            paid = browser.post(
                signed.url.path + "/pay",
                data={"csrf": csrf, "payment_id": payment.group(1) if payment else ""},
            )
            say(f"[terminal] the driver's card: {_said(paid.text)}")
            receipt = self._paper()
            self._show(receipt, "receipt ru")
        wait_for(lambda: bool(number) and _status(officers, number) == "paid", 20, poll_s=0.3)
        case = _case(officers, number)
        say(
            f"[registry] case {number}: {case.get('status')}, paid"
            f" {money(int(str(case.get('paid_minor') or 0)), 'en')}"
        )
        summary.check(
            "a roadside protocol signed on the officer's token, its copy printed, paid on the"
            " spot at 50%; the registry shows its case paid",
            bool(number)
            and case.get("status") == "paid"
            # The terminal's default link: the driver's lookup form with the number filled in.
            and copy.qr_codes == [f"https://erap.kz/cases/?case={number}"]
            and any(number in line for line in receipt.lines),
            f"{number} {case.get('status')}" if number else _said(signed.text)[-300:],
        )

    def stop(self) -> None:
        if self._ui is not None:
            self._ui.terminate()
            try:
                self._ui.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._ui.kill()
        if self._pos is not None:
            self._pos.stop()
        self.printer.stop()
        self._cable.stop()
        self._gps.stop()
        self._population.stop()
        if self._hsm is not None:
            shutil.rmtree(self._hsm.folder, ignore_errors=True)


def _case(officers: Officers, number: str) -> dict[str, object]:
    try:
        return officers.case(number)
    except httpx.HTTPError:
        return {}


def _status(officers: Officers, number: str) -> object:
    return _case(officers, number).get("status")
