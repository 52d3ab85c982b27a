"""The operators' API over HTTP against a real registry (SQLite and PostgreSQL): who may call
what, and that every decision is recorded under the signed-in officer's name. Bailiffs,
reports and audit are in test_routes_oversight.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from central_ingest.operators import Role
from tests.support.api import (
    ACCOUNT_OF_ROLE,
    PROSECUTOR,
    REVIEWER,
    SUPERVISOR,
    ApiEnv,
    build_env,
)
from tests.support.registry_fixtures import (
    OWNER_PERSON,
    OWNER_SECOND,
    REVIEWERS,
    SUPERVISORS,
    RegistryWorld,
)

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")

MISSING_FIXATION = "00000000-0000-4000-8000-000000000000"
MISSING_CASE = "KZ-GP-2025-9999999"

REVIEW = {Role.REVIEWER, Role.SUPERVISOR}
READ_CASES = {Role.REVIEWER, Role.SUPERVISOR, Role.PROSECUTOR}
SUPERVISE = {Role.SUPERVISOR}
OVERSIGHT = {Role.SUPERVISOR, Role.PROSECUTOR}
AUDIT = {Role.PROSECUTOR}
BAILIFFS = {Role.BAILIFF}
ADMIN = {Role.ADMIN}
EVERYONE = set(Role)

# (method, path, JSON body, roles allowed). Ids that do not exist keep the calls harmless: an
# allowed role gets past authorisation (404, 422, 503 ...), any other role gets 403.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, set[Role]]] = [
    ("GET", "/v1/me", None, EVERYONE),
    ("GET", "/v1/review/queue", None, REVIEW),
    ("GET", "/v1/review/next", None, REVIEW),
    ("GET", f"/v1/fixations/{MISSING_FIXATION}", None, READ_CASES),
    ("GET", f"/v1/evidence/{'0' * 64}", None, READ_CASES),
    ("POST", f"/v1/fixations/{MISSING_FIXATION}/confirm", {"seconds_spent": 4}, REVIEW),
    (
        "POST",
        f"/v1/fixations/{MISSING_FIXATION}/reject",
        {"reason": "plate_unreadable", "seconds_spent": 4},
        REVIEW,
    ),
    ("GET", f"/v1/cases/{MISSING_CASE}", None, READ_CASES),
    ("GET", f"/v1/cases/{MISSING_CASE}/notices", None, READ_CASES),
    ("GET", "/v1/cases?plate=123ABC01", None, READ_CASES),
    ("POST", f"/v1/cases/{MISSING_CASE}/cancellation-requests", {"reason": "wrong owner"}, REVIEW),
    ("GET", "/v1/cancellation-requests?status=pending", None, SUPERVISE),
    ("POST", "/v1/cancellation-requests/999999/decision", {"decision": "approve"}, SUPERVISE),
    ("GET", "/v1/reports/limitation", None, OVERSIGHT),
    ("GET", "/v1/reports/removals?by=officer", None, OVERSIGHT),
    ("GET", "/v1/reports/payments", None, OVERSIGHT),
    ("GET", "/v1/reports/roadside-officers", None, OVERSIGHT),
    ("GET", "/v1/dead-letters", None, OVERSIGHT),
    ("GET", "/v1/dead-letters/summary", None, OVERSIGHT),
    ("GET", "/v1/dead-letters/sources", None, OVERSIGHT),
    ("GET", "/v1/audit/tree-head", None, AUDIT),
    ("GET", "/v1/audit/verify", None, AUDIT),
    ("GET", f"/v1/audit/cases/{MISSING_CASE}", None, AUDIT),
    ("GET", "/v1/bailiffs/feed?after=0", None, BAILIFFS),
    ("GET", "/v1/supervisor/undelivered", None, SUPERVISE),
    ("GET", "/v1/appeals", None, READ_CASES),
    ("GET", "/v1/appeals/999999", None, READ_CASES),
    ("GET", f"/v1/cases/{MISSING_CASE}/appeal", None, READ_CASES),
    ("GET", "/v1/appeals/999999/attachments/1", None, READ_CASES),
    ("POST", "/v1/appeals/999999/decision", {"decision": "upheld"}, SUPERVISE),
    (
        "POST",
        "/v1/appeals/999999/court-decision",
        {"decision": "upheld", "court_reference": "2-1234/2026"},
        REVIEW,
    ),
    ("GET", "/v1/payments/exceptions", None, OVERSIGHT),
    ("GET", "/v1/payments/refunds", None, OVERSIGHT),
    ("GET", "/v1/admin/devices", None, ADMIN),
    ("GET", "/v1/admin/operators", None, ADMIN),
    (
        "POST",
        "/v1/admin/operators",
        {
            "username": "new.reviewer",
            "display_name": "New Reviewer",
            "role": "reviewer",
            "password": "a long enough password",
        },
        ADMIN,
    ),
    ("POST", "/v1/admin/operators/nobody/deactivate", None, ADMIN),
    ("POST", "/v1/admin/operators/nobody/reactivate", None, ADMIN),
    ("POST", "/v1/admin/operators/nobody/lift-sign-in-pause", None, ADMIN),
    ("POST", "/v1/admin/sign-in-sources/10.0.0.1/lift-pause", None, ADMIN),
    ("PUT", "/v1/admin/operators/nobody/language", {"language": "kk"}, ADMIN),
]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiEnv, dict[Role, str]]]:
    env = build_env(tmp_path_factory.mktemp("matrix"))
    tokens = {role: env.token(username) for role, username in ACCOUNT_OF_ROLE.items()}
    yield env, tokens


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"),
    ENDPOINTS,
    ids=[f"{method} {path.split('?')[0]}" for method, path, _, _ in ENDPOINTS],
)
def test_each_role_reaches_only_its_endpoints(
    shared: tuple[ApiEnv, dict[Role, str]],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    allowed: set[Role],
) -> None:
    env, tokens = shared
    client = env.client()
    anonymous = client.request(method, path, json=body)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.json()["error"] == "not_authenticated"
    for role, token in tokens.items():
        response = client.request(
            method, path, json=body, headers={"Authorization": f"Bearer {token}"}
        )
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["error"] == "forbidden_for_role"


def test_the_matrix_covers_every_operator_route(shared: tuple[ApiEnv, dict[Role, str]]) -> None:
    env, _ = shared
    schema = env.client().get("/openapi.json").json()
    device_routes = {("POST", "/v1/messages"), ("PUT", "/v1/evidence/{sha256}")}
    device_routes |= {  # signed by payment terminals; tests/integration/terminal/test_lookup.py
        ("GET", f"/v1/terminal/cases/by-{key}/{{{name}}}")
        for key, name in (("number", "case_number"), ("plate", "plate"), ("iin", "iin"))
    }
    # Signed by terminals too; tests/integration/central_ingest/api/test_roadside_routes.py.
    device_routes.add(("POST", "/v1/terminal/protocol-number-blocks"))
    public = {
        ("GET", "/healthz"),
        ("GET", "/metrics"),
        ("POST", "/v1/auth/token"),
        ("POST", "/v1/auth/logout"),
        # The officers' CRL is public: whoever checks a printed protocol's signature needs it.
        ("GET", "/v1/pki/officers.crl"),
        # The driver files with the case number and the plate, as on the driver's page
        # (tests/integration/central_ingest/api/test_appeals.py); banks sign their notifications
        # with their own keys (tests/integration/central_ingest/ingest/test_bank_payments.py).
        ("POST", "/v1/cases/{case_number}/appeals"),
        ("POST", "/v1/payments/notifications"),
    }
    documented = (
        {
            (method.upper(), path)
            for path, operations in schema["paths"].items()
            for method in operations
        }
        - device_routes
        - public
    )
    tested = {
        (
            method,
            path.split("?")[0]
            .replace(MISSING_FIXATION, "{fixation_id}")
            .replace(MISSING_CASE, "{case_number}")
            .replace("/appeals/999999", "/appeals/{appeal_id}")
            .replace("/attachments/1", "/attachments/{position}")
            .replace("999999", "{request_id}")
            .replace("nobody", "{username}")
            .replace("0" * 64, "{sha256}")
            .replace("10.0.0.1", "{address}"),
        )
        for method, path, _, _ in ENDPOINTS
    }
    assert documented == tested


# --- decisions record the authenticated officer -----------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path)


def _client(env: ApiEnv, username: str) -> TestClient:
    client = env.client()
    client.headers.update(env.headers(username))
    return client


def _ledger_actors(world: RegistryWorld, entity_type: str, entity_id: str) -> list[str]:
    return [entry["actor"] for entry in world.ledger(entity_type, entity_id)]


def test_a_reviewer_confirms_the_next_fixation_under_their_own_name(env: ApiEnv) -> None:
    fixation_id = env.world.add_fixation()
    reviewer = _client(env, REVIEWER)

    shown = reviewer.get("/v1/review/next")
    assert shown.status_code == 200
    assert shown.json()["fixation_id"] == fixation_id
    assert shown.json()["registered_vehicle"]["make"] == OWNER_PERSON.make
    assert reviewer.get("/v1/review/queue").json() == {"awaiting_review": 1}

    response = reviewer.post(
        f"/v1/fixations/{fixation_id}/confirm", json={"seconds_spent": 12.5, "note": "clear"}
    )
    assert response.status_code == 201, response.text
    case = response.json()
    assert response.headers["location"] == f"/v1/cases/{case['case_number']}"
    assert case["resolved_by"] == REVIEWER
    assert case["owner_id"] == OWNER_PERSON.owner_id
    assert case["status"] == "open"

    decided_by, seconds, status = env.world.store.db.conn.execute(
        "SELECT decided_by, seconds_spent, status FROM fixations WHERE fixation_id = ?",
        (fixation_id,),
    ).fetchone()
    assert (decided_by, seconds, status) == (REVIEWER, 12.5, "confirmed")
    assert _ledger_actors(env.world, "fixation", fixation_id)[-1] == f"officer:{REVIEWER}"
    assert _ledger_actors(env.world, "case", case["case_number"]) == [f"officer:{REVIEWER}"]
    assert reviewer.get("/v1/review/next").status_code == 204


def test_a_decision_cannot_name_another_officer(env: ApiEnv) -> None:
    fixation_id = env.world.add_fixation()
    response = _client(env, REVIEWER).post(
        f"/v1/fixations/{fixation_id}/reject",
        json={"reason": "plate_unreadable", "seconds_spent": 3, "officer": REVIEWERS[1]},
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert "officer" in response.json()["detail"]
    assert (
        env.world.scalar("SELECT status FROM fixations WHERE fixation_id = ?", fixation_id)
        == "awaiting_review"
    )


def test_a_rejection_records_reason_officer_and_time_spent(env: ApiEnv) -> None:
    fixation_id = env.world.add_fixation()
    response = _client(env, REVIEWERS[1]).post(
        f"/v1/fixations/{fixation_id}/reject",
        json={"reason": "emergency_vehicle", "note": "ambulance, lights on", "seconds_spent": 7.25},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    assert response.json()["decided_by"] == REVIEWERS[1]
    row = env.world.store.db.conn.execute(
        "SELECT decided_by, reject_reason, decision_note, seconds_spent FROM fixations"
        " WHERE fixation_id = ?",
        (fixation_id,),
    ).fetchone()
    assert row == (REVIEWERS[1], "emergency_vehicle", "ambulance, lights on", 7.25)
    assert _ledger_actors(env.world, "fixation", fixation_id)[-1] == f"officer:{REVIEWERS[1]}"


@pytest.mark.parametrize("seconds", [-0.5, 86_400, 1e9])
def test_time_spent_must_be_within_a_day(env: ApiEnv, seconds: float) -> None:
    fixation_id = env.world.add_fixation()
    response = _client(env, REVIEWER).post(
        f"/v1/fixations/{fixation_id}/confirm", json={"seconds_spent": seconds}
    )
    assert response.status_code == 422
    assert "seconds_spent" in response.json()["detail"]


def test_rejection_reasons_come_from_the_fixed_list(env: ApiEnv) -> None:
    fixation_id = env.world.add_fixation()
    reviewer = _client(env, REVIEWER)
    unknown = reviewer.post(
        f"/v1/fixations/{fixation_id}/reject", json={"reason": "friend_of_mine", "seconds_spent": 1}
    )
    assert unknown.status_code == 422
    other_without_note = reviewer.post(
        f"/v1/fixations/{fixation_id}/reject", json={"reason": "other", "seconds_spent": 1}
    )
    assert other_without_note.status_code == 422
    assert other_without_note.json()["error"] == "reject_note_required"


def test_a_fixation_is_decided_once(env: ApiEnv) -> None:
    fixation_id = env.world.add_fixation()
    first = _client(env, REVIEWER).post(
        f"/v1/fixations/{fixation_id}/confirm", json={"seconds_spent": 5}
    )
    assert first.status_code == 201
    second = _client(env, REVIEWERS[1]).post(
        f"/v1/fixations/{fixation_id}/reject",
        json={"reason": "other", "note": "no", "seconds_spent": 5},
    )
    assert second.status_code == 409
    assert second.json()["error"] == "fixation_already_decided"
    assert (
        env.world.scalar("SELECT decided_by FROM fixations WHERE fixation_id = ?", fixation_id)
        == REVIEWER
    )


def test_unknown_things_are_404_with_a_code(env: ApiEnv) -> None:
    reviewer = _client(env, REVIEWER)
    missing = reviewer.get(f"/v1/fixations/{MISSING_FIXATION}")
    assert missing.status_code == 404
    assert set(missing.json()) == {"error", "detail"}
    assert reviewer.get(f"/v1/cases/{MISSING_CASE}").status_code == 404
    assert reviewer.get("/v1/no-such-route").json()["error"] == "not_found"


def test_a_prosecutor_reads_a_fixation_and_its_case_but_decides_nothing(env: ApiEnv) -> None:
    case_number = env.world.open_case()
    prosecutor = _client(env, PROSECUTOR)
    case = prosecutor.get(f"/v1/cases/{case_number}")
    assert case.status_code == 200
    fixation = prosecutor.get(f"/v1/fixations/{case.json()['fixation_id']}")
    assert fixation.json()["decided_by"] == REVIEWERS[0]
    assert fixation.json()["case_number"] == case_number
    cancel = prosecutor.post(
        f"/v1/cases/{case_number}/cancellation-requests", json={"reason": "I would like it"}
    )
    assert cancel.status_code == 403


def test_cases_are_found_by_plate_or_owner(env: ApiEnv) -> None:
    first = env.world.open_case()
    second = env.world.open_case(plate=OWNER_SECOND.plate)
    reviewer = _client(env, REVIEWER)
    by_plate = reviewer.get("/v1/cases", params={"plate": "123 abc 01"}).json()
    assert [case["case_number"] for case in by_plate] == [first]
    by_owner = reviewer.get("/v1/cases", params={"owner_id": OWNER_SECOND.owner_id}).json()
    assert [case["case_number"] for case in by_owner] == [second]
    neither = reviewer.get("/v1/cases")
    assert neither.status_code == 422
    assert neither.json()["error"] == "search_criteria_required"


def test_cancellation_takes_two_people_both_taken_from_their_sessions(env: ApiEnv) -> None:
    case_number = env.world.open_case()
    requested = _client(env, REVIEWER).post(
        f"/v1/cases/{case_number}/cancellation-requests",
        json={"reason": "plate cloned: the owner's car was elsewhere"},
    )
    assert requested.status_code == 201, requested.text
    request_id = requested.json()["request_id"]
    assert requested.json()["requested_by"] == REVIEWER

    supervisor = _client(env, SUPERVISOR)
    pending = supervisor.get("/v1/cancellation-requests", params={"status": "pending"}).json()
    assert [item["request_id"] for item in pending] == [request_id]
    assert (
        supervisor.get("/v1/cancellation-requests", params={"status": "approved"}).status_code
        == 422
    )

    decided = supervisor.post(
        f"/v1/cancellation-requests/{request_id}/decision",
        json={"decision": "approve", "note": "photos checked"},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    assert decided.json()["decided_by"] == SUPERVISOR
    assert decided.json()["case_status"] == "cancelled"
    assert _ledger_actors(env.world, "cancellation", str(request_id)) == [
        f"officer:{REVIEWER}",
        f"officer:{SUPERVISOR}",
    ]
    again = supervisor.post(
        f"/v1/cancellation-requests/{request_id}/decision", json={"decision": "deny"}
    )
    assert again.status_code == 409


def test_a_supervisor_cannot_decide_their_own_cancellation_request(env: ApiEnv) -> None:
    case_number = env.world.open_case()
    supervisor = _client(env, SUPERVISOR)
    request_id = supervisor.post(
        f"/v1/cases/{case_number}/cancellation-requests", json={"reason": "duplicate case"}
    ).json()["request_id"]
    own = supervisor.post(
        f"/v1/cancellation-requests/{request_id}/decision", json={"decision": "approve"}
    )
    assert own.status_code == 403
    assert own.json()["error"] == "two_person_rule"
    other = _client(env, SUPERVISORS[1]).post(
        f"/v1/cancellation-requests/{request_id}/decision", json={"decision": "deny"}
    )
    assert other.status_code == 200
    assert other.json()["status"] == "denied"
