"""A roadside case in the officers' console: opened from the officer's protocol (no camera,
no evidence images), it names the protocol as its source, the officer who drew it up with his
unit and terminal, where (a typed address is marked as such) and whether the driver signed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central_ingest.api.settings import ApiSettings
from contract.roadside import DriverSignature, ProtocolOutcome, ProtocolPlace
from tests.support.api import PASSWORD, PROSECUTOR, ApiEnv, build_env
from tests.support.roadside_registry import OFFICER, UNIT, RoadsideDesk

pytestmark = pytest.mark.usefixtures("registry_store")

BASE = "http://testserver"


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    env = build_env(tmp_path, api_settings=ApiSettings(secure_cookies=False))
    env.operators.set_language(PROSECUTOR, "en", actor="system:tests")
    return env


def test_the_case_page_shows_the_protocol_its_officer_and_the_drivers_signature(
    env: ApiEnv, tmp_path: Path
) -> None:
    desk = RoadsideDesk.create(env.world, tmp_path)
    officer = desk.officer()
    block = desk.block(size=2)
    fine, warning = block.number(block.first), block.number(block.last)
    desk.send(desk.sign(desk.protocol(officer, fine), officer))
    typed = ProtocolPlace(address="Астана, пр. Республики 5", manual=True)
    protocol = desk.protocol(
        officer,
        warning,
        outcome=ProtocolOutcome.WARNING,
        amount_minor=None,
        place=typed,
        driver_signature=DriverSignature.REFUSED,
        driver_signature_sha256=None,
    )
    desk.send(desk.sign(protocol, officer))

    client = TestClient(env.app, base_url=BASE)
    login = client.post(
        "/console/login",
        data={"username": PROSECUTOR, "password": PASSWORD},
        headers={"Origin": BASE},
        follow_redirects=False,
    )
    assert login.status_code == 303, login.text

    page = client.get(f"/console/cases/{fine}")
    assert page.status_code == 200, page.text[:500]
    assert f"roadside protocol {fine}" in page.text
    assert f"Aigerim ({OFFICER}), {UNIT}; terminal {env.world.terminal_id}" in page.text
    assert "signed on the terminal's screen" in page.text
    assert "Camera" not in page.text and "/v1/evidence/" not in page.text

    page = client.get(f"/console/cases/{warning}")
    assert page.status_code == 200
    assert "closed with a warning" in page.text
    assert "refused to sign" in page.text
    assert "Астана, пр. Республики 5, typed by the officer: no GPS fix" in page.text
    desk.close()
