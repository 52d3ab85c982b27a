"""The driver's case page over the registry's real application, on both stores: the link a
notice carries opens the case and its photos, and nothing else; an expired or mistyped link is
refused with a sentence and changes nothing; the page shows no owner's personal data."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central_ingest.driver.links import issue_token, token_hash
from tests.support.api import ApiEnv, build_env
from tests.support.registry_fixtures import OWNER_PERSON

pytestmark = pytest.mark.usefixtures("registry_store")

NBSP = "\u00a0"
LINK = re.compile(r"https://erap\.example\.kz/cases/([A-Za-z0-9_-]{18})")


def notice_link(env: ApiEnv, case_number: str) -> str:
    """The token of the newest link the case's notices carry."""
    bodies = [
        row[0]
        for row in env.world.store.db.conn.execute(
            "SELECT body FROM notifications WHERE case_number = ? ORDER BY notification_id",
            (case_number,),
        )
    ]
    tokens = [match for body in bodies for match in LINK.findall(body)]
    assert tokens, bodies
    return str(tokens[-1])


def store_photos(env: ApiEnv, sequence: int) -> dict[str, bytes]:
    """The world's fixations name evidence bytes it does not write: written here, where the
    registry keeps evidence, so that the page can serve them."""
    images = {
        "full_frame": f"full frame {sequence}".encode(),
        "plate_crop": f"plate crop {sequence}".encode(),
    }
    for data in images.values():
        sha = hashlib.sha256(data).hexdigest()
        path = env.app.state.device_ingest.evidence.path_for(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return images


def rows(env: ApiEnv, table: str) -> int:
    return int(env.world.scalar(f"SELECT count(*) FROM {table}"))


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path)


def test_the_notices_link_opens_the_case_with_its_photos_and_nothing_of_the_owner(
    env: ApiEnv,
) -> None:
    case_number = env.world.open_case()
    images = store_photos(env, 1)
    token = notice_link(env, case_number)
    client = env.client()

    page = client.get(f"/cases/{token}?lang=ru")
    assert page.status_code == 200, page.text
    text = page.text
    assert f"Дело № {case_number}" in text
    # The article as the notices cite it, speed against the limit, the 50% and until when.
    assert "ч. 2 ст. 592 КоАП РК" in text
    assert "85 км/ч при разрешённых 60 км/ч: превышение на 25 км/ч" in text
    assert f"19{NBSP}660,00{NBSP}₸ при оплате до 17.03.2025 11:00: 50%" in text
    assert f"39{NBSP}320,00{NBSP}₸, оплатить до 19.04.2025 11:00" in text
    assert "10.03.2025 10:59:57" in text  # the offence in Astana time
    assert text.count(case_number) >= 3  # the heading and both ways to pay
    # The history: the opening and every notice queued.
    assert "дело возбуждено" in text
    assert "Уведомление (SMS): ожидает отправки" in text
    assert "Уведомление (электронная почта): ожидает отправки" in text
    for private in (
        OWNER_PERSON.owner_name,
        OWNER_PERSON.owner_id,
        OWNER_PERSON.phone,
        OWNER_PERSON.email,
    ):
        assert private is not None and private not in text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "script-src" not in page.headers["content-security-policy"]

    shown = re.findall(rf"/cases/{token}/photos/([0-9a-f]{{64}})", text)
    assert shown == [hashlib.sha256(images[role]).hexdigest() for role in images]
    for sha, data in zip(shown, images.values(), strict=True):
        photo = client.get(f"/cases/{token}/photos/{sha}")
        assert photo.status_code == 200 and photo.content == data
        assert photo.headers["content-type"] == "image/jpeg"
        # Content-addressed: the phone keeps it, and asks again only to hear "not modified".
        again = client.get(
            f"/cases/{token}/photos/{sha}", headers={"If-None-Match": photo.headers["etag"]}
        )
        assert again.status_code == 304 and not again.content


def test_a_paid_case_says_so_and_shows_the_payment_not_how_to_pay(env: ApiEnv) -> None:
    case_number = env.world.open_case()
    assert env.world.pay(case_number, 1_966_000) == "settled"
    page = env.client().get(f"/cases/{notice_link(env, case_number)}?lang=ru")
    assert page.status_code == 200
    assert "Штраф оплачен. Больше ничего платить не нужно." in page.text
    assert f"19{NBSP}660,00{NBSP}₸, 10.03.2025 11:00" in page.text  # the payment received
    assert 'id="pay"' not in page.text and 'id="due-now"' not in page.text
    # The history: the payment applied, and the status it left the case in.
    assert 'платёж зачтён <span class="muted">(оплачено)</span>' in page.text


def test_the_page_speaks_the_owners_language_unless_the_reader_chooses(env: ApiEnv) -> None:
    env.world.vehicles.upsert([replace(OWNER_PERSON, plate="321KAZ02", language="kk")])
    case_number = env.world.open_case(plate="321KAZ02")
    token = notice_link(env, case_number)
    client = env.client()
    # The language the notice came in, whatever the browser prefers.
    page = client.get(f"/cases/{token}", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="kk">' in page.text and f"№ {case_number}" in page.text
    # A choice made on the page wins, and is kept for the next page.
    chosen = client.get(f"/cases/{token}?lang=ru")
    assert '<html lang="ru">' in chosen.text and "erap_lang=ru" in chosen.headers["set-cookie"]
    assert '<html lang="ru">' in client.get(f"/cases/{token}").text


def test_a_link_serves_only_its_own_cases_photos(env: ApiEnv) -> None:
    first = env.world.open_case()
    second = env.world.open_case()
    theirs = store_photos(env, 2)
    client = env.client()
    token = notice_link(env, first)
    other = hashlib.sha256(theirs["full_frame"]).hexdigest()
    assert client.get(f"/cases/{token}/photos/{other}").status_code == 404
    # The other case's own link serves it.
    own = notice_link(env, second)
    assert client.get(f"/cases/{own}/photos/{other}").content == theirs["full_frame"]
    # No link, no photo: the officers' evidence address needs a session.
    assert client.get(f"/v1/evidence/{other}").status_code == 401


def test_an_expired_link_is_refused_with_the_day_it_expired_and_changes_nothing(
    env: ApiEnv,
) -> None:
    case_number = env.world.open_case()
    token = notice_link(env, case_number)
    days = env.world.config.driver_page.link_days
    before = rows(env, "case_links"), rows(env, "ledger"), rows(env, "notifications")
    client = env.client()

    env.world.clock.advance(days=days, seconds=-1)
    assert client.get(f"/cases/{token}?lang=kk").status_code == 200
    env.world.clock.advance(seconds=1)
    refused = client.get(f"/cases/{token}?lang=kk")
    assert refused.status_code == 410
    # Expired at 11:00 Astana time, link_days after the case opened on 10.03.2025.
    expired = (env.world.clock.now + timedelta(hours=5)).strftime("%d.%m.%Y %H:%M")
    assert f"Бұл сілтеме {expired} бастап істі ашпайды" in refused.text
    assert case_number not in refused.text
    assert 'id="lookup"' in refused.text  # the way to the case by its number and plate
    photo = env.world.scalar(
        "SELECT sha256 FROM fixation_evidence fe JOIN cases c ON c.fixation_id = fe.fixation_id"
        " WHERE c.case_number = ?",
        case_number,
    )
    assert client.get(f"/cases/{token}/photos/{photo}").status_code == 410
    assert (rows(env, "case_links"), rows(env, "ledger"), rows(env, "notifications")) == before


@pytest.mark.parametrize("token", ["A" * 18, "not-a-token", "x" * 64])
def test_an_unknown_link_opens_nothing(env: ApiEnv, token: str) -> None:
    env.world.open_case()
    refused = env.client().get(f"/cases/{token}?lang=ru")
    assert refused.status_code == 404
    assert "Эта ссылка не открывает ни одного дела" in refused.text


def test_links_are_kept_only_as_hashes_and_each_notice_brings_a_fresh_one(env: ApiEnv) -> None:
    case_number = env.world.open_case()
    token = notice_link(env, case_number)
    stored = [
        row[0] for row in env.world.store.db.conn.execute("SELECT token_hash FROM case_links")
    ]
    assert stored == [token_hash(token)] and token not in stored
    with env.world.store.transaction() as db:
        again = issue_token(
            db, case_number, purpose="notice", now=env.world.clock.now, lifetime=timedelta(days=1)
        )
    assert again != token
    client: TestClient = env.client()
    assert client.get(f"/cases/{again}").status_code == 200
    assert client.get(f"/cases/{token}").status_code == 200
