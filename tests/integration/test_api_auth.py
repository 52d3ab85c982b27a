"""Operators' authentication over HTTP: sign-in, sessions, cookies, accounts, metrics access."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from central_ingest.api.auth import SESSION_COOKIE
from central_ingest.api.settings import ApiSettings, MetricsAccess
from central_ingest.core.clock import parse_iso
from central_ingest.operators import Operators, Role, token_digest
from central_ingest.store.devices import register_device
from contract import DeviceKey, DeviceKind
from tests.support.api import PASSWORD, ApiEnv, bearer, build_env


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    built = build_env(tmp_path)
    built.add_operator("admin", Role.ADMIN)
    built.add_operator("rev.one", Role.REVIEWER)
    return built


def _sign_in(env: ApiEnv, username: str, password: str = PASSWORD) -> dict[str, object]:
    response = env.client().post(
        "/v1/auth/token", data={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_sign_in_returns_a_token_that_identifies_the_operator(env: ApiEnv) -> None:
    body = _sign_in(env, "rev.one")
    assert body["token_type"] == "bearer"
    assert body["role"] == "reviewer"
    expires_at = parse_iso(str(body["expires_at"]))
    assert expires_at == env.clock.now + timedelta(hours=env.config.session_hours)

    me = env.client().get("/v1/me", headers=bearer(str(body["access_token"])))
    assert me.status_code == 200
    assert me.json()["username"] == "rev.one"
    assert me.json()["role"] == "reviewer"


def test_user_names_are_case_insensitive_at_sign_in(env: ApiEnv) -> None:
    assert _sign_in(env, "  REV.One ")["role"] == "reviewer"


def test_sign_in_sets_a_strict_http_only_secure_cookie_that_authenticates(env: ApiEnv) -> None:
    client = env.client()
    response = client.post("/v1/auth/token", data={"username": "rev.one", "password": PASSWORD})
    cookie_header = response.headers["set-cookie"].lower()
    assert f"{SESSION_COOKIE}=" in cookie_header
    assert "httponly" in cookie_header
    assert "samesite=strict" in cookie_header
    assert "secure" in cookie_header
    assert response.headers["cache-control"] == "no-store"

    me = client.get("/v1/me")  # the client sends the cookie back, no Authorization header
    assert me.status_code == 200
    assert me.json()["username"] == "rev.one"


def test_wrong_password_unknown_user_and_disabled_account_get_the_same_answer(
    env: ApiEnv,
) -> None:
    env.add_operator("gone", Role.REVIEWER)
    env.operators.deactivate("gone", actor="system:tests")
    attempts = [
        {"username": "rev.one", "password": "not the password"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "gone", "password": PASSWORD},
    ]
    answers = [env.client().post("/v1/auth/token", data=form) for form in attempts]
    assert {answer.status_code for answer in answers} == {401}
    assert len({answer.text for answer in answers}) == 1
    assert answers[0].json()["error"] == "authentication_failed"
    assert all(answer.headers["www-authenticate"] == "Bearer" for answer in answers)
    assert all("set-cookie" not in answer.headers for answer in answers)


def test_an_over_long_password_is_refused_like_any_wrong_one(env: ApiEnv) -> None:
    response = env.client().post(
        "/v1/auth/token", data={"username": "rev.one", "password": "x" * 10_000}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_requests_without_a_session_get_401(env: ApiEnv) -> None:
    response = env.client().get("/v1/me")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "Bearer"

    forged = env.client().get("/v1/me", headers=bearer("not-a-token"))
    assert forged.status_code == 401
    assert forged.json()["error"] == "session_invalid"


def test_an_expired_session_is_refused(env: ApiEnv) -> None:
    token = env.token("rev.one")
    env.clock.advance(timedelta(hours=env.config.session_hours, seconds=1))
    response = env.client().get("/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error"] == "session_invalid"


def test_logout_ends_the_session_and_clears_the_cookie(env: ApiEnv) -> None:
    client = env.client()
    client.post("/v1/auth/token", data={"username": "rev.one", "password": PASSWORD})
    token = client.cookies[SESSION_COOKIE]

    response = client.post("/v1/auth/logout")
    assert response.status_code == 204
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert env.client().get("/v1/me", headers=bearer(token)).status_code == 401
    # Logging out twice is harmless.
    assert env.client().post("/v1/auth/logout", headers=bearer(token)).status_code == 204


def test_only_the_token_digest_is_stored(env: ApiEnv) -> None:
    token = env.token("rev.one")
    rows = env.store.db.conn.execute("SELECT token_hash FROM sessions").fetchall()
    assert rows == [(token_digest(token),)]
    assert token not in {row[0] for row in rows}


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_sign_in(env: ApiEnv) -> None:
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    upgraded = Operators(env.store, session_hours=1, hasher=stronger, clock=env.clock)
    upgraded.login("rev.one", PASSWORD)
    (stored,) = env.store.db.conn.execute(
        "SELECT password_hash FROM operators WHERE username = 'rev.one'"
    ).fetchone()
    assert "m=2048,t=2,p=1" in stored
    assert not stronger.check_needs_rehash(stored)
    assert upgraded.login("rev.one", PASSWORD).session.operator.username == "rev.one"


def test_admin_creates_an_operator_who_can_then_sign_in(env: ApiEnv) -> None:
    admin = bearer(env.token("admin"))
    response = env.client().post(
        "/v1/admin/operators",
        headers=admin,
        json={
            "username": "sup.two", "display_name": "Supervisor Two", "role": "supervisor",
            "password": "another long password",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "supervisor"
    assert response.json()["active"] is True
    assert "password" not in response.text
    assert _sign_in(env, "sup.two", "another long password")["role"] == "supervisor"

    entry = env.store.db.conn.execute(
        "SELECT action, actor, payload FROM ledger WHERE entity_type = 'operator'"
        " AND entity_id = 'sup.two'"
    ).fetchone()
    assert entry[:2] == ("created", "officer:admin")
    assert json.loads(entry[2]) == {
        "active": True, "display_name": "Supervisor Two", "role": "supervisor",
    }

    listed = env.client().get("/v1/admin/operators", headers=admin).json()
    assert [operator["username"] for operator in listed] == ["admin", "rev.one", "sup.two"]


def test_creating_an_operator_refuses_taken_names_and_short_passwords(env: ApiEnv) -> None:
    admin = bearer(env.token("admin"))
    taken = env.client().post(
        "/v1/admin/operators", headers=admin,
        json={"username": "REV.ONE", "display_name": "X", "role": "reviewer",
              "password": "long enough password"},
    )
    assert taken.status_code == 409
    assert taken.json()["error"] == "operator_exists"

    short = env.client().post(
        "/v1/admin/operators", headers=admin,
        json={"username": "new.one", "display_name": "X", "role": "reviewer",
              "password": "short"},
    )
    assert short.status_code == 422
    assert short.json()["error"] == "invalid_request"
    assert "password" in short.json()["detail"]

    bad_name = env.client().post(
        "/v1/admin/operators", headers=admin,
        json={"username": "9 lives", "display_name": "X", "role": "reviewer",
              "password": "long enough password"},
    )
    assert bad_name.status_code == 422
    assert bad_name.json()["error"] == "invalid_username"


def test_deactivating_an_operator_ends_their_sessions_at_once(env: ApiEnv) -> None:
    admin = bearer(env.token("admin"))
    reviewer_token = env.token("rev.one")
    response = env.client().post("/v1/admin/operators/rev.one/deactivate", headers=admin)
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert env.client().get("/v1/me", headers=bearer(reviewer_token)).status_code == 401

    again = env.client().post("/v1/admin/operators/rev.one/deactivate", headers=admin)
    assert again.status_code == 409
    unknown = env.client().post("/v1/admin/operators/nobody/deactivate", headers=admin)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "unknown_operator"


def test_an_admin_cannot_lock_themselves_out(env: ApiEnv) -> None:
    response = env.client().post(
        "/v1/admin/operators/admin/deactivate", headers=bearer(env.token("admin"))
    )
    assert response.status_code == 409
    assert response.json()["error"] == "cannot_deactivate_self"


def test_admin_lists_devices_read_only(env: ApiEnv) -> None:
    key = DeviceKey.generate()
    register_device(
        env.store, device_id="cam-ast-0001", kind=DeviceKind.CAMERA,
        public_key_b64=key.public_key_b64, description="Kabanbay batyr / Turan",
        actor="system:tests", now=env.clock.now,
    )
    response = env.client().get("/v1/admin/devices", headers=bearer(env.token("admin")))
    assert response.status_code == 200
    (device,) = response.json()
    assert device["device_id"] == "cam-ast-0001"
    assert device["kind"] == "camera"
    assert device["status"] == "active"
    assert "public_key" not in device


def test_health_needs_no_session(env: ApiEnv) -> None:
    response = env.client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_metrics_are_served_to_loopback_clients_only_by_default(env: ApiEnv) -> None:
    assert env.client(host="203.0.113.7").get("/metrics").status_code == 403
    response = env.client(host="127.0.0.1").get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'erap_fixations{status="awaiting_review"} 0' in text
    assert 'erap_cases{status="sent_to_bailiffs"} 0' in text
    assert "erap_review_queue_size 0" in text
    assert "# TYPE erap_dead_letters gauge" in text


def test_metrics_can_require_an_operator_token_instead(tmp_path: Path) -> None:
    env = build_env(tmp_path, api_settings=ApiSettings(metrics_access=MetricsAccess.OPERATORS))
    env.add_operator("sup", Role.SUPERVISOR)
    env.add_operator("rev", Role.REVIEWER)
    local = env.client(host="127.0.0.1")
    assert local.get("/metrics").status_code == 401
    assert local.get("/metrics", headers=bearer(env.token("rev"))).status_code == 403
    assert local.get("/metrics", headers=bearer(env.token("sup"))).status_code == 200


def test_openapi_documents_both_ways_to_authenticate(env: ApiEnv) -> None:
    schema = env.client().get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "oauth2"
    assert schemes["session_cookie"] == {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE}
    assert "/v1/auth/token" in schema["paths"]

