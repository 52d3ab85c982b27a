"""An administrator helps an officer back in: lifting a sign-in pause (API and command line), a
password reset that lifts it too, and reactivating a deactivated account, recorded in the
ledger like its deactivation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from central_ingest.cli import app
from central_ingest.operators import FAILED_LOGIN_LIMIT, SOURCE_FAILURE_LIMIT
from tests.support.api import ADMIN, PASSWORD, REVIEWER, ApiEnv, bearer, build_env

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")

runner = CliRunner()
DESK = "10.20.30.40"
STRANGER = "10.20.30.99"
WRONG = "wrong password!!"
NEW_PASSWORD = "a brand new password"


def sign_in(client: TestClient, username: str, password: str) -> int:
    return client.post(
        "/v1/auth/token", data={"username": username, "password": password}
    ).status_code


def paused_officer(tmp_path: Path) -> tuple[ApiEnv, TestClient]:
    """The reviewer at his desk, paused after mistyping his password."""
    env = build_env(tmp_path)
    desk = env.client(DESK)
    for _ in range(FAILED_LOGIN_LIMIT):
        sign_in(desk, REVIEWER, WRONG)
    assert sign_in(desk, REVIEWER, PASSWORD) == 429
    return env, desk


def operator_cli(env: ApiEnv, *args: str, password: str | None = None) -> tuple[int, str]:
    result = runner.invoke(
        app,
        ["--language", "ru", "operator", *args, "--data-dir", str(env.world.config.data_dir)],
        env={"ERAP_OPERATOR_PASSWORD": password} if password else {},
    )
    return result.exit_code, result.output


def operator_ledger(env: ApiEnv, username: str) -> list[tuple[str, str, dict[str, Any]]]:
    rows = env.world.store.db.conn.execute(
        "SELECT action, actor, payload FROM ledger"
        " WHERE entity_type = 'operator' AND entity_id = ? ORDER BY seq",
        (username,),
    ).fetchall()
    return [(action, actor, json.loads(payload)) for action, actor, payload in rows]


def test_an_admin_lifts_the_pause_over_the_api(tmp_path: Path) -> None:
    env, desk = paused_officer(tmp_path)
    admin = bearer(env.token(ADMIN))
    lifted = env.client().post(f"/v1/admin/operators/{REVIEWER}/lift-sign-in-pause", headers=admin)
    assert lifted.status_code == 200
    assert lifted.json()["username"] == REVIEWER
    assert sign_in(desk, REVIEWER, PASSWORD) == 200

    unknown = env.client().post("/v1/admin/operators/nobody/lift-sign-in-pause", headers=admin)
    assert unknown.status_code == 404
    not_admin = env.client().post(
        f"/v1/admin/operators/{REVIEWER}/lift-sign-in-pause", headers=bearer(env.token(REVIEWER))
    )
    assert not_admin.status_code == 403


def test_an_admin_lifts_the_pause_on_the_command_line(tmp_path: Path) -> None:
    env, desk = paused_officer(tmp_path)
    code, output = operator_cli(env, "lift-pause", REVIEWER)
    assert (code, output) == (
        0,
        f"{REVIEWER} может войти снова сразу: неудачные попытки входа забыты.\n",
    )
    assert sign_in(desk, REVIEWER, PASSWORD) == 200


def paused_address(env: ApiEnv) -> TestClient:
    """A workstation someone used to guess passwords of many accounts: paused as a whole."""
    stranger = env.client(STRANGER)
    for number in range(SOURCE_FAILURE_LIMIT):
        sign_in(stranger, f"guess{number}", WRONG)
    assert sign_in(stranger, REVIEWER, PASSWORD) == 429
    return stranger


def test_an_admin_lifts_an_addresss_pause_over_the_api(tmp_path: Path) -> None:
    env = build_env(tmp_path)
    stranger = paused_address(env)
    admin = bearer(env.token(ADMIN))
    lifted = env.client().post(f"/v1/admin/sign-in-sources/{STRANGER}/lift-pause", headers=admin)
    assert lifted.status_code == 200
    assert lifted.json() == {"source": STRANGER, "forgotten": SOURCE_FAILURE_LIMIT}
    assert sign_in(stranger, REVIEWER, PASSWORD) == 200

    not_an_address = env.client().post(
        "/v1/admin/sign-in-sources/two%20words/lift-pause", headers=admin
    )
    assert not_an_address.status_code == 422
    assert not_an_address.json()["error"] == "invalid_source"
    not_admin = env.client().post(
        f"/v1/admin/sign-in-sources/{STRANGER}/lift-pause", headers=bearer(env.token(REVIEWER))
    )
    assert not_admin.status_code == 403


def test_an_admin_lifts_an_addresss_pause_on_the_command_line(tmp_path: Path) -> None:
    env = build_env(tmp_path)
    stranger = paused_address(env)
    code, output = operator_cli(env, "lift-address-pause", STRANGER)
    assert (code, output) == (
        0,
        f"{STRANGER} может снова входить сразу: забыто {SOURCE_FAILURE_LIMIT} неудачных"
        " попыток входа.\n",
    )
    assert sign_in(stranger, REVIEWER, PASSWORD) == 200


def test_a_password_reset_by_an_admin_lifts_the_pause(tmp_path: Path) -> None:
    env, desk = paused_officer(tmp_path)
    code, _ = operator_cli(env, "set-password", REVIEWER, password=NEW_PASSWORD)
    assert code == 0
    assert sign_in(desk, REVIEWER, NEW_PASSWORD) == 200


def test_an_admin_reactivates_an_account_over_the_api_and_the_ledger_says_so(
    tmp_path: Path,
) -> None:
    env = build_env(tmp_path)
    admin = bearer(env.token(ADMIN))
    client = env.client()
    assert client.post(f"/v1/admin/operators/{REVIEWER}/deactivate", headers=admin).is_success
    assert sign_in(client, REVIEWER, PASSWORD) == 401

    back = client.post(f"/v1/admin/operators/{REVIEWER}/reactivate", headers=admin)
    assert back.status_code == 200
    assert back.json()["active"] is True
    assert sign_in(client, REVIEWER, PASSWORD) == 200
    assert operator_ledger(env, REVIEWER)[-2:] == [
        ("deactivated", f"officer:{ADMIN}", {"role": "reviewer", "active": False}),
        ("reactivated", f"officer:{ADMIN}", {"role": "reviewer", "active": True}),
    ]

    again = client.post(
        f"/v1/admin/operators/{REVIEWER}/reactivate",
        headers={**admin, "Accept-Language": "kk"},
    )
    assert again.status_code == 409
    assert again.json()["error"] == "operator_active"
    assert again.json()["detail"] == f"{REVIEWER} операторының тіркелгісі бұрыннан белсенді."
    unknown = client.post("/v1/admin/operators/nobody/reactivate", headers=admin)
    assert unknown.status_code == 404


def test_an_account_is_reactivated_on_the_command_line(tmp_path: Path) -> None:
    env = build_env(tmp_path)
    assert operator_cli(env, "deactivate", REVIEWER)[0] == 0
    code, output = operator_cli(env, "reactivate", REVIEWER)
    assert (code, output) == (0, f"Учётная запись {REVIEWER} снова активна.\n")
    assert sign_in(env.client(), REVIEWER, PASSWORD) == 200
    assert operator_ledger(env, REVIEWER)[-1] == (
        "reactivated",
        "system:operators-cli",
        {"role": "reviewer", "active": True},
    )
    code, output = operator_cli(env, "reactivate", REVIEWER)
    assert (code, output) == (1, f"Учётная запись оператора {REVIEWER} уже активна.\n")
