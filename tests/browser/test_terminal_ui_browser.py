"""The officer's touch UI in a real headless Chromium at the tablet's 1280x800, in Kazakh and
in Russian, over real parts (tests/integration/terminal/roadside/rig.py): the registry's app
on a SQLite file with the officers' CA and the officer an active operator, the token on
SoftHSM2, the population register in its own process, the GPS on a pty with no fix (the place
is typed), a camera reading a video file, the bank POS over ECR and the printer on a pty.

The officer signs in on the PIN pad (a wrong PIN first: the tries left are shown), draws up a
fine the driver signs on the canvas and a warning the driver refuses to sign; each copy is
printed with its case number and QR link, the fine is paid on the spot at 50% and its receipt
printed; today's list shows both sent, and the registry holds both cases. Screenshots:
test-output/screens/terminal-<lang>/."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from i18n import Language
from terminal.officer_token import OfficerToken, PinCounter, TokenSettings
from terminal.paper import load_profile
from terminal.sim.escpos_reader import read_paper
from terminal.sim.harness import PrinterPty
from terminal.ui.app import Station, create_app
from tests.browser.conftest import ROOT
from tests.browser.driving import Screens, wait_for
from tests.integration.terminal.roadside.rig import (
    NO_FIX,
    PERSON_IIN,
    PIN,
    PLATE,
    Rig,
    officer_token,
    write_video,
)
from tests.integration.terminal.roadside.test_offline import (
    OFFICER_IIN,
    registry_rig,
    registry_rows,
)
from tests.support.broker import free_port
from tests.support.officer_pki import SOFTHSM_MODULE, AgencyCa, softhsm
from tests.support.population_register import PopulationRegisterProcess

TABLET = (1280, 800)
NOW = datetime.now(UTC).replace(microsecond=0)
WORDS: dict[str, dict[str, str]] = {
    "kk": {
        "tries": "қалды",
        "signed": "басып шығарылды",
        "paid": "мақұлданды",
        "new": "Жаңа хаттама",
    },
    "ru": {"tries": "осталось", "signed": "напечатан", "paid": "одобрен", "new": "Новый протокол"},
}


class UiServer:
    """The touch UI on uvicorn in this process, on a free loopback port."""

    def __init__(self, station: Station) -> None:
        self.app = create_app(station)
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=station.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{station.port}"

    def __enter__(self) -> UiServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the touch UI did not start within 10 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.app.state.sessions.close_all()


@pytest.fixture(scope="module")
def agency() -> AgencyCa:
    return AgencyCa.create("ERAP officers CA", NOW)


@pytest.fixture(scope="module")
def token_label(agency: AgencyCa) -> str:
    return officer_token(softhsm(), agency, NOW, iin=OFFICER_IIN)


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
    agency: AgencyCa,
    token_label: str,
    printer: PrinterPty,
    population: PopulationRegisterProcess,
) -> Iterator[Rig]:
    video = tmp_path / "car-camera.avi"
    write_video(video)
    with registry_rig(tmp_path, agency, token_label, printer, population, str(video)) as made:
        made.gps.sentences = NO_FIX  # the place is typed: flagged on the protocol
        yield made


def tap(driver: webdriver.Chrome, element_id: str) -> None:
    driver.find_element(By.ID, element_id).click()


def type_into(driver: webdriver.Chrome, element_id: str, text: str) -> None:
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def sign_in(driver: webdriver.Chrome, pin: str) -> None:
    tap(driver, "key-clear")
    for digit in pin:
        tap(driver, f"key-{digit}")
    tap(driver, "key-ok")


def draw_signature(driver: webdriver.Chrome) -> None:
    canvas = driver.find_element(By.ID, "signature-pad")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    ActionChains(driver).move_to_element_with_offset(
        canvas, -300, 20
    ).click_and_hold().move_by_offset(80, -50).move_by_offset(60, 70).move_by_offset(
        90, -60
    ).move_by_offset(120, 40).release().perform()


def page_is(driver: webdriver.Chrome, part: str) -> None:
    wait_for(driver, lambda d: part in d.current_url)


def fill_protocol(
    driver: webdriver.Chrome, article: str, outcome: str, description: str, address: str
) -> None:
    type_into(driver, "plate", PLATE)
    type_into(driver, "iin", PERSON_IIN)
    tap(driver, "lookup")
    wait_for(driver, lambda d: d.find_elements(By.ID, "person"))
    driver.find_element(By.CSS_SELECTOR, f"label:has(#article-{article})").click()
    driver.find_element(By.CSS_SELECTOR, f"label:has(#outcome-{outcome})").click()
    type_into(driver, "address", address)
    type_into(driver, "description", description)


def printed_copy(rig: Rig) -> tuple[list[str], list[str]]:
    paper = read_paper(rig.printer.take_receipt(), load_profile("default"))
    return [line for line in paper.lines if line], paper.qr_codes


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_an_officer_draws_up_a_fine_and_a_warning_on_the_tablet(
    rig: Rig,
    browser: webdriver.Chrome,
    token_label: str,
    tmp_path: Path,
    language: Language,
) -> None:
    words = WORDS[language]
    folder = ROOT / "test-output" / "screens" / f"terminal-{language}"
    shutil.rmtree(folder, ignore_errors=True)
    screens = Screens(browser, folder)
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": TABLET[0], "height": TABLET[1], "deviceScaleFactor": 1, "mobile": False},
    )
    rig.officer.close()  # the token's login is the touch UI's from here on
    token = OfficerToken(
        TokenSettings(SOFTHSM_MODULE, token_label), PinCounter(tmp_path / "ui-pins.json")
    )
    station = Station(desk=rig.desk, token=token, language="ru", port=free_port(), has_camera=True)
    with UiServer(station) as ui:
        browser.get(f"{ui.url}/sign-in")
        tap(browser, f"lang-{language}")
        wait_for(
            browser, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
        )
        sign_in(browser, "000000")
        # The PIN pad posts its form: wait for the answer page, not the pad still on screen.
        wait_for(browser, lambda d: words["tries"] in d.find_element(By.ID, "message").text)
        screens.shot("wrong-pin")
        sign_in(browser, PIN)
        page_is(browser, "/protocols")
        assert browser.find_element(By.ID, "officer").text == "Серік Оспанов"
        assert browser.find_element(By.ID, "nav-new").text == words["new"]
        screens.shot("signed-in")

        # A fine: the driver signs on the screen; a photo from the car's camera.
        tap(browser, "nav-new")
        page_is(browser, "/edit")
        fill_protocol(
            browser,
            "599-1",
            "fine",
            "Проезд на запрещающий сигнал светофора",
            "пр. Кабанбай батыра, 62",
        )
        assert browser.find_element(By.ID, "open-cases").text
        browser.execute_script("document.getElementById('found').scrollIntoView()")
        screens.shot("fine-lookup")
        browser.execute_script("document.getElementById('articles').scrollIntoView()")
        screens.shot("fine-articles")
        tap(browser, "take-photo")
        wait_for(browser, lambda d: "(1)" in d.find_element(By.CSS_SELECTOR, "#photos h2").text)
        type_into(browser, "explanation", "Не заметил сигнал")
        draw_signature(browser)
        screens.shot("fine-signature")
        tap(browser, "review")
        page_is(browser, "/review")
        assert browser.find_elements(By.CSS_SELECTOR, "#driver-signature img.signature")
        review = browser.find_element(By.ID, "review-facts").text
        assert "43 250,00" in review.replace("\xa0", " ") and "21 625,00" in review.replace(
            "\xa0", " "
        )
        screens.shot("fine-review")
        tap(browser, "sign")
        wait_for(browser, lambda d: d.find_elements(By.ID, "signed-facts"))
        number = browser.find_element(By.TAG_NAME, "h1").text.split()[-1]
        assert number.startswith("KZ-GP-"), number
        assert words["signed"] in browser.find_element(By.ID, "message").text
        lines, qr = printed_copy(rig)
        assert any(number in line for line in lines) and qr == [f"https://erap.kz/cases/{number}"]
        screens.shot("fine-signed")
        tap(browser, "pay")
        wait_for(browser, lambda d: not d.find_elements(By.ID, "pay"))
        assert words["paid"] in browser.find_element(By.ID, "message").text.lower()
        receipt, _ = printed_copy(rig)
        assert any(number in line for line in receipt), receipt
        screens.shot("fine-paid")

        # A warning: the driver refuses to sign.
        tap(browser, "nav-new")
        page_is(browser, "/edit")
        fill_protocol(
            browser,
            "590-1",
            "warning",
            "Управление ТС без ремня безопасности",
            "Алматы – Астана, 12 км",
        )
        browser.find_element(By.CSS_SELECTOR, "label:has(#refused)").click()
        tap(browser, "review")
        page_is(browser, "/review")
        assert not browser.find_elements(By.CSS_SELECTOR, "#driver-signature img")
        screens.shot("warning-review")
        tap(browser, "sign")
        wait_for(browser, lambda d: d.find_elements(By.ID, "signed-facts"))
        warning = browser.find_element(By.TAG_NAME, "h1").text.split()[-1]
        assert not browser.find_elements(By.ID, "pay")  # nothing to pay for a warning
        lines, qr = printed_copy(rig)
        assert any(warning in line for line in lines) and qr == [f"https://erap.kz/cases/{warning}"]
        tap(browser, "later")
        page_is(browser, "/protocols")
        rows = browser.find_elements(By.CSS_SELECTOR, "#protocols tbody tr")
        assert [row.get_attribute("data-number") for row in rows] == [warning, number]
        screens.shot("today")

    cases = registry_rows(
        rig, "SELECT case_number FROM cases WHERE source = 'roadside' ORDER BY case_number"
    )
    assert [row[0] for row in cases] == sorted([number, warning])
    paid = registry_rows(rig, "SELECT case_number, amount_minor FROM payments")
    assert paid == [(number, 2_162_500)]
    stored = registry_rows(rig, "SELECT officer_iin FROM roadside_protocols")
    assert {row[0] for row in stored} == {OFFICER_IIN}
