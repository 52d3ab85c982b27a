"""The console in Kazakh and in Russian in a real headless Chromium, at 1280x800: an officer whose
profile says the language reviews by keyboard alone (Enter confirms, a digit rejects, keys
found by their place when a Cyrillic layout types letters), and the page speaks that language:
``<html lang>``, the words, the review script's status line and empty screen, CLDR amounts
(``39 320,00 ₸``) and Astana dates. Screenshots: ``screens-kk/`` and ``screens-ru/`` in each
test's temporary folder (printed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from i18n import Language
from tests.browser.conftest import RunningRegistry
from tests.browser.driving import (
    Screens,
    decided,
    images_loaded,
    on_screen,
    press,
    sign_in,
    sign_out,
    text_of,
    wait_for,
)

# An amount as CLDR writes it for kk_KZ and ru_KZ: groups and the sign after no-break spaces,
# a decimal comma.
AMOUNT = re.compile(r"\d{1,3}(?:\u00a0\d{3})*,\d{2}\u00a0₸")
LOCAL_TIME = re.compile(r"\d{2}\.\d{2}\.20\d{2} \d{2}:\d{2}:\d{2}")

WORDS: dict[str, dict[str, str]] = {
    "kk": {
        "user_name": "Пайдаланушы аты",
        "waiting": "Күтуде:",
        "confirm_key": "растау: камера дұрыс",
        "reject_key": "қабылдамау: көлік құралы есепке алу деректеріне сәйкес келмейді",
        "history": "нөмірінің тарихы",
        "confirmed": "Расталды: 123ABC01, іс ",
        "rejected": "Қабылданбады: 456DEF02.",
        "not_recorded": "Жазылмады: ",
        "already": "шешім қабылданып қойған",
        "correct_title": "Нөмірді түзету",
        "empty": "Тексеруді күтіп тұрған тіркеу жоқ",
        "half_fine": "Айыппұлдың елу пайызы",
        "offence": "белгіленген жылдамдықты асыру",
    },
    "ru": {
        "user_name": "Имя пользователя",
        "waiting": "Ожидают:",
        "confirm_key": "подтвердить: камера права",
        "reject_key": "отклонить: транспортное средство не совпадает с данными учёта",
        "history": "История номера",
        "confirmed": "Подтверждено: 123ABC01, дело ",
        "rejected": "Отклонено: 456DEF02.",
        "not_recorded": "Не записано: ",
        "already": "решение уже принято",
        "correct_title": "Исправить номер",
        "empty": "Нет фиксаций, ожидающих проверки",
        "half_fine": "Пятьдесят процентов штрафа",
        "offence": "превышение установленной скорости движения",
    },
}
# What a key of the top row or the P key types with each language's layout active.
TYPED_IN_LAYOUT = {"kk": {"p": "з", "1": '"'}, "ru": {"p": "з", "1": "1"}}


def fits_the_window(driver: webdriver.Chrome) -> bool:
    """Nothing sticks out sideways, and the header's switcher is inside the window."""
    return bool(
        driver.execute_script(
            "const form = document.querySelector('header form.languages').getBoundingClientRect();"
            "return document.documentElement.scrollWidth <= window.innerWidth"
            " && form.right <= window.innerWidth && form.left >= 0"
        )
    )


def page_language(driver: webdriver.Chrome) -> str:
    return str(driver.execute_script("return document.documentElement.lang"))


def press_in_layout(driver: webdriver.Chrome, typed: str, code: str) -> None:
    """A key as the browser reports it with a Cyrillic layout: what it typed, and its place."""
    driver.execute_script(
        "document.dispatchEvent(new KeyboardEvent('keydown',"
        " {key: arguments[0], code: arguments[1], bubbles: true}))",
        typed,
        code,
    )


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_an_officer_reviews_by_keyboard_in_kazakh_and_in_russian(
    registry_process: RunningRegistry,
    browser: webdriver.Chrome,
    language: Language,
    tmp_path: Path,
) -> None:
    registry, driver = registry_process, browser
    words = WORDS[language]
    # The page's own area at 1280x800, as on an office monitor's browser at full width.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
    )
    screens = Screens(driver, tmp_path / f"screens-{language}")
    registry.set_language("aigerim", language)
    earlier = registry.send_fixation("123ABC01", speed_kmh=95, seed=9)
    earlier_case = registry.confirm(earlier, "daniyar")  # the plate's history holds a case
    ids = [
        registry.send_fixation(plate, speed_kmh=84 + 7 * index, seed=index)
        for index, plate in enumerate(["123ABC01", "456DEF02", "777XYZ05", "456DEF08"])
    ]

    # Signed out, the browser asks for English; the switcher chooses for the sign-in page.
    driver.get(f"{registry.base_url}/console/login")
    assert page_language(driver) == "en"
    switcher = f'header form.languages button[value="{language}"]'
    driver.find_element(By.CSS_SELECTOR, switcher).click()
    wait_for(driver, lambda d: page_language(d) == language)
    assert words["user_name"] in driver.find_element(By.CSS_SELECTOR, "main").text
    assert fits_the_window(driver)
    screens.shot("login")
    sign_in(driver, registry.base_url, "aigerim", open_page=False)

    wait_for(driver, lambda d: on_screen(d) == ids[0])
    wait_for(driver, images_loaded)
    assert page_language(driver) == language
    assert text_of(driver, ".review-bar").count(words["waiting"]) == 1
    keys = text_of(driver, "aside.keys")
    assert words["confirm_key"] in keys and words["reject_key"] in keys
    history = text_of(driver, "#stage .history")
    assert words["history"] in history and earlier_case in history
    assert AMOUNT.search(history), f"no CLDR amount in the plate's history: {history!r}"
    assert LOCAL_TIME.search(history) and words["offence"] in history
    assert fits_the_window(driver), "the header and the review screen fit 1280x800"
    screens.shot("review")

    press(driver, Keys.ENTER)  # confirm the first
    wait_for(driver, lambda d: on_screen(d) == ids[1])
    wait_for(driver, lambda d: words["confirmed"] in d.find_element(By.ID, "status").text)
    press(driver, "2")  # reject the second: the vehicle does not match the register
    wait_for(driver, lambda d: on_screen(d) == ids[2])
    wait_for(driver, lambda d: d.find_element(By.ID, "status").text == words["rejected"])
    screens.shot("review-after-two-decisions")
    rate = text_of(driver, "#session-rate")  # the script groups digits as the language does
    assert re.fullmatch(r"\d{1,3}(?:\u00a0\d{3})*", rate), rate

    # Another officer decides the third while it is on screen: the registry's refusal comes
    # back in the page's language (the script sends it as Accept-Language).
    registry.confirm(ids[2], "daniyar")
    press(driver, Keys.ENTER)
    wait_for(driver, lambda d: on_screen(d) == ids[3])
    wait_for(
        driver, lambda d: d.find_element(By.ID, "status").text.startswith(words["not_recorded"])
    )
    assert words["already"] in driver.find_element(By.ID, "status").text
    screens.shot("review-refused-in-language")

    # With the language's own layout active, P types "з": the key is found by its place.
    press_in_layout(driver, TYPED_IN_LAYOUT[language]["p"], "KeyP")
    dialog = driver.find_element(By.ID, "correct-dialog")
    wait_for(driver, lambda d: dialog.is_displayed())
    assert words["correct_title"] in dialog.text
    screens.shot("review-correct-plate")
    press(driver, Keys.ESCAPE)
    wait_for(driver, lambda d: not dialog.is_displayed())
    press_in_layout(driver, TYPED_IN_LAYOUT[language]["1"], "Digit1")  # reject: unreadable
    wait_for(driver, lambda d: on_screen(d) is None)
    wait_for(driver, lambda d: d.find_element(By.ID, "session-count").text == "3")
    assert words["empty"] in driver.find_element(By.ID, "stage").text
    screens.shot("review-queue-empty")

    assert [decided(registry.store, fixation_id) for fixation_id in ids] == [
        ("confirmed", "aigerim", None),
        ("rejected", "aigerim", "vehicle_mismatch"),
        ("confirmed", "daniyar", None),
        ("rejected", "aigerim", "plate_unreadable"),
    ]
    (case_number,) = registry.store.db.conn.execute(
        "SELECT case_number FROM cases WHERE fixation_id = ?", (ids[0],)
    ).fetchone()
    driver.get(f"{registry.base_url}/console/cases/{case_number}")
    assert page_language(driver) == language
    details = text_of(driver, "main dl.grid")
    assert words["half_fine"] in details and len(AMOUNT.findall(details)) >= 4
    assert fits_the_window(driver)
    screens.shot("case")

    # The widest headers: the supervisor's (four sections) and the prosecutor's tables.
    sign_out(driver)
    assert page_language(driver) == language, "the sign-in page keeps the chosen language"
    for officer, page in (("saule", "supervisor"), ("prosecutor", "prosecutor")):
        registry.set_language(officer, language)
        sign_in(driver, registry.base_url, officer, open_page=False)
        assert driver.current_url.endswith(f"/console/{page}")
        assert page_language(driver) == language and fits_the_window(driver), page
        screens.shot(page)
        sign_out(driver)
