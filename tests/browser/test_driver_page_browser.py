"""The driver's case page on a phone (390x844) in a real headless Chromium, in Kazakh and in
Russian, against a real registry process: the link from the notice opens the case with its two
photos loaded (the camera's real JPEGs, through the link), the amounts in CLDR form and Astana
time; a wrong case number and plate pair is refused with the sentence and the form again; a
mistyped link says so. Screenshots: test-output/screens/driver-<lang>/."""

from __future__ import annotations

import re
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from i18n import Language
from tests.browser.conftest import ROOT, RunningRegistry
from tests.browser.driving import Screens, images_loaded, text_of, wait_for
from tests.support.registry_fixtures import OWNER_PERSON

PHONE = (390, 844)
LINK = re.compile(r"/cases/([A-Za-z0-9_-]{18})")
AMOUNT = re.compile(r"\d{1,3}(?:\u00a0\d{3})*,\d{2}\u00a0₸")

WORDS: dict[str, dict[str, str]] = {
    "kk": {
        "due": "Қазір төленетін сома",
        "citation": "ӘҚБтК 592-бабының 2-бөлігі",
        "pay": "Қалай төлеуге болады",
        "history": "Іс тарихы",
        "wrong_pair": "Бұл іс нөмірі мен мемлекеттік нөмірге сәйкес іс жоқ",
        "bad_link": "Бұл сілтеме ешбір істі ашпайды",
    },
    "ru": {
        "due": "К оплате сейчас",
        "citation": "ч. 2 ст. 592 КоАП РК",
        "pay": "Как оплатить",
        "history": "История дела",
        "wrong_pair": "Дела с таким номером и госномером нет",
        "bad_link": "Эта ссылка не открывает ни одного дела",
    },
}


def notice_token(registry: RunningRegistry, case_number: str) -> str:
    bodies = [
        row[0]
        for row in registry.store.db.conn.execute(
            "SELECT body FROM notifications WHERE case_number = ?", (case_number,)
        )
    ]
    tokens = [token for body in bodies for token in LINK.findall(body)]
    assert tokens, bodies
    return str(tokens[0])


def scroll_to(driver: webdriver.Chrome, selector: str) -> None:
    driver.execute_script("document.querySelector(arguments[0]).scrollIntoView()", selector)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_a_driver_opens_the_notices_link_on_a_phone(
    registry_process: RunningRegistry, browser: webdriver.Chrome, language: Language
) -> None:
    words = WORDS[language]
    folder = ROOT / "test-output" / "screens" / f"driver-{language}"
    shutil.rmtree(folder, ignore_errors=True)
    screens = Screens(browser, folder)
    # A phone's viewport, as the phone reports it (a window of that size would lose the
    # height of the browser's own bars).
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True},
    )
    fixation_id = registry_process.send_fixation(OWNER_PERSON.plate, speed_kmh=87, seed=1)
    case_number = registry_process.confirm(fixation_id, "aigerim")
    token = notice_token(registry_process, case_number)

    browser.get(f"{registry_process.base_url}/cases/{token}?lang={language}")
    wait_for(browser, lambda d: d.find_elements(By.ID, "due-now"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    assert browser.execute_script("return [window.innerWidth, window.innerHeight]") == list(PHONE)
    assert case_number in browser.find_element(By.TAG_NAME, "h1").text
    assert words["due"] in browser.page_source
    assert AMOUNT.fullmatch(text_of(browser, "#due-now")), text_of(browser, "#due-now")
    assert words["citation"] in text_of(browser, "#offence")
    # The page fits the phone's width: nothing to scroll sideways.
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )
    screens.shot("case-top")

    images = browser.find_elements(By.CSS_SELECTOR, ".photos img")
    assert len(images) == 2
    wait_for(browser, images_loaded)
    widths = [int(str(image.get_attribute("naturalWidth"))) for image in images]
    assert widths[0] == 1280 and 0 < widths[1] < widths[0], widths
    assert all(f"/cases/{token}/photos/" in str(image.get_attribute("src")) for image in images)
    scroll_to(browser, ".photos")
    screens.shot("photos")
    scroll_to(browser, "#pay")
    assert case_number in text_of(browser, "#pay") and words["pay"] in text_of(browser, "#pay")
    screens.shot("how-to-pay")
    scroll_to(browser, "#history")
    assert words["history"] in text_of(browser, "#history")
    screens.shot("history")

    # By number and plate: a wrong pair is refused, the right one opens the case.
    browser.get(f"{registry_process.base_url}/cases?lang={language}")
    browser.find_element(By.ID, "case_number").send_keys(case_number)
    browser.find_element(By.ID, "plate").send_keys("123ABC09")
    browser.find_element(By.CSS_SELECTOR, "#lookup button").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "problem"))
    assert words["wrong_pair"] in text_of(browser, "#problem")
    assert not browser.find_elements(By.CSS_SELECTOR, ".photos img")
    screens.shot("wrong-pair")
    browser.find_element(By.ID, "plate").send_keys("123 abc 01")
    browser.find_element(By.CSS_SELECTOR, "#lookup button").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "due-now"))
    assert case_number in browser.find_element(By.TAG_NAME, "h1").text
    wait_for(browser, images_loaded)

    # A link cut short when copied opens nothing, and says so.
    mistyped = token[:-1] + ("B" if token.endswith("A") else "A")
    browser.get(f"{registry_process.base_url}/cases/{mistyped}?lang={language}")
    assert words["bad_link"] in text_of(browser, "#problem")
    screens.shot("bad-link")
