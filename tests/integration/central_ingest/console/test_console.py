"""The operators' console over HTTP: sign-in, CSRF, role checks on the server, decisions made
through the review screen's calls recorded under the signed-in officer, blind double review.

These tests read English (every operator's profile says ``en``, and signed-out requests ask for
it); the console's other languages are tested in ``test_console_languages``."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central_ingest.api.settings import ApiSettings
from central_ingest.audit import case_inclusion_proofs, sign_tree_head, verify_registry
from central_ingest.console import ConsoleSettings
from central_ingest.console.desk import ReviewDesk
from central_ingest.console.routes_session import safe_next_path
from central_ingest.console.web import csrf_token
from contract import DeviceKey
from tests.support.api import PASSWORD, PROSECUTOR, ApiEnv, build_env
from tests.support.registry_fixtures import OWNER_SECOND, REVIEWERS, START, SUPERVISORS

BASE = "http://testserver"
ORIGIN = {"Origin": BASE}
ENGLISH = {"Accept-Language": "en"}

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    env = build_env(tmp_path, api_settings=ApiSettings(secure_cookies=False))
    desk: ReviewDesk = env.app.state.review_desk
    desk.clock = env.world.clock
    desk.settings = ConsoleSettings(double_review_rate=0.0)
    for username in (*REVIEWERS, *SUPERVISORS, PROSECUTOR):
        env.operators.set_language(username, "en", actor="system:tests")
    return env


def english_client(env: ApiEnv) -> TestClient:
    return TestClient(env.app, base_url=BASE, headers=ENGLISH)


def signed_in(env: ApiEnv, username: str) -> tuple[TestClient, str]:
    client = english_client(env)
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


def decide(client: TestClient, csrf: str, **body: object) -> dict[str, object]:
    response = client.post(
        "/console/api/decisions",
        json={"seconds_spent": 4.2, "skip": [], **body},
        headers={**ORIGIN, "X-CSRF-Token": csrf},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def test_login_sets_the_session_cookie_and_leads_to_the_roles_page(env: ApiEnv) -> None:
    client = english_client(env)
    assert client.get("/console/review", follow_redirects=False).headers["location"] == (
        "/console/login?next=%2Fconsole%2Freview"
    )
    wrong = client.post(
        "/console/login", data={"username": REVIEWERS[0], "password": "nope"}, headers=ORIGIN
    )
    assert wrong.status_code == 401 and "incorrect" in wrong.text
    response = client.post(
        "/console/login",
        data={"username": PROSECUTOR, "password": PASSWORD},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert response.headers["location"] == "/console/prosecutor"
    cookie = response.headers["set-cookie"]
    assert "erap_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = client.get("/console/prosecutor")
    assert page.status_code == 200 and "Removals by officer" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_a_login_posted_from_another_site_is_refused(env: ApiEnv) -> None:
    client = english_client(env)
    response = client.post(
        "/console/login",
        data={"username": REVIEWERS[0], "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403 and "erap_session" not in response.headers.get(
        "set-cookie", ""
    )


def test_a_reviewer_cannot_reach_supervisor_or_prosecutor_pages_or_actions(env: ApiEnv) -> None:
    case_number = env.world.open_case()
    env.world.registry.request_cancellation(case_number, REVIEWERS[1], "wrong vehicle")
    (pending,) = env.world.registry.pending_cancellations()
    client, csrf = signed_in(env, REVIEWERS[0])
    for path in ("/console/supervisor", "/console/prosecutor", "/console/prosecutor/verify"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Not for your role" in response.text
    refused = client.post(
        f"/console/cancellations/{pending.request_id}/decision",
        data={"decision": "approve", "csrf_token": csrf},
        headers=ORIGIN,
    )
    assert refused.status_code == 403
    assert env.world.registry.pending_cancellations() == [pending]
    # The case page is open to reviewers, but the audit trail with proofs is not.
    case_page = client.get(f"/console/cases/{case_number}")
    assert case_page.status_code == 200 and "inclusion proofs" not in case_page.text
    # A prosecutor reads but does not decide.
    prosecutor, prosecutor_csrf = signed_in(env, PROSECUTOR)
    assert prosecutor.get("/console/review").status_code == 403
    waiting = env.world.add_fixation()
    assert prosecutor.get("/console/api/next").status_code == 403
    attempt = prosecutor.post(
        "/console/api/decisions",
        json={"fixation_id": waiting, "kind": "review", "action": "confirm", "seconds_spent": 1},
        headers={**ORIGIN, "X-CSRF-Token": prosecutor_csrf},
    )
    assert attempt.status_code == 403 and attempt.json()["error"] == "forbidden_for_role"
    assert env.world.registry.fixation(waiting).status.value == "awaiting_review"


def test_posts_without_the_csrf_token_or_from_another_origin_are_refused(env: ApiEnv) -> None:
    fixation_id = env.world.add_fixation()
    client, csrf = signed_in(env, REVIEWERS[0])
    body = {"fixation_id": fixation_id, "kind": "review", "action": "confirm", "seconds_spent": 3.0}
    for headers in (
        ORIGIN,
        {**ORIGIN, "X-CSRF-Token": "0" * 64},
        {"Origin": "https://evil.example", "X-CSRF-Token": csrf},
        {"X-CSRF-Token": csrf},
    ):
        response = client.post("/console/api/decisions", json=body, headers=headers)
        assert response.status_code == 403 and response.json()["error"] == "csrf_refused"
    assert env.world.registry.fixation(fixation_id).status.value == "awaiting_review"
    case_number = env.world.open_case()
    form = client.post(
        f"/console/cases/{case_number}/cancellation",
        data={"reason": "x", "csrf_token": "forged"},
        headers=ORIGIN,
    )
    assert form.status_code == 403 and "Request refused" in form.text


def test_review_decisions_are_recorded_under_the_officer_with_the_time_spent(
    env: ApiEnv,
) -> None:
    world = env.world
    first = world.add_fixation(received_at=START - timedelta(minutes=3))
    second = world.add_fixation(plate="456DEF02", received_at=START - timedelta(minutes=2))
    third = world.add_fixation(plate="456DFF02", received_at=START - timedelta(minutes=1))
    client, csrf = signed_in(env, REVIEWERS[0])
    page = client.get("/console/review")
    assert f'data-fixation-id="{first}"' in page.text
    assert "Mar 10, 2025, 10:56:57" in page.text, "the capture time is shown in local time, UTC+5"
    assert "Toyota Camry" in page.text
    preloaded = client.get("/console/api/next", params={"skip": [first]}).json()["next"]
    assert preloaded["fixation_id"] == second and preloaded["images"][0].startswith("/v1/evidence/")
    # Another reviewer gets neither the one on screen nor the preloaded one.
    other, _ = signed_in(env, REVIEWERS[1])
    assert other.get("/console/api/next").json()["next"]["fixation_id"] == third

    answer = decide(client, csrf, fixation_id=first, kind="review", action="confirm", skip=[second])
    assert answer["decided"]["verdict"] == "confirmed"  # type: ignore[index]
    assert answer["next"] is None, "the third is held by the other reviewer"
    decide(
        client, csrf, fixation_id=second, kind="review", action="reject", reason="vehicle_mismatch"
    )
    fixation = world.registry.fixation(first)
    assert fixation.decided_by == REVIEWERS[0] and fixation.seconds_spent == 4.2
    rejected = world.registry.fixation(second)
    assert rejected.reject_reason is not None and rejected.reject_reason.value == "vehicle_mismatch"
    for fixation_id, action in ((first, "confirmed"), (second, "rejected")):
        entry = world.ledger("fixation", fixation_id)[-1]
        assert entry["action"] == action and entry["actor"] == f"officer:{REVIEWERS[0]}"
        assert entry["payload"]["officer"] == REVIEWERS[0]
        assert entry["payload"]["seconds_spent"] == 4.2


def test_a_corrected_plate_is_recorded_with_its_reason(env: ApiEnv) -> None:
    fixation_id = env.world.add_fixation(plate="456DEF08")
    client, csrf = signed_in(env, REVIEWERS[0])
    answer = decide(
        client,
        csrf,
        fixation_id=fixation_id,
        kind="review",
        action="confirm",
        corrected_plate="456 DEF 02",
        correction_reason="8 read for 2 in the region",
    )
    case = env.world.registry.case(answer["decided"]["case_number"])  # type: ignore[index]
    assert case.plate == OWNER_SECOND.plate and case.owner_id == OWNER_SECOND.owner_id
    entry = env.world.ledger("fixation", fixation_id)[-1]["payload"]
    assert entry["corrected_plate"] == "456DEF02"
    assert entry["correction_reason"] == "8 read for 2 in the region"
    missing = client.post(
        "/console/api/decisions",
        json={
            "fixation_id": env.world.add_fixation(),
            "kind": "review",
            "action": "confirm",
            "seconds_spent": 1,
            "corrected_plate": "777AAA01",
        },
        headers={**ORIGIN, "X-CSRF-Token": csrf},
    )
    assert missing.status_code == 422 and missing.json()["error"] == "correction_reason_required"


def test_sampled_confirmations_get_a_blind_second_review_and_disagreement_goes_to_a_supervisor(
    env: ApiEnv,
) -> None:
    desk: ReviewDesk = env.app.state.review_desk
    desk.settings = ConsoleSettings(double_review_rate=1.0)
    agreed_id = env.world.add_fixation(received_at=START - timedelta(minutes=2))
    disputed_id = env.world.add_fixation(
        plate=OWNER_SECOND.plate, received_at=START - timedelta(minutes=1)
    )
    first, first_csrf = signed_in(env, REVIEWERS[0])
    decide(first, first_csrf, fixation_id=agreed_id, kind="review", action="confirm")
    env.world.clock.advance(seconds=5)
    decide(first, first_csrf, fixation_id=disputed_id, kind="review", action="confirm")
    # The officer who confirmed never gets their own items back for the second review.
    assert first.get("/console/api/next").json()["next"] is None

    second, second_csrf = signed_in(env, REVIEWERS[1])
    page = second.get("/console/review")
    assert f'data-fixation-id="{agreed_id}"' in page.text
    assert 'data-kind="double_review"' in page.text
    assert REVIEWERS[0] not in page.text.split('<div id="stage"')[1], "the review is blind"
    decide(
        second,
        second_csrf,
        fixation_id=agreed_id,
        kind="double_review",
        action="confirm",
        skip=[disputed_id],
    )
    answer = decide(
        second,
        second_csrf,
        fixation_id=disputed_id,
        kind="double_review",
        action="reject",
        reason="emergency_vehicle",
    )
    assert answer["decided"]["agrees"] is False  # type: ignore[index]
    request_id = answer["decided"]["cancellation_request_id"]  # type: ignore[index]
    entry = env.world.ledger("fixation", disputed_id)[-1]
    assert entry["action"] == "double_reviewed" and entry["actor"] == f"officer:{REVIEWERS[1]}"
    assert entry["payload"]["first_officer"] == REVIEWERS[0]

    figures = first.get("/console/me").text
    assert "50.0%" in figures, "one of two sampled confirmations was agreed with"

    supervisor, supervisor_csrf = signed_in(env, SUPERVISORS[0])
    desk_page = supervisor.get("/console/supervisor").text
    assert "emergency vehicle" in desk_page and f"cancellation-{request_id}" in desk_page
    done = supervisor.post(
        f"/console/cancellations/{request_id}/decision",
        data={"decision": "approve", "note": "agreed", "csrf_token": supervisor_csrf},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert done.status_code == 303 and "cancelled" in done.headers["location"]
    case_number = answer["decided"]["case_number"]  # type: ignore[index]
    assert env.world.registry.case(str(case_number)).status.value == "cancelled"
    approved = env.world.ledger("cancellation", str(request_id))[-1]
    assert approved["actor"] == f"officer:{SUPERVISORS[0]}"
    # The second verdicts are ledger entries the verifier accepts and the case history shows.
    key = DeviceKey.generate()
    sign_tree_head(env.world.store, key, env.world.clock.now)
    assert verify_registry(env.world.store, key.public_key_b64, str(case_number)).ok
    history = case_inclusion_proofs(env.world.store, str(case_number))
    assert "double_reviewed" in [proof.entry.action for proof in history.entries]


def test_csrf_tokens_are_per_session_and_redirects_stay_inside_the_console() -> None:
    assert csrf_token("session-one") != csrf_token("session-two")
    assert csrf_token("session-one") != hashlib.sha256(b"session-one").hexdigest()
    inside = "/console/cases/KZ-GP-2025-0000001"
    assert safe_next_path(inside) == inside
    for target in ("https://evil.example/", "//evil.example/console/", "/v1/cases", None):
        assert safe_next_path(target) is None


def test_the_prosecutor_sees_a_cases_history_with_inclusion_proofs(env: ApiEnv) -> None:
    case_number = env.world.open_case()
    client, _ = signed_in(env, PROSECUTOR)
    page = client.get(f"/console/cases/{case_number}")
    assert page.status_code == 200
    assert "Full history with inclusion proofs" in page.text
    assert f"officer:{REVIEWERS[0]}" in page.text and "confirmed" in page.text
    report = client.get("/console/prosecutor/verify")
    assert report.status_code == 200


def test_the_review_script_and_styles_are_served(env: ApiEnv) -> None:
    client = english_client(env)
    script = client.get("/console/static/review.js")
    assert script.status_code == 200 and "X-CSRF-Token" in script.text
    assert json.loads('{"ok": true}')["ok"]
