"""The console in a real headless Chromium: a reviewer works through fixations by keyboard alone
(confirm, reject with a reason, correct a misread plate), asks for a cancellation, a supervisor
approves it, and the prosecutor looks at removals, the audit status and the case's proofs.
Every officer here reads English (their profiles say so); Kazakh and Russian are in
``test_console_languages_browser``. Screenshots go to ``screens-en/`` in the test's temporary
folder (printed)."""

from __future__ import annotations

from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from central_ingest.audit import load_or_create_registry_key, sign_tree_head
from central_ingest.config import load_config
from central_ingest.store import double_reviews
from contract import now_utc
from tests.browser.conftest import OFFICERS, RunningRegistry
from tests.browser.driving import (
    Screens,
    decided,
    images_loaded,
    on_screen,
    press,
    sign_in,
    sign_out,
    wait_for,
)


def test_review_supervise_and_audit_in_a_real_browser(
    registry_process: RunningRegistry, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    registry, driver = registry_process, browser
    for username in OFFICERS:
        registry.set_language(username, "en")
    screens = Screens(driver, tmp_path / "screens-en")
    plates = ["123ABC01", "456DEF02", "777XYZ05", "456DEF08", "123ABC01"]
    ids = [
        registry.send_fixation(plate, speed_kmh=84 + 7 * index, seed=index)
        for index, plate in enumerate(plates)
    ]

    driver.get(f"{registry.base_url}/console/login")
    screens.shot("login")
    sign_in(driver, registry.base_url, "aigerim")
    wait_for(driver, lambda d: on_screen(d) == ids[0])
    wait_for(driver, images_loaded)
    assert "123 ABC 01" in driver.page_source and "Toyota Camry" in driver.page_source
    screens.shot("review-first-item")
    press(driver, "z")
    screens.shot("review-zoomed")
    press(driver, "z")

    press(driver, Keys.ENTER)  # confirm the first
    wait_for(driver, lambda d: on_screen(d) == ids[1])
    screens.shot("review-second-item-preloaded")
    press(driver, Keys.ENTER)  # confirm the second
    wait_for(driver, lambda d: on_screen(d) == ids[2])
    press(driver, "2")  # reject the third: vehicle mismatch
    wait_for(driver, lambda d: on_screen(d) == ids[3])
    press(driver, "p")  # the fourth was misread: 8 for 2 in the region
    field = driver.find_element(By.ID, "corrected-plate")
    wait_for(driver, lambda d: field.is_displayed())
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("456DEF02")
    screens.shot("review-correct-plate")
    field.send_keys(Keys.ENTER)
    wait_for(driver, lambda d: on_screen(d) == ids[4])
    press(driver, Keys.ENTER)
    wait_for(driver, lambda d: on_screen(d) is None)
    wait_for(driver, lambda d: d.find_element(By.ID, "session-count").text == "5")
    screens.shot("review-queue-empty")

    store = registry.store
    assert [decided(store, fixation_id) for fixation_id in ids] == [
        ("confirmed", "aigerim", None),
        ("confirmed", "aigerim", None),
        ("rejected", "aigerim", "vehicle_mismatch"),
        ("confirmed", "aigerim", None),
        ("confirmed", "aigerim", None),
    ]
    corrected = store.db.conn.execute(
        "SELECT f.corrected_plate, f.correction_reason, c.plate, f.seconds_spent"
        " FROM fixations f JOIN cases c ON c.fixation_id = f.fixation_id"
        " WHERE f.fixation_id = ?",
        (ids[3],),
    ).fetchone()
    assert corrected[:3] == ("456DEF02", "camera misread the plate", "456DEF02")
    assert 0 < corrected[3] < 60, "the time spent is measured by the page"
    actors = {
        row[0]
        for row in store.db.conn.execute(
            "SELECT actor FROM ledger WHERE entity_type = 'fixation' AND action IN"
            " ('confirmed', 'rejected')"
        )
    }
    assert actors == {"officer:aigerim"}

    # The reviewer asks for the first case to be cancelled; keyboard only.
    (case_number,) = store.db.conn.execute(
        "SELECT case_number FROM cases WHERE fixation_id = ?", (ids[0],)
    ).fetchone()
    driver.get(f"{registry.base_url}/console/cases/{case_number}")
    reason = driver.find_element(By.ID, "reason")
    reason.send_keys("Owner proved the car was on a tow truck", Keys.ENTER)
    wait_for(driver, lambda d: "waits for a supervisor" in d.page_source)
    screens.shot("case-cancellation-requested")
    driver.get(f"{registry.base_url}/console/me")
    screens.shot("my-figures")
    driver.get(f"{registry.base_url}/console/supervisor")
    assert "Not for your role" in driver.page_source
    sign_out(driver)

    # The second confirmation is drawn for a blind second review (the draw itself is random;
    # here it is made certain). Any other confirmation the draw picked is agreed with.
    (second_case,) = store.db.conn.execute(
        "SELECT case_number FROM cases WHERE fixation_id = ?", (ids[1],)
    ).fetchone()
    with store.transaction() as db:
        double_reviews.sample(db, ids[1], second_case, now_utc())
    sign_in(driver, registry.base_url, "daniyar")
    wait_for(driver, lambda d: on_screen(d) is not None)
    while (shown := on_screen(driver)) is not None:
        assert driver.find_element(By.CSS_SELECTOR, ".badge.second").is_displayed()
        assert "aigerim" not in driver.find_element(By.ID, "stage").text, "the review is blind"
        if shown == ids[1]:
            screens.shot("second-review-blind")
            press(driver, "3")  # an ambulance: the first officer should have rejected it
        else:
            press(driver, Keys.ENTER)
        wait_for(driver, lambda d, before=shown: on_screen(d) != before)
    (agrees, request_id) = store.db.conn.execute(
        "SELECT agrees, cancellation_request_id FROM double_reviews WHERE fixation_id = ?",
        (ids[1],),
    ).fetchone()
    assert agrees == 0 and request_id is not None
    sign_out(driver)

    sign_in(driver, registry.base_url, "saule")
    assert driver.current_url.endswith("/console/supervisor")
    assert "tow truck" in driver.page_source and "emergency vehicle" in driver.page_source
    screens.shot("supervisor-pending")
    row = driver.find_element(By.XPATH, "//tr[td[contains(., 'tow truck')]]")
    row.find_element(By.CSS_SELECTOR, "button[value=approve]").click()
    wait_for(driver, lambda d: "approved" in d.page_source)
    screens.shot("supervisor-approved")
    (status,) = store.db.conn.execute(
        "SELECT status FROM cases WHERE case_number = ?", (case_number,)
    ).fetchone()
    assert status == "cancelled"
    sign_out(driver)

    config = load_config(data_dir=registry.data_dir)
    sign_tree_head(store, load_or_create_registry_key(config.registry_key_path), now_utc())
    sign_in(driver, registry.base_url, "prosecutor")
    assert driver.current_url.endswith("/console/prosecutor")
    assert driver.find_element(By.ID, "tree-size").text.isdigit()
    assert "aigerim" in driver.find_element(By.ID, "removals-officer").text
    screens.shot("prosecutor-overview")
    driver.get(f"{registry.base_url}/console/cases/{case_number}")
    assert "Full history with inclusion proofs" in driver.page_source
    assert "officer:saule" in driver.page_source
    screens.shot("prosecutor-case-history")
    driver.find_element(By.LINK_TEXT, "Prosecutor").click()
    driver.find_element(By.ID, "run-verify").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "verdict"))
    assert "No sign of tampering" in driver.find_element(By.ID, "verdict").text
    screens.shot("prosecutor-verification")
