"""Filing an appeal from the driver's case page on a phone (390x844) in a real headless
Chromium, in Kazakh and in Russian, against a real registry process: a program renamed to .jpg
is refused with the reason and nothing is kept; a photo and the driver's words are received,
the page then shows the appeal instead of the form, and the case is held back from the
bailiffs. Screenshots: test-output/screens/driver-appeal-<lang>/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from central_ingest.appeals import AppealService
from central_ingest.core.appeals import AppealStatus
from i18n import Language
from tests.browser.conftest import ROOT, RunningRegistry
from tests.browser.driving import Screens, text_of, wait_for
from tests.browser.test_driver_page_browser import PHONE, notice_token, scroll_to
from tests.support.appeal_files import linux_program, photo_jpeg
from tests.support.registry_fixtures import OWNER_PERSON

WORDS: dict[str, dict[str, str]] = {
    "kk": {"program": "Linux бағдарламасы", "received": "Шағым қабылданды"},
    "ru": {"program": "программа Linux", "received": "Жалоба принята"},
}


def _fill(browser: webdriver.Chrome, text: str, file: Path) -> None:
    scroll_to(browser, "#appeal-form")
    browser.find_element(By.ID, "appeal-text").send_keys(text)
    browser.find_element(By.ID, "appeal-files").send_keys(str(file))


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_a_driver_files_an_appeal_on_a_phone(
    registry_process: RunningRegistry,
    browser: webdriver.Chrome,
    language: Language,
    tmp_path: Path,
) -> None:
    words = WORDS[language]
    folder = ROOT / "test-output" / "screens" / f"driver-appeal-{language}"
    shutil.rmtree(folder, ignore_errors=True)
    screens = Screens(browser, folder)
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True},
    )
    fixation_id = registry_process.send_fixation(OWNER_PERSON.plate, speed_kmh=87, seed=3)
    case_number = registry_process.confirm(fixation_id, "aigerim")
    page = f"{registry_process.base_url}/cases/{notice_token(registry_process, case_number)}"
    disguised, photo = tmp_path / "photo.jpg", tmp_path / "IMG_2041.jpg"
    disguised.write_bytes(linux_program())
    photo.write_bytes(photo_jpeg(seed=3))

    browser.get(f"{page}?lang={language}")
    wait_for(browser, lambda d: d.find_elements(By.ID, "appeal-form"))
    _fill(browser, "Менің көлігім емес / Не моя машина.", disguised)
    screens.shot("form")
    browser.find_element(By.CSS_SELECTOR, "#appeal-form button").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "problem"))
    assert words["program"] in text_of(browser, "#problem")
    assert "photo.jpg" in text_of(browser, "#problem")
    screens.shot("refused")
    service = AppealService(registry_process.store, registry_process.config)
    assert service.appeal_of_case(case_number) is None

    browser.get(f"{page}?lang={language}")
    wait_for(browser, lambda d: d.find_elements(By.ID, "appeal-form"))
    _fill(browser, "Менің көлігім емес / Не моя машина.", photo)
    browser.find_element(By.CSS_SELECTOR, "#appeal-form button").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "appeal-received"))
    assert words["received"] in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )
    screens.shot("received")

    appeal = service.appeal_of_case(case_number)
    assert appeal is not None and appeal.status is AppealStatus.OPEN
    assert [item.file_name for item in appeal.attachments] == ["IMG_2041.jpg"]
    browser.get(f"{page}?lang={language}")
    wait_for(browser, lambda d: d.find_elements(By.ID, "appeal-filed"))
    assert not browser.find_elements(By.ID, "appeal-form")
    scroll_to(browser, "#appeal")
    screens.shot("appeal-shown")
