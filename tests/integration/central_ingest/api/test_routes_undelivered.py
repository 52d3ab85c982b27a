"""The supervisor's list of undelivered cases over HTTP, on both stores: the API for the
supervisor only, and the console's page in the officer's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central_ingest.api.settings import ApiSettings
from tests.support.api import PASSWORD, REVIEWER, SUPERVISOR, ApiEnv, build_env
from tests.support.registry_fixtures import OWNER_UNREACHABLE

pytestmark = pytest.mark.usefixtures("registry_store")

BASE = "http://testserver"


@pytest.fixture
def env(tmp_path: Path) -> tuple[ApiEnv, str, str]:
    """Two overdue cases: one whose driver was told (handed over), one no one can reach."""
    env = build_env(tmp_path, api_settings=ApiSettings(secure_cookies=False))
    env.world.vehicles.upsert([OWNER_UNREACHABLE])
    told = env.world.open_case(told=True)
    unreachable = env.world.open_case(plate=OWNER_UNREACHABLE.plate)
    env.world.clock.advance(days=41)
    assert env.world.registry.hand_over_overdue() == [told]
    return env, told, unreachable


def test_the_supervisor_gets_the_held_cases_and_no_one_else_does(
    env: tuple[ApiEnv, str, str],
) -> None:
    api, _, unreachable = env
    client = api.client()
    answer = client.get("/v1/supervisor/undelivered", headers=api.headers(SUPERVISOR))
    assert answer.status_code == 200
    (held,) = answer.json()
    assert (held["case_number"], held["reason"]) == (unreachable, "no_contact")
    assert (held["has_phone"], held["has_email"], held["attempts_required"]) == (False, False, 3)
    assert (
        client.get("/v1/supervisor/undelivered", headers=api.headers(REVIEWER)).status_code == 403
    )
    assert client.get("/v1/supervisor/undelivered").status_code == 401


@pytest.mark.parametrize(
    ("language", "heading", "reason"),
    [
        ("ru", "Недоставленные дела", "телефон и e-mail неизвестны"),
        ("kk", "Жеткізілмеген істер", "телефон мен e-mail белгісіз"),
    ],
)
def test_the_console_lists_them_in_the_officers_language(
    env: tuple[ApiEnv, str, str], language: str, heading: str, reason: str
) -> None:
    api, told, unreachable = env
    api.operators.set_language(SUPERVISOR, language, actor="system:tests")  # type: ignore[arg-type]
    client = TestClient(api.app, base_url=BASE)
    signed = client.post(
        "/console/login",
        data={"username": SUPERVISOR, "password": PASSWORD},
        headers={"Origin": BASE},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    page = client.get("/console/undelivered")
    assert page.status_code == 200
    assert heading in page.text and 'href="/console/undelivered"' in page.text
    (row,) = page.text.split('<tr id="held-')[1:]
    assert row.startswith(unreachable) and reason in row
    assert told not in page.text
