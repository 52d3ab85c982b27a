"""The console's appeals on both stores: the list of open appeals, one appeal with the driver's
files, a supervisor's decision and a court's entered by a reviewer with its reference, a
reviewer refused the supervisor's own decision; the pages in Russian as in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central_ingest.api.settings import ApiSettings
from central_ingest.appeals import AppealService, Upload
from central_ingest.core.cases import CaseStatus
from tests.support.api import PASSWORD, ApiEnv, build_env
from tests.support.appeal_files import document_pdf
from tests.support.registry_fixtures import OWNER_PERSON, REVIEWERS, SUPERVISORS

BASE = "http://testserver"
ORIGIN = {"Origin": BASE}

pytestmark = pytest.mark.usefixtures("registry_store")


def signed_in(env: ApiEnv, username: str, language: str = "en") -> tuple[TestClient, str]:
    env.operators.set_language(username, language, actor="system:tests")
    client = TestClient(env.app, base_url=BASE)
    response = client.post(
        "/console/login",
        data={"username": username, "password": PASSWORD},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    match = re.search(r'<meta name="csrf-token" content="([0-9a-f]{64})">', page.text)
    assert match, page.text[:500]
    return client, match.group(1)


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path, api_settings=ApiSettings(secure_cookies=False))


def test_open_appeals_are_listed_and_decided_on_the_console(env: ApiEnv) -> None:
    case_number = env.world.open_case()
    other = env.world.open_case()
    service = AppealService(env.world.store, env.world.config, clock=env.world.clock)
    pdf = document_pdf()
    appeal = service.file_for_driver(
        case_number, OWNER_PERSON.plate, "Я продал машину.", [Upload("договор.pdf", pdf)]
    )
    court_case = service.file_for_driver(other, OWNER_PERSON.plate, "Суд разберётся.", [])

    supervisor, supervisor_csrf = signed_in(env, SUPERVISORS[0], "ru")
    listed = supervisor.get("/console/appeals")
    assert listed.status_code == 200
    assert "Жалобы, ожидающие решения" in listed.text
    assert f"appeal-{appeal.appeal_id}" in listed.text and "Я продал машину." in listed.text
    page = supervisor.get(f"/console/appeals/{appeal.appeal_id}")
    assert "договор.pdf" in page.text and 'id="appeal-decision"' in page.text
    served = supervisor.get(f"/console/appeals/{appeal.appeal_id}/files/1")
    assert served.content == pdf and served.headers["content-type"] == "application/pdf"

    reviewer, reviewer_csrf = signed_in(env, REVIEWERS[0])
    refused = reviewer.post(
        f"/console/appeals/{appeal.appeal_id}/decision",
        data={"decision": "upheld", "csrf_token": reviewer_csrf},
        headers=ORIGIN,
    )
    assert "is not an active operator who may record this decision" in refused.text
    assert service.appeal(appeal.appeal_id).decision is None

    done = supervisor.post(
        f"/console/appeals/{appeal.appeal_id}/decision",
        data={
            "decision": "cancelled",
            "note": "Договор купли-продажи.",
            "csrf_token": supervisor_csrf,
        },
        headers=ORIGIN,
    )
    assert done.status_code == 200 and 'id="decision"' in done.text
    assert env.world.registry.case(case_number).status is CaseStatus.CANCELLED

    entered = reviewer.post(
        f"/console/appeals/{court_case.appeal_id}/decision",
        data={
            "decision": "amended",
            "article": "592",
            "part": "1",
            "court_reference": "2-55/2025",
            "csrf_token": reviewer_csrf,
        },
        headers=ORIGIN,
    )
    assert "court&#39;s reference 2-55/2025" in entered.text or "court's reference 2-55/2025" in (
        entered.text
    )
    decided = service.appeal(court_case.appeal_id)
    assert (decided.decided_as, decided.decided_by) == ("court", REVIEWERS[0])
    assert "No appeal is waiting." in reviewer.get("/console/appeals").text
