"""Driving the console in Chromium: waiting, keys, signing in and out, and screenshots for a
person to look at, kept in the test's own temporary folder (its path is printed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from central_ingest.store.db import Store
from tests.browser.conftest import PASSWORD

WAIT_S = 10


class Screens:
    """Numbered screenshots of one test in ``folder`` (under the test's ``tmp_path``, which
    pytest keeps for the last three runs); the folder is printed, so that a run says where to
    look (``pytest -s``, or the captured output of a failure)."""

    def __init__(self, driver: webdriver.Chrome, folder: Path) -> None:
        self.driver = driver
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        print(f"screenshots: {self.folder}")

    def shot(self, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        print(f"screenshot: {path}")
        return path


def wait_for(driver: webdriver.Chrome, condition: Callable[[webdriver.Chrome], object]) -> None:
    # An element looked up while the page is being replaced (a form just posted) is missing or
    # stale for a moment: both mean "not yet", as WebDriverWait already takes a missing one.
    WebDriverWait(
        driver, WAIT_S, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    ).until(condition)


def on_screen(driver: webdriver.Chrome) -> str | None:
    items = driver.find_elements(By.CSS_SELECTOR, "#stage article.item")
    return items[0].get_attribute("data-fixation-id") if items else None


def images_loaded(driver: webdriver.Chrome) -> bool:
    return bool(
        driver.execute_script(
            "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"
        )
    )


def press(driver: webdriver.Chrome, *keys: str) -> None:
    ActionChains(driver).send_keys(*keys).perform()


def sign_in(
    driver: webdriver.Chrome, base_url: str, username: str, *, open_page: bool = True
) -> None:
    if open_page:
        driver.get(f"{base_url}/console/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD, Keys.ENTER)
    wait_for(driver, lambda d: "/console/login" not in d.current_url)


def sign_out(driver: webdriver.Chrome) -> None:
    driver.find_element(By.CSS_SELECTOR, "header form.sign-out button").click()
    wait_for(driver, lambda d: "/console/login" in d.current_url)


def text_of(driver: webdriver.Chrome, selector: str) -> str:
    """The element's text exactly as in the DOM (no-break spaces kept, unlike ``.text``)."""
    return str(
        driver.execute_script("return document.querySelector(arguments[0]).textContent", selector)
    )


def decided(store: Store, fixation_id: str) -> tuple[str, str | None, str | None]:
    row = store.db.conn.execute(
        "SELECT status, decided_by, reject_reason FROM fixations WHERE fixation_id = ?",
        (fixation_id,),
    ).fetchone()
    return row[0], row[1], row[2]
