"""The appeal form on the driver's page, over the registry's real application, on both stores:
the link's page offers the form within the period; a renamed program is refused with the reason
in the driver's language and nothing is kept; a proper appeal is received, suspends the case
and the page then shows it instead of the form; an expired link files nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from central_ingest.appeals import AppealService
from central_ingest.core.appeals import AppealStatus
from tests.support.api import ApiEnv, build_env
from tests.support.appeal_files import linux_program, photo_jpeg

pytestmark = pytest.mark.usefixtures("registry_store")

LINK = re.compile(r"https://erap\.example\.kz/cases/([A-Za-z0-9_-]{18})")


def notice_link(env: ApiEnv, case_number: str) -> str:
    """The token of the link the case's newest notice carries."""
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


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path)


def appeals(env: ApiEnv) -> int:
    return int(env.world.scalar("SELECT count(*) FROM appeals"))


def test_the_driver_files_an_appeal_from_the_page(env: ApiEnv) -> None:
    case_number = env.world.open_case()
    token = notice_link(env, case_number)
    client = env.client()
    page = client.get(f"/cases/{token}?lang=ru")
    assert 'id="appeal-form"' in page.text and "Отправить жалобу" in page.text

    refused = client.post(
        f"/cases/{token}/appeal?lang=ru",
        data={"text": "Это не моя машина."},
        files=[("files", ("photo.jpg", linux_program(), "image/jpeg"))],
    )
    assert refused.status_code == 422
    assert "программа Linux" in refused.text and "photo.jpg" in refused.text
    assert appeals(env) == 0

    received = client.post(
        f"/cases/{token}/appeal?lang=ru",
        data={"text": "Это не моя машина."},
        files=[("files", ("photo.jpg", photo_jpeg(), "image/jpeg"))],
    )
    assert received.status_code == 201, received.text
    assert 'id="appeal-received"' in received.text and "Жалоба принята" in received.text
    appeal = AppealService(env.world.store, env.world.config).appeal_of_case(case_number)
    assert appeal is not None and appeal.status is AppealStatus.OPEN
    assert len(appeal.attachments) == 1

    again = client.get(f"/cases/{token}?lang=ru")
    assert 'id="appeal-filed"' in again.text and 'id="appeal-form"' not in again.text


def test_an_expired_link_files_no_appeal(env: ApiEnv) -> None:
    case_number = env.world.open_case()
    token = notice_link(env, case_number)
    env.world.clock.advance(days=400)
    refused = env.client().post(f"/cases/{token}/appeal", data={"text": "Late."})
    assert refused.status_code in (404, 410)
    assert appeals(env) == 0
