"""Operators' authentication over HTTP: sign-in, sessions, cookies, accounts (metrics access:
test_metrics_access.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from central_ingest.api.app import create_app
from central_ingest.api.auth import SESSION_COOKIE
from central_ingest.cli.operators import CLI_ACTOR, PASSWORD_ENV, operators_app
from central_ingest.config import load_config
from central_ingest.core.clock import parse_iso
from central_ingest.operators import Operators, Role, token_digest
from central_ingest.store.db import open_store
from central_ingest.store.devices import register_device
from contract import DeviceKey, DeviceKind
from tests.support.api import PASSWORD, ApiEnv, bearer, build_env
from tests.support.stores import database_overrides, registry_target

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    built = build_env(tmp_path)
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
    assert expires_at == env.world.clock.now + timedelta(hours=env.world.config.session_hours)

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
    env.world.clock.advance(hours=env.world.config.session_hours, seconds=1)
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
    rows = env.world.store.db.conn.execute("SELECT token_hash FROM sessions").fetchall()
    assert rows == [(token_digest(token),)]
    assert token not in {row[0] for row in rows}


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_sign_in(env: ApiEnv) -> None:
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    upgraded = Operators(env.world.store, session_hours=1, hasher=stronger, clock=env.world.clock)
    upgraded.login("rev.one", PASSWORD)
    (stored,) = env.world.store.db.conn.execute(
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
            "username": "sup.two",
            "display_name": "Supervisor Two",
            "role": "supervisor",
            "password": "another long password",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "supervisor"
    assert response.json()["active"] is True
    assert "password" not in response.text
    assert _sign_in(env, "sup.two", "another long password")["role"] == "supervisor"

    entry = env.world.store.db.conn.execute(
        "SELECT action, actor, payload FROM ledger WHERE entity_type = 'operator'"
        " AND entity_id = 'sup.two'"
    ).fetchone()
    assert entry[:2] == ("created", "officer:admin")
    assert json.loads(entry[2]) == {
        "active": True,
        "display_name": "Supervisor Two",
        "role": "supervisor",
    }

    listed = env.client().get("/v1/admin/operators", headers=admin).json()
    assert {"admin", "rev.one", "sup.two"} <= {operator["username"] for operator in listed}


def test_creating_an_operator_refuses_taken_names_and_short_passwords(env: ApiEnv) -> None:
    admin = bearer(env.token("admin"))
    taken = env.client().post(
        "/v1/admin/operators",
        headers=admin,
        json={
            "username": "REV.ONE",
            "display_name": "X",
            "role": "reviewer",
            "password": "long enough password",
        },
    )
    assert taken.status_code == 409
    assert taken.json()["error"] == "operator_exists"

    short = env.client().post(
        "/v1/admin/operators",
        headers=admin,
        json={"username": "new.one", "display_name": "X", "role": "reviewer", "password": "short"},
    )
    assert short.status_code == 422
    assert short.json()["error"] == "invalid_request"
    assert "password" in short.json()["detail"]

    bad_name = env.client().post(
        "/v1/admin/operators",
        headers=admin,
        json={
            "username": "9 lives",
            "display_name": "X",
            "role": "reviewer",
            "password": "long enough password",
        },
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
        env.world.store,
        device_id="cam-ast-0099",
        kind=DeviceKind.CAMERA,
        public_key_b64=key.public_key_b64,
        description="Kabanbay batyr / Turan",
        actor="system:tests",
        now=env.world.clock.now,
    )
    response = env.client().get("/v1/admin/devices", headers=bearer(env.token("admin")))
    assert response.status_code == 200
    devices = {device["device_id"]: device for device in response.json()}
    assert devices["cam-ast-0099"]["kind"] == "camera"
    assert devices["cam-ast-0099"]["status"] == "active"
    assert devices["cam-ast-0099"]["description"] == "Kabanbay batyr / Turan"
    assert "public_key" not in devices["cam-ast-0099"]


def test_health_needs_no_session(env: ApiEnv) -> None:
    response = env.client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_documents_both_ways_to_authenticate(env: ApiEnv) -> None:
    schema = env.client().get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "oauth2"
    assert schemes["session_cookie"] == {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE}
    assert "/v1/auth/token" in schema["paths"]
    invalid = schema["paths"]["/v1/fixations/{fixation_id}/confirm"]["post"]["responses"]["422"]
    assert invalid["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/InvalidRequestBody"
    }
    assert "HTTPValidationError" not in json.dumps(schema)


def test_invalid_requests_list_each_problem(env: ApiEnv) -> None:
    response = env.client().post(
        "/v1/admin/operators", headers=env.headers("admin"), json={"username": "x"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert {problem["location"] for problem in body["problems"]} == {
        "body.username",
        "body.display_name",
        "body.role",
        "body.password",
    }


def test_the_operators_command_manages_accounts_that_sign_in_over_http(tmp_path: Path) -> None:
    data_dir = tmp_path / "registry"
    runner = CliRunner(env={"ERAP_LANGUAGE": "en"})  # the command line's English sentences

    def run(*args: str, **kwargs: Any) -> Result:
        return runner.invoke(operators_app, [*args, "--data-dir", str(data_dir)], **kwargs)

    added = run(
        "add",
        "first.admin",
        "--role",
        "admin",
        "--display-name",
        "First Admin",
        "--password-stdin",
        input="a long admin password\n",
    )
    assert added.exit_code == 0, added.output
    from_env = run(
        "add",
        "rev.cli",
        "--role",
        "reviewer",
        "--display-name",
        "Reviewer Cli",
        env={PASSWORD_ENV: "a long reviewer password"},
    )
    assert from_env.exit_code == 0, from_env.output
    taken = run(
        "add",
        "rev.cli",
        "--role",
        "reviewer",
        "--display-name",
        "Again",
        env={PASSWORD_ENV: "a long reviewer password"},
    )
    assert taken.exit_code == 1
    assert "already exists" in taken.output
    short = run(
        "add",
        "rev.short",
        "--role",
        "reviewer",
        "--display-name",
        "Short",
        env={PASSWORD_ENV: "short"},
    )
    assert short.exit_code == 1

    listed = json.loads(run("list", "--json").output)
    assert [(o["username"], o["role"], o["active"]) for o in listed] == [
        ("first.admin", "admin", True),
        ("rev.cli", "reviewer", True),
    ]

    client = TestClient(
        create_app(load_config(**database_overrides({"data_dir": data_dir}))),
        base_url="https://testserver",
    )
    signed_in = client.post(
        "/v1/auth/token", data={"username": "rev.cli", "password": "a long reviewer password"}
    )
    assert signed_in.status_code == 200
    token = signed_in.json()["access_token"]

    assert run("deactivate", "rev.cli").exit_code == 0
    assert client.get("/v1/me", headers=bearer(token)).status_code == 401
    assert (
        client.post(
            "/v1/auth/token", data={"username": "rev.cli", "password": "a long reviewer password"}
        ).status_code
        == 401
    )
    (actor,) = {
        row[0]
        for row in open_store(registry_target(data_dir / "registry.sqlite3")).db.conn.execute(
            "SELECT actor FROM ledger WHERE entity_type = 'operator'"
        )
    }
    assert actor == CLI_ACTOR
