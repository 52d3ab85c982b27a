"""The notices at each change of a case's status after the resolution: the discount ends, a
payment came, the resolution entered into force, an appeal was received and decided, the case
went to a bailiff. Each in the owner's language (Kazakh and Russian when unknown), queued in the
transaction of the change, the SMS within two parts, the e-mail complete; the calendar's
notices once per case however often the daily jobs run. On both stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from central_ingest.core.sms import sms_segments
from central_ingest.notify.outbox import queue_status_notice
from central_ingest.store.db import Store
from tests.support.notices import CONFIG, RESOLUTION_AT, open_case, outbox_store, rows
from tests.support.registry_fixtures import OWNER_SECOND, RegistryWorld

pytestmark = pytest.mark.usefixtures("registry_store")

FULL_2025 = 10 * 3932 * 100  # the fixture's speeding fine, 10 MRP of 2025, in tiyn

CASES: list[tuple[str, dict[str, Any]]] = [
    ("discount_ending", {}),
    ("payment_received", {"amount_minor": 1_000_000}),
    ("payment_received", {"amount_minor": 2_162_500}),
    ("entered_into_force", {}),
    ("appeal_received", {}),
    ("appeal_decided", {"decision": "upheld"}),
    ("appeal_decided", {"decision": "cancelled"}),
    ("appeal_decided", {"decision": "amended"}),
    ("handed_to_bailiffs", {}),
]
# Words each language's text must hold: the notice is really in that language.
WORDS = {"kk": ("Іс", "№"), "ru": ("Дело", "№"), "en": ("Case", "Case")}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return outbox_store(tmp_path)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_every_status_notice_fits_two_sms_and_the_e_mail_says_everything(
    store: Store, language: str
) -> None:
    for number, (kind, params) in enumerate(CASES, start=1):
        case = open_case(store, number, language=language)
        if kind == "payment_received":
            with store.transaction() as db:
                db.conn.execute(
                    "UPDATE cases SET paid_minor = ? WHERE case_number = ?",
                    (params["amount_minor"], case["case_number"]),
                )
        with store.transaction() as db:
            queued = queue_status_notice(
                db, case["case_number"], kind, RESOLUTION_AT, config=CONFIG, **params
            )
        assert queued == 2, kind
        sms, email = [row for row in rows(store) if row["case_number"] == case["case_number"]][2:]
        # Each notice carries a fresh link to the driver's case page (central_ingest/driver).
        link = sms["body"].split()[-1]
        assert link.startswith(CONFIG.case_link_base_url) and len(link) > 40
        assert sms["channel"] == "sms" and sms["language"] == language
        assert sms_segments(sms["body"]).segments <= 2, (kind, sms["body"])
        assert case["case_number"] in sms["body"]
        sms_word, subject_word = WORDS[language]
        assert sms_word in sms["body"], (kind, sms["body"])
        assert subject_word in email["subject"] and case["case_number"] in email["subject"]
        assert case["owner_name"] in email["body"] and link in email["body"]
        assert "UTC+5" in email["body"]


def test_the_payment_notice_says_what_came_and_what_is_left(store: Store) -> None:
    paid = open_case(store, 1, language="ru")
    part = open_case(store, 2, language="ru")
    with store.transaction() as db:
        db.conn.execute(
            "UPDATE cases SET paid_minor = 2162500 WHERE case_number = ?", (paid["case_number"],)
        )
        db.conn.execute(
            "UPDATE cases SET paid_minor = 1000000 WHERE case_number = ?", (part["case_number"],)
        )
        for case, amount in ((paid, 2_162_500), (part, 1_000_000)):
            queue_status_notice(
                db,
                case["case_number"],
                "payment_received",
                RESOLUTION_AT,
                config=CONFIG,
                amount_minor=amount,
            )
    bodies = {row["case_number"]: row["body"] for row in rows(store) if row["channel"] == "sms"}
    assert "21\u00a0625,00\u00a0₸" in bodies[paid["case_number"]]
    assert "оплачен" in bodies[paid["case_number"]]
    # Half of 43 250 ₸ is due within the discount window: 21 625 - 10 000 = 11 625 left.
    assert "10\u00a0000,00\u00a0₸" in bodies[part["case_number"]]
    assert "11\u00a0625,00\u00a0₸" in bodies[part["case_number"]]


def test_a_status_notice_is_refused_without_what_it_must_say(store: Store) -> None:
    case = open_case(store, 1)
    with store.transaction() as db:
        with pytest.raises(ValueError, match="decision"):
            queue_status_notice(
                db, case["case_number"], "appeal_decided", RESOLUTION_AT, config=CONFIG
            )
        with pytest.raises(ValueError, match="amount_minor"):
            queue_status_notice(
                db, case["case_number"], "payment_received", RESOLUTION_AT, config=CONFIG
            )
        with pytest.raises(ValueError, match="no status notice"):
            queue_status_notice(db, case["case_number"], "birthday", RESOLUTION_AT, config=CONFIG)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="unexpected"):
            queue_status_notice(
                db, case["case_number"], "appeal_received", RESOLUTION_AT, config=CONFIG, x=1
            )
        assert (
            queue_status_notice(db, "KZ-NONE", "appeal_received", RESOLUTION_AT, config=CONFIG) == 0
        )


def _kinds(world: RegistryWorld, case_number: str) -> list[str]:
    return [notice.kind for notice in world.registry.case_notices(case_number)]


def test_a_payment_tells_the_driver_in_the_payments_transaction(tmp_path: Path) -> None:
    world = RegistryWorld.create(tmp_path)
    case_number = world.open_case(plate=OWNER_SECOND.plate)  # phone only, language unknown
    assert world.pay(case_number, FULL_2025 // 4) == "underpaid"
    assert _kinds(world, case_number) == ["case_opened"] * 2 + ["payment_received"] * 2
    assert world.pay("KZ-GP-2025-9999999", 100) == "unknown_case"  # nobody to tell
    assert world.scalar("SELECT count(*) FROM notifications") == 4


def test_the_calendars_notices_go_once_per_case_at_their_time(tmp_path: Path) -> None:
    world = RegistryWorld.create(tmp_path)
    unpaid = world.open_case(plate=OWNER_SECOND.plate)
    paid = world.open_case()
    world.pay(paid, FULL_2025 // 2)
    world.clock.advance(days=4, hours=23)
    first = world.registry.queue_daily_notices()
    assert (first.discount_ending, first.entered_into_force) == (0, 0)  # more than 2 days left
    world.clock.advance(hours=2)
    assert world.registry.queue_daily_notices().discount_ending == 1
    assert world.registry.queue_daily_notices().discount_ending == 0  # once
    world.clock.advance(days=5)  # the appeal period is over: in force
    assert world.registry.queue_daily_notices().entered_into_force == 1
    assert world.registry.queue_daily_notices().entered_into_force == 0
    assert _kinds(world, unpaid) == [
        "case_opened",
        "case_opened",
        "discount_ending",
        "discount_ending",
        "entered_into_force",
        "entered_into_force",
    ]
    assert "discount_ending" not in _kinds(world, paid)  # paid: nothing to remind of
    assert "entered_into_force" not in _kinds(world, paid)
    # A database migrated with cases long in force does not tell their drivers now.
    world.clock.advance(days=30)
    late = world.open_case(plate=OWNER_SECOND.plate)
    world.clock.advance(days=40)
    world.registry.queue_daily_notices()
    assert "entered_into_force" not in _kinds(world, late)
