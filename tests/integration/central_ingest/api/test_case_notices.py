"""GET /v1/cases/{case_number}/notices: each notice of a case with what became of it, after the
worker sent the SMS through the SMSC simulator process and the e-mail to the outbox file; on
both stores."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from central_ingest.config import SmppSettings
from central_ingest.notify.senders import ChannelSender, FileSender
from central_ingest.notify.smpp import SmppSender
from central_ingest.notify.worker import collect_receipts, deliver_due
from tests.support.api import PROSECUTOR, build_env
from tests.support.registry_fixtures import OWNER_PERSON
from tests.support.wire_servers import running

pytestmark = pytest.mark.usefixtures("registry_store")

PASSWORD = "smsc-pw1"


def test_a_cases_notices_show_queued_then_delivered_or_sent(tmp_path: Path) -> None:
    env = build_env(tmp_path)
    case_number = env.world.open_case()
    client = env.client()
    client.headers.update(env.headers(PROSECUTOR))

    queued = client.get(f"/v1/cases/{case_number}/notices")
    assert queued.status_code == 200
    assert [(n["channel"], n["state"], n["attempts"]) for n in queued.json()] == [
        ("sms", "queued", 0),
        ("sms", "queued", 0),
        ("email", "queued", 0),
    ]  # the owner's language is unknown: Kazakh and Russian SMS, one bilingual e-mail

    with running(
        "tests.support.smsc",
        tmp_path / "smsc.jsonl",
        "--password",
        PASSWORD,
        "--receipt-delay",
        "0.05",
    ) as smsc:
        sms = SmppSender(
            SmppSettings(host="127.0.0.1", port=smsc.port, system_id="erap", source_addr="ERAP"),
            PASSWORD,
        )
        sender = ChannelSender({"sms": sms, "email": FileSender(tmp_path / "outbox.jsonl")})
        store = env.world.store
        try:
            stats = deliver_due(store, sender, env.world.clock())
            assert stats.sent == 3
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                states = [n["state"] for n in client.get(f"/v1/cases/{case_number}/notices").json()]
                if states == ["delivered", "delivered", "delivered"]:
                    break
                collect_receipts(store, sender, 0.2)
        finally:
            sms.close()

    notices = client.get(f"/v1/cases/{case_number}/notices").json()
    assert [(n["channel"], n["state"]) for n in notices] == [
        ("sms", "delivered"),
        ("sms", "delivered"),
        # The outbox file stands in for the relay, and is the end of the line: delivered.
        ("email", "delivered"),
    ]
    assert [n["language"] for n in notices] == ["kk", "ru", "kk,ru"]
    assert all(n["recipient"] == OWNER_PERSON.phone for n in notices[:2])
    assert all(n["parts"] >= 1 and n["delivered_at"] for n in notices[:2])
    assert notices[2]["parts"] == 0 and notices[2]["delivered_at"] == notices[2]["sent_at"]
    assert {n["kind"] for n in notices} == {"case_opened"}
    assert client.get("/v1/cases/KZ-GP-2025-9999999/notices").status_code == 404
