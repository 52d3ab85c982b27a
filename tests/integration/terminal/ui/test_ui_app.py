"""The touch UI's app over real parts (the roadside rig: the registry's app, SoftHSM2 tokens,
the population register process, GPS, POS and printer on ptys), through HTTP: sign-in says
wrong PIN with the tries left, locked, and an expired certificate; a form from another page
(no CSRF token, another Origin, another Host) is refused; with the network down a protocol is
still drawn up, signed, printed and listed as queued."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pkcs11
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from pydantic import ValidationError

from central_ingest.roadside import CA_FILE, CRL_FILE, officer_ca_dir
from terminal.config import UiSettings
from terminal.officer_token import OfficerToken, PinCounter, TokenSettings
from terminal.paper import load_profile
from terminal.sim.escpos_reader import read_paper
from terminal.sim.harness import PrinterPty
from terminal.ui.app import Station, create_app
from terminal.ui.revocation import OfficerRevocations
from tests.integration.terminal.roadside.rig import (
    NO_FIX,
    PERSON_IIN,
    PIN,
    PLATE,
    Rig,
    close_rig,
    make_rig,
    officer_token,
    sign_in,
)
from tests.support.api import BASE_URL, build_env
from tests.support.officer_pki import SOFTHSM_MODULE, AgencyCa, SoftHsm, softhsm, valid_iin
from tests.support.population_register import PopulationRegisterProcess

NOW = datetime.now(UTC).replace(microsecond=0)
PORT = 8470
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
MESSAGE = re.compile(r'<p class="message" id="message" role="status">(.*?)</p>', re.S)


@pytest.fixture(scope="module")
def hsm() -> SoftHsm:
    return softhsm()


@pytest.fixture(scope="module")
def agency() -> AgencyCa:
    return AgencyCa.create("ERAP officers CA", NOW)


@pytest.fixture(scope="module")
def population() -> Iterator[PopulationRegisterProcess]:
    register = PopulationRegisterProcess().start()
    yield register
    register.stop()


@pytest.fixture(scope="module")
def printer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrinterPty]:
    pty = PrinterPty(tmp_path_factory.mktemp("printer")).start()
    yield pty
    pty.stop()


@pytest.fixture
def rig(
    tmp_path: Path,
    hsm: SoftHsm,
    agency: AgencyCa,
    printer: PrinterPty,
    population: PopulationRegisterProcess,
) -> Iterator[Rig]:
    label = officer_token(hsm, agency, NOW)
    officer = sign_in(label, tmp_path, NOW)
    made = make_rig(
        build_env(tmp_path / "registry"),
        workdir=tmp_path,
        printer=printer,
        officer=officer,
        population_url=population.url,
    )
    officer.close()  # the token is the UI's: its tests sign in on tokens of their own
    yield made
    close_rig(made)


def client(
    rig: Rig,
    label: str,
    tmp_path: Path,
    limit: int = 10,
    revocations: OfficerRevocations | None = None,
) -> TestClient:
    token = OfficerToken(
        TokenSettings(SOFTHSM_MODULE, label), PinCounter(tmp_path / "ui-pins.json", limit)
    )
    station = Station(desk=rig.desk, token=token, language="en", port=PORT, revocations=revocations)
    return TestClient(create_app(station), base_url=f"http://127.0.0.1:{PORT}")


def csrf(page: str) -> str:
    found = CSRF.search(page)
    assert found, page
    return found.group(1)


def message(page: str) -> str:
    found = MESSAGE.search(page)
    return html.unescape(found.group(1)) if found else ""


def enter(ui: TestClient, pin: str) -> tuple[int, str]:
    form = ui.get("/sign-in")
    answer = ui.post("/sign-in", data={"csrf": csrf(form.text), "pin": pin})
    return answer.status_code, message(answer.text)


def test_sign_in_counts_wrong_pins_locks_and_names_an_expired_certificate(
    rig: Rig, hsm: SoftHsm, agency: AgencyCa, tmp_path: Path
) -> None:
    label = officer_token(hsm, agency, NOW)
    with client(rig, label, tmp_path, limit=2) as ui:
        assert enter(ui, "111111") == (401, "Wrong PIN: 1 try left before the token locks.")
        status, said = enter(ui, "222222")
        assert status == 401 and "is locked after too many wrong PINs" in said
        status, said = enter(ui, PIN)  # the right PIN no longer opens a locked token
        assert status == 401 and "is locked" in said
        assert ui.get("/protocols", follow_redirects=False).headers["location"] == "/sign-in"

    expired = f"officer-expired-{NOW.timestamp():.0f}"
    hsm.officer_token(
        expired,
        PIN,
        agency,
        iin=valid_iin(),
        name="Серік Оспанов",
        not_before=NOW - timedelta(days=400),
        not_after=NOW - timedelta(days=1),
    )
    with client(rig, expired, tmp_path / "expired") as ui:
        status, said = enter(ui, PIN)
        assert status == 401 and said.startswith("The certificate on the token expired on")


def test_a_revoked_certificate_is_refused_at_sign_in_even_with_the_network_down_since(
    rig: Rig, hsm: SoftHsm, agency: AgencyCa, tmp_path: Path
) -> None:
    revoked_label = f"officer-revoked-{NOW.timestamp():.0f}"
    certificate = hsm.officer_token(
        revoked_label,
        PIN,
        agency,
        iin=valid_iin(),
        name="Серік Оспанов",
        not_before=NOW - timedelta(days=30),
        not_after=NOW + timedelta(days=365),
    )
    kept = officer_token(hsm, agency, NOW)  # another officer's, not on the list
    trust = officer_ca_dir(rig.env.world.config)  # what the registry publishes
    trust.mkdir(parents=True, exist_ok=True)
    (trust / CA_FILE).write_bytes(agency.certificate.public_bytes(Encoding.PEM))
    revoked_at = NOW - timedelta(hours=2)
    crl = agency.crl([(certificate, revoked_at)], NOW)
    (trust / CRL_FILE).write_bytes(crl.public_bytes(Encoding.DER))
    revocations = OfficerRevocations(
        httpx.Client(transport=rig.link, base_url=BASE_URL), tmp_path / "terminal-ui"
    )
    with client(rig, revoked_label, tmp_path, revocations=revocations) as ui:
        status, said = enter(ui, PIN)
        assert status == 401
        assert said == (
            f"The certificate on the token (serial {certificate.serial_number:x}) was revoked on"
            f" {revoked_at:%Y-%m-%d %H:%M} UTC: the officer cannot sign with it. Ask the"
            " agency's certification centre."
        )
        rig.link.up = False  # the list kept on the terminal still refuses it
        assert enter(ui, PIN)[1] == said
    with client(rig, kept, tmp_path / "kept", revocations=revocations) as ui:
        assert enter(ui, PIN) == (200, "")


def test_forms_from_another_page_or_host_are_refused(
    rig: Rig, hsm: SoftHsm, agency: AgencyCa, tmp_path: Path
) -> None:
    label = officer_token(hsm, agency, NOW)
    with client(rig, label, tmp_path) as ui:
        assert ui.post("/sign-in", data={"pin": PIN}).status_code == 403  # no CSRF token
        form = csrf(ui.get("/sign-in").text)
        other_page = {"Origin": "http://evil.example"}
        refused = ui.post("/sign-in", data={"csrf": form, "pin": PIN}, headers=other_page)
        assert refused.status_code == 403
        # A name rebound to 127.0.0.1 reaches the server with its own Host: refused.
        assert ui.get("/sign-in", headers={"Host": f"evil.example:{PORT}"}).status_code == 403
        assert enter(ui, PIN) == (200, "")  # signed in: the list of today's protocols
        page = ui.get("/protocols").text
        assert "Серік Оспанов" in page
        stale = ui.post("/protocol/new", data={"csrf": form})  # not this session's token
        assert stale.status_code == 403 and "Nothing was done" in stale.text
        started = ui.post("/protocol/new", data={"csrf": csrf(page)}, follow_redirects=False)
        assert started.status_code == 303 and started.headers["location"].endswith("/edit")
    with pytest.raises(ValidationError, match=r"127\.0\.0\.1 only"):
        UiSettings(host="0.0.0.0")


def test_with_the_network_down_a_protocol_is_drawn_up_signed_printed_and_queued(
    rig: Rig, hsm: SoftHsm, agency: AgencyCa, tmp_path: Path
) -> None:
    rig.give_block(1, 10)
    rig.link.up = False
    rig.gps.sentences = NO_FIX
    label = officer_token(hsm, agency, NOW)
    with client(rig, label, tmp_path) as ui:
        enter(ui, PIN)
        edit = ui.post("/protocol/new", data={"csrf": csrf(ui.get("/protocols").text)})
        path = str(edit.url.path)
        fields = {
            "csrf": csrf(edit.text),
            "plate": PLATE,
            "iin": PERSON_IIN,
            "article": "590/1",
            "outcome": "warning",
            "description": "Без ремня безопасности",
            "refused": "1",
        }
        looked = ui.post(path, data={**fields, "action": "lookup"})
        assert "could not be checked" in looked.text  # the registry is out of reach
        assert "Абенов Нурлан Серикович" in looked.text  # the population register answers
        no_place = ui.post(path, data={**fields, "action": "review"})
        assert "has no fix" in message(no_place.text) and no_place.url.path == path
        fields["address"] = "Алматы – Астана, 12 км"
        review = ui.post(path, data={**fields, "action": "review"})
        assert review.url.path.endswith("/review") and "typed: no GPS fix" in review.text
        signed = ui.post(review.url.path.replace("/review", "/sign"), data={"csrf": fields["csrf"]})
        assert "is signed, kept and printed" in message(signed.text)
        paper = read_paper(rig.printer.take_receipt(), load_profile("default"))
        assert paper.qr_codes == ["https://erap.kz/cases/KZ-GP-R00000001"]
        today = ui.get("/protocols").text
        assert 'data-number="KZ-GP-R00000001"' in today and ">queued<" in today
        assert rig.desk.pending() == 1


def test_a_token_pulled_before_sign_ends_the_session_and_journals_nothing(
    rig: Rig, hsm: SoftHsm, agency: AgencyCa, tmp_path: Path
) -> None:
    rig.give_block(1, 10)
    label = officer_token(hsm, agency, NOW)
    with client(rig, label, tmp_path) as ui:
        enter(ui, PIN)
        edit = ui.post("/protocol/new", data={"csrf": csrf(ui.get("/protocols").text)})
        fields = {
            "csrf": csrf(edit.text),
            "plate": PLATE,
            "article": "590/1",
            "outcome": "fine",
            "address": "пр. Кабанбай батыра, 62",
            "description": "Без ремня безопасности",
            "refused": "1",
        }
        review = ui.post(str(edit.url.path), data={**fields, "action": "review"})
        assert review.url.path.endswith("/review")
        hsm.pull(label)  # the officer pulls his token out on the review screen
        sign = review.url.path.replace("/review", "/sign")
        pulled = ui.post(sign, data={"csrf": fields["csrf"]})
        assert pulled.status_code == 401 and pulled.url.path == sign
        assert "was pulled out or stopped answering: nothing was signed" in message(pulled.text)
        assert rig.desk.protocols() == [] and rig.desk.numbers_left() == 10
        # The session ended with the token: the next screen is the sign-in.
        assert ui.get("/protocols", follow_redirects=False).headers["location"] == "/sign-in"
    pkcs11.lib(str(SOFTHSM_MODULE)).reinitialize()  # the slots as they are now
