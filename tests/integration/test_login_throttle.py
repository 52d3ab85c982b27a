"""Password guessing is paused per user name, for real and unknown names alike."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from central_ingest.operators import FAILED_LOGIN_LIMIT
from tests.support.api import PASSWORD, REVIEWER, build_env


def sign_in(client: TestClient, username: str, password: str) -> int:
    return client.post(
        "/v1/auth/token", data={"username": username, "password": password}
    ).status_code


def test_repeated_failures_pause_sign_in_then_the_window_passes(tmp_path: Path) -> None:
    env = build_env(tmp_path)
    client = env.client()

    failures = [sign_in(client, REVIEWER, "wrong password!!") for _ in range(FAILED_LOGIN_LIMIT)]
    paused = client.post("/v1/auth/token", data={"username": REVIEWER, "password": PASSWORD})
    other_user_ok = sign_in(client, "prosecutor", PASSWORD)
    env.world.clock.advance(minutes=16)
    after_window = sign_in(client, REVIEWER, PASSWORD)

    assert failures == [401] * FAILED_LOGIN_LIMIT
    assert paused.status_code == 429
    assert paused.json()["error"] == "too_many_attempts"
    assert paused.headers["Retry-After"] == "900"
    assert other_user_ok == 200
    assert after_window == 200


def test_unknown_names_are_paused_the_same_way(tmp_path: Path) -> None:
    client = build_env(tmp_path).client()
    answers = [
        sign_in(client, "nobody.here", "guess number x") for _ in range(FAILED_LOGIN_LIMIT + 1)
    ]
    assert answers == [401] * FAILED_LOGIN_LIMIT + [429]


def test_a_successful_sign_in_clears_the_count(tmp_path: Path) -> None:
    env = build_env(tmp_path)
    client = env.client()
    for _ in range(FAILED_LOGIN_LIMIT - 1):
        sign_in(client, REVIEWER, "wrong password!!")
    assert sign_in(client, REVIEWER, PASSWORD) == 200
    assert [sign_in(client, REVIEWER, "wrong password!!") for _ in range(2)] == [401, 401]
    assert sign_in(client, REVIEWER, PASSWORD) == 200
