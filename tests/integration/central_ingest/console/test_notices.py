"""The console's case page lists the notices sent to the owner and what became of each, in the
officer's language: SMS refused by the operator's SMSC (the simulator process) as undeliverable,
the e-mail written to the outbox file, which is the end of the line (delivered). Each row says
what the notice told the driver (here the resolution)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central_ingest.api.settings import ApiSettings
from central_ingest.config import SmppSettings
from central_ingest.notify.senders import ChannelSender, FileSender
from central_ingest.notify.smpp import SmppSender
from central_ingest.notify.worker import collect_receipts, deliver_due
from i18n import Language
from tests.support.api import PASSWORD, PROSECUTOR, ApiEnv, build_env
from tests.support.wire_servers import running

BASE = "http://testserver"
SMSC_PASSWORD = "smsc-pw1"

# The page's words for the states, as the catalogs have them (a missing translation would show
# the English).
WORDS: dict[Language, tuple[str, str, str, str]] = {
    "en": ("Notices to the owner", "not delivered", "delivered", "resolution"),
    "ru": ("Уведомления владельцу", "не доставлено", "доставлено", "постановление"),
    "kk": ("Иесіне жіберілген хабарламалар", "жеткізілмеді", "жеткізілді", "қаулы"),
}


@pytest.fixture
def env_with_notices(tmp_path: Path) -> tuple[ApiEnv, str]:
    env = build_env(tmp_path, api_settings=ApiSettings(secure_cookies=False))
    case_number = env.world.open_case()
    with running(
        "tests.support.smsc",
        tmp_path / "smsc.jsonl",
        "--password",
        SMSC_PASSWORD,
        "--receipt-delay",
        "0.05",
        "--undeliverable-prefix",
        "7701",
    ) as smsc:
        sms = SmppSender(
            SmppSettings(host="127.0.0.1", port=smsc.port, system_id="erap", source_addr="ERAP"),
            SMSC_PASSWORD,
        )
        sender = ChannelSender({"sms": sms, "email": FileSender(tmp_path / "outbox.jsonl")})
        try:
            stats = deliver_due(env.world.store, sender, env.world.clock())
            deadline = time.monotonic() + 5
            while stats.undelivered < 2 and time.monotonic() < deadline:
                stats.undelivered += collect_receipts(env.world.store, sender, 0.2).undelivered
        finally:
            sms.close()
    assert stats.undelivered == 2
    return env, case_number


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_the_case_page_shows_each_notice_and_its_state(
    env_with_notices: tuple[ApiEnv, str], language: Language
) -> None:
    env, case_number = env_with_notices
    env.operators.set_language(PROSECUTOR, language, actor="system:tests")
    client = TestClient(env.app, base_url=BASE)
    signed = client.post(
        "/console/login",
        data={"username": PROSECUTOR, "password": PASSWORD},
        headers={"Origin": BASE},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    page = client.get(f"/console/cases/{case_number}")
    assert page.status_code == 200
    heading, failed, delivered, resolution = WORDS[language]
    assert heading in page.text
    rows = page.text.split('<tr class="notice-')[1:]
    assert [row.split('"')[0] for row in rows] == ["failed", "failed", "delivered"]
    assert all(failed in row and "UNDELIV, error 001" in row for row in rows[:2])
    assert delivered in rows[2] and "n.abenov@example.kz" in rows[2]
    assert all(f"<td>{resolution}</td>" in row for row in rows)
