"""Notices to vehicle owners on a real SQLite file: what the case opening queues, in which
language, and what the sender is handed (the worker's retries and leases:
``test_notification_delivery.py``).

The content tests open cases through the real registry (a signed fixation through the ingest,
confirmed by an officer) and read what the file sender wrote, as a gateway would receive it.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from central_ingest.config import RegistryConfig
from central_ingest.core.clock import iso
from central_ingest.core.sms import sms_segments
from central_ingest.notify.outbox import queue_status_notice
from central_ingest.notify.senders import FileSender
from central_ingest.notify.worker import deliver_due
from central_ingest.store.db import Store, open_store
from central_ingest.vehicles import VehicleRecord
from tests.support.notices import (
    CONFIG,
    RESOLUTION_AT,
    GatewayStandIn,
    delivered,
    open_case,
    outbox_store,
    rows,
)
from tests.support.paths import SUPPORT
from tests.support.registry_fixtures import RegistryWorld

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")

NBSP = "\u00a0"

# Letters of the Kazakh alphabet that Russian has not: a Kazakh text without any is not Kazakh.
KAZAKH_LETTERS = frozenset("ӘҒҚҢӨҰҮҺІәғқңөұүһі")
# A code word shown instead of its label (``red_light``, ``discount_until``).
CODE_WORD = re.compile(r"\b[A-Za-z]+_[A-Za-z_]+\b")

OWNER_KK = VehicleRecord(
    "505KAZ01",
    "781015316814",
    "person",
    "Серік Жақсыбеков",
    phone="+77015550101",
    email="serik.zhaksybekov@example.kz",
    language="kk",
)
OWNER_RU = VehicleRecord(
    "606RUS02",
    "900322480421",
    "person",
    "Ольга Петровна Смирнова",
    phone="+77015550202",
    email="olga.smirnova@example.kz",
    language="ru",
)
OWNER_UNKNOWN = VehicleRecord(
    "707BOT03",
    "850607313226",
    "person",
    "Ерлан Жумабеков",
    phone="+77015550303",
    email="erlan.zhumabekov@example.kz",
    language=None,
)
OWNER_EN = VehicleRecord(
    "808ENG04",
    "920114401889",
    "person",
    "John Smith",
    phone="+77015550404",
    email="john.smith@example.kz",
    language="en",
)
# The world's speeding fixation: 85 km/h where 60 is allowed, article 592 part 2, 10 MRP of
# 2025 (3,932 KZT), confirmed at 11:00 Astana time on 10 March 2025.
LINK = "https://erap.example.kz/cases/KZ-GP-2025-0000001"


# --- the texts, through the real registry ------------------------------------------------------


def world_with_owners(tmp_path: Path, **config: Any) -> RegistryWorld:
    world = RegistryWorld.create(tmp_path, **config)
    world.vehicles.upsert([OWNER_KK, OWNER_RU, OWNER_UNKNOWN, OWNER_EN])
    return world


def notices_sent(world: RegistryWorld, plate: str, outbox: Path) -> list[dict[str, Any]]:
    """Open a case for ``plate``, deliver its notices with the file sender, and return the
    lines the sender wrote."""
    world.open_case(plate=plate)
    stats = deliver_due(world.store, FileSender(outbox, clock=world.clock), world.clock.now)
    assert stats.failed == stats.retried == 0
    return delivered(outbox)


def languages_recorded(world: RegistryWorld) -> list[tuple[str, str]]:
    return [
        (channel, language)
        for channel, language in world.store.db.conn.execute(
            "SELECT channel, language FROM notifications ORDER BY notification_id"
        )
    ]


def assert_reads_as_sentences(text: str) -> None:
    """No code word, no placeholder left, no English fallback of a message id."""
    assert not CODE_WORD.findall(text), text
    assert "%(" not in text and "{" not in text, text


def test_a_kazakh_owner_is_written_to_in_kazakh_only(tmp_path: Path) -> None:
    world = world_with_owners(tmp_path)
    sms, email = notices_sent(world, OWNER_KK.plate, tmp_path / "sent.jsonl")
    assert (sms["channel"], sms["language"], sms["recipient"]) == ("sms", "kk", OWNER_KK.phone)
    assert (email["channel"], email["language"]) == ("email", "kk")
    assert languages_recorded(world) == [("sms", "kk"), ("email", "kk")]

    for text in (sms["body"], email["subject"], email["body"]):
        assert KAZAKH_LETTERS & set(text), text
        assert_reads_as_sentences(text)
        assert "Штраф" not in text and "КоАП" not in text and "Fine" not in text
    body = sms["body"]
    assert "ӘҚБтК 592-бабының 2-бөлігі" in body
    assert f"39{NBSP}320,00{NBSP}₸" in body and f"19{NBSP}660,00{NBSP}₸" in body
    assert "17.03.2025 11:00 дейін" in body
    assert body.endswith(LINK)
    assert sms_segments(body).segments <= 2

    assert email["subject"] == (
        "№ KZ-GP-2025-0000001 әкімшілік құқық бұзушылық туралы іс:"
        " белгіленген жылдамдықты асыру, 505KAZ01"
    )
    for expected in (
        "Құрметті Серік Жақсыбеков!",
        "Іс нөмірі: KZ-GP-2025-0000001",
        "белгіленген жылдамдықты асыру (ӘҚБтК 592-бабының 2-бөлігі)",
        "Тіркелген күні мен уақыты: 10.03.2025 10:59",
        f"10 АЕК × 3{NBSP}932,00{NBSP}₸ = 39{NBSP}320,00{NBSP}₸",
        f"17.03.2025 11:00 дейін төлесеңіз, 19{NBSP}660,00{NBSP}₸ (айыппұлдың 50% мөлшерінде",
        f"19.04.2025 11:00 дейін, 39{NBSP}320,00{NBSP}₸",
        "20.03.2025 11:00 дейін шағым берілмесе",
        "жеке сот орындаушысына",
        LINK,
    ):
        assert expected in email["body"], expected


def test_a_russian_owner_is_written_to_in_russian_only(tmp_path: Path) -> None:
    world = world_with_owners(tmp_path)
    sms, email = notices_sent(world, OWNER_RU.plate, tmp_path / "sent.jsonl")
    assert [line["language"] for line in (sms, email)] == ["ru", "ru"]
    assert languages_recorded(world) == [("sms", "ru"), ("email", "ru")]
    for text in (sms["body"], email["subject"], email["body"]):
        assert not KAZAKH_LETTERS & set(text), text
        assert_reads_as_sentences(text)
    assert sms["body"] == (
        f"Штраф по ч. 2 ст. 592 КоАП РК: 39{NBSP}320,00{NBSP}₸, до 17.03.2025 11:00 —"
        f" 19{NBSP}660,00{NBSP}₸. {LINK}"
    )
    assert sms_segments(sms["body"]) == ("ucs2", 127, 2)
    assert email["subject"] == (
        "Дело об административном правонарушении № KZ-GP-2025-0000001:"
        " превышение установленной скорости движения, 606RUS02"
    )
    for expected in (
        "Здравствуйте, Ольга Петровна Смирнова!",
        "Номер дела: KZ-GP-2025-0000001",
        "превышение установленной скорости движения (ч. 2 ст. 592 КоАП РК)",
        f"Штраф: 10 МРП × 3{NBSP}932,00{NBSP}₸ = 39{NBSP}320,00{NBSP}₸",
        f"– 19{NBSP}660,00{NBSP}₸ при оплате до 17.03.2025 11:00 (50% суммы штрафа",
        f"– 39{NBSP}320,00{NBSP}₸ после этого срока, до 19.04.2025 11:00.",
        "Постановление вступает в законную силу 20.03.2025 11:00",
        "частному судебному исполнителю",
        "Указано время Астаны (UTC+5).",
    ):
        assert expected in email["body"], expected


def test_an_owner_of_unknown_language_gets_both_kazakh_first(tmp_path: Path) -> None:
    world = world_with_owners(tmp_path)
    sms_kk, sms_ru, email = notices_sent(world, OWNER_UNKNOWN.plate, tmp_path / "sent.jsonl")
    assert [(line["channel"], line["language"]) for line in (sms_kk, sms_ru, email)] == [
        ("sms", "kk"),
        ("sms", "ru"),
        ("email", "kk,ru"),
    ]
    assert languages_recorded(world) == [("sms", "kk"), ("sms", "ru"), ("email", "kk,ru")]
    assert sms_kk["body"].startswith("Айыппұл: ӘҚБтК 592-бабының 2-бөлігі")
    assert sms_ru["body"].startswith("Штраф по ч. 2 ст. 592 КоАП РК")
    assert sms_kk["recipient"] == sms_ru["recipient"] == OWNER_UNKNOWN.phone

    kk_subject, ru_subject = email["subject"].split(" / ")
    assert kk_subject.startswith("№ KZ-GP-2025-0000001 әкімшілік құқық бұзушылық туралы іс")
    assert ru_subject.startswith("Дело об административном правонарушении")
    kazakh, russian = email["body"].split("\n* * *\n")
    assert kazakh.startswith("Құрметті Ерлан Жумабеков!") and KAZAKH_LETTERS & set(kazakh)
    assert russian.lstrip().startswith("Здравствуйте, Ерлан Жумабеков!")
    assert "Номер дела: KZ-GP-2025-0000001" in russian and "Іс нөмірі" not in russian
    for line in (sms_kk, sms_ru, email):
        assert_reads_as_sentences(line["body"])
        assert line["body"].count(LINK) == (2 if line is email else 1)


def test_the_registry_can_send_only_its_default_language_where_the_owners_is_unknown(
    tmp_path: Path,
) -> None:
    world = world_with_owners(tmp_path, unknown_language_notices="default", language="kk")
    sent = notices_sent(world, OWNER_UNKNOWN.plate, tmp_path / "sent.jsonl")
    assert [(line["channel"], line["language"]) for line in sent] == [
        ("sms", "kk"),
        ("email", "kk"),
    ]
    assert " / " not in sent[1]["subject"] and "* * *" not in sent[1]["body"]
    # The owner's own language still wins over the default.
    more = notices_sent(world, OWNER_RU.plate, tmp_path / "sent.jsonl")[2:]
    assert [line["language"] for line in more] == ["ru", "ru"]


def test_an_english_owner_gets_english_with_cldr_formats(tmp_path: Path) -> None:
    world = world_with_owners(tmp_path)
    sms, email = notices_sent(world, OWNER_EN.plate, tmp_path / "sent.jsonl")
    assert [line["language"] for line in (sms, email)] == ["en", "en"]
    # All Latin: the no-break spaces of CLDR are dropped so that it goes out in GSM 7-bit.
    assert sms["body"] == (
        "Fine under art. 592 part 2 of the CAO, vehicle 808ENG04, Mar 10, 2025, case"
        " KZ-GP-2025-0000001: 19,660.00 KZT if paid by 3/17/25, 11:00 AM, otherwise"
        f" 39,320.00 KZT by 4/19/25, 11:00 AM. {LINK}"
    )
    assert sms_segments(sms["body"]).encoding == "gsm7"
    assert f"Fine: 10 MRP × 3,932.00{NBSP}KZT = 39,320.00{NBSP}KZT" in email["body"]
    assert "Offence: speeding (art. 592 part 2 of the CAO)" in email["body"]
    assert_reads_as_sentences(email["body"])


# --- the outbox rows ---------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return outbox_store(tmp_path)


def test_case_opening_queues_the_notices_due_at_once(store: Store) -> None:
    case = open_case(store, 1)
    assert case["queued"] == 2
    sms, email = rows(store)
    assert (sms["channel"], sms["recipient"], sms["subject"]) == ("sms", "+77011234567", None)
    assert (email["channel"], email["recipient"]) == ("email", "owner@example.kz")
    assert (sms["language"], email["language"]) == ("ru", "ru")
    for row in (sms, email):
        assert row["status"] == "pending" and row["attempts"] == 0
        assert row["next_attempt_at"] == iso(RESOLUTION_AT)


def test_only_the_channels_the_owner_has_are_used(store: Store) -> None:
    assert open_case(store, 1, email=None)["queued"] == 1
    assert open_case(store, 2, phone=None)["queued"] == 1
    assert open_case(store, 3, phone=None, email=None)["queued"] == 0
    # Language unknown: an SMS in each official language, still one e-mail.
    assert open_case(store, 4, email=None, language=None)["queued"] == 2
    assert open_case(store, 5, phone=None, language=None)["queued"] == 1
    assert [(row["case_number"][-1], row["channel"], row["language"]) for row in rows(store)] == [
        ("1", "sms", "ru"),
        ("2", "email", "ru"),
        ("4", "sms", "kk"),
        ("4", "sms", "ru"),
        ("5", "email", "kk,ru"),
    ]


def test_without_a_discount_the_full_amount_and_the_voluntary_deadline_are_shown(
    store: Store,
) -> None:
    open_case(store, 1, discount_percent=0)
    sms, email = rows(store)
    # Without the second amount the plate fits too.
    assert sms["body"] == (
        f"Штраф по ч. 1 ст. 599 КоАП РК, 123ABC01: 43{NBSP}250,00{NBSP}₸, оплатить до"
        " 14.04.2026 15:00. https://erap.example.kz/cases/KZ-GP-2026-0000001"
    )
    assert f"– 43{NBSP}250,00{NBSP}₸, до 14.04.2026 15:00." in email["body"]
    assert "50%" not in email["body"] and "при оплате до" not in email["body"]


def test_a_long_link_drops_optional_sms_parts_but_never_the_link(store: Store) -> None:
    long_base = "https://erap.example.kz/cases/" + "c" * 9
    config = RegistryConfig(case_link_base_url=long_base)
    open_case(store, 1, email=None, language=None, config=config)
    kk, ru = rows(store)
    for row in (kk, ru):
        assert row["body"].endswith(f"{long_base}/KZ-GP-2026-0000001")
        assert f"21{NBSP}625,00{NBSP}₸" in row["body"] and "12.03.2026 15:00" in row["body"]
        assert f"43{NBSP}250,00{NBSP}₸" not in row["body"]  # the full amount gave way
        assert sms_segments(row["body"]).segments == 2


def test_a_link_too_long_for_two_sms_still_goes_out_whole(store: Store) -> None:
    long_base = "https://erap.example.kz/" + "c" * 120
    open_case(store, 1, email=None, config=RegistryConfig(case_link_base_url=long_base))
    (sms,) = rows(store)
    assert sms["body"].endswith(f"{long_base}/KZ-GP-2026-0000001")
    assert sms["body"].startswith(f"Штраф по ч. 1 ст. 599 КоАП РК: 21{NBSP}625,00{NBSP}₸")
    assert f"43{NBSP}250,00{NBSP}₸" not in sms["body"]  # the shortest variant
    assert sms_segments(sms["body"]).segments > 2


def test_notices_vanish_with_the_transaction_that_queued_them(store: Store) -> None:
    case = open_case(store, 1)
    with pytest.raises(RuntimeError), store.transaction() as db:
        queued = queue_status_notice(
            db, case["case_number"], "entered_into_force", RESOLUTION_AT, config=CONFIG
        )
        assert queued == 2
        assert len(rows(store)) == 4
        raise RuntimeError("case opening failed after queueing")
    assert len(rows(store)) == 2


def test_notices_queued_before_languages_are_recorded_as_english_and_still_delivered(
    tmp_path: Path,
) -> None:
    dump = SUPPORT / "registry-schema-v1.sql"
    path = tmp_path / "registry.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(dump.read_text(encoding="utf-8"))
        pending = conn.execute(
            "SELECT count(*) FROM notifications WHERE status = 'pending'"
        ).fetchone()[0]
    store = open_store(path)
    try:
        assert {row["language"] for row in rows(store)} == {"en"}
        gateway = GatewayStandIn()
        deliver_due(store, gateway, datetime(2030, 1, 1, tzinfo=UTC))
        assert pending > 0 and len(gateway.accepted) == pending
        assert {n.language for n in gateway.accepted} == {"en"}
    finally:
        store.close()
