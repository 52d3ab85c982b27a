"""Password guessing is slowed down per (user name, source address) and per source address, so
that a stranger's failures never lock the real officer out from his own workstation."""

from __future__ import annotations

from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from central_ingest.core.sign_in_throttle import LONGEST_PAUSE, SOURCE_FAILURE_LIMIT
from central_ingest.operators import FAILED_LOGIN_LIMIT
from tests.support.api import BASE_URL, PASSWORD, REVIEWER, SUPERVISOR, ApiEnv, build_env

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")

STRANGER = "203.0.113.7"
OFFICE = "10.20.30.40"
WRONG = "wrong password!!"


def sign_in(client: TestClient, username: str, password: str, **headers: str) -> int:
    return client.post(
        "/v1/auth/token", data={"username": username, "password": password}, headers=headers
    ).status_code


def pause_seconds(client: TestClient, username: str, password: str = WRONG) -> int:
    """Asserts the attempt is paused; the seconds it is told to wait."""
    paused = client.post("/v1/auth/token", data={"username": username, "password": password})
    assert paused.status_code == 429, paused.text
    assert paused.json()["error"] == "too_many_attempts"
    return int(paused.headers["Retry-After"])


def test_a_strangers_failures_do_not_lock_the_officer_out_of_his_own_workstation(
    tmp_path: Path,
) -> None:
    env = build_env(tmp_path)
    stranger = env.client(STRANGER)
    answers = [sign_in(stranger, REVIEWER, WRONG) for _ in range(FAILED_LOGIN_LIMIT * 3)]
    assert answers == [401] * FAILED_LOGIN_LIMIT + [429] * FAILED_LOGIN_LIMIT * 2

    assert sign_in(env.client(OFFICE), REVIEWER, PASSWORD) == 200
    # The stranger's pair is still paused, even with the right password: a guess made while
    # waiting is not even checked.
    assert pause_seconds(stranger, REVIEWER, PASSWORD) > 0


def test_the_pause_of_a_pair_doubles_up_to_its_cap_and_a_success_clears_it(
    tmp_path: Path,
) -> None:
    env = build_env(tmp_path)
    client = env.client(OFFICE)
    assert [sign_in(client, REVIEWER, WRONG) for _ in range(FAILED_LOGIN_LIMIT)] == [401] * 5
    waits = []
    for _ in range(7):
        wait = pause_seconds(client, REVIEWER)
        waits.append(wait)
        env.world.clock.advance(seconds=wait - 1)
        assert pause_seconds(client, REVIEWER) == 1  # refused attempts do not extend it
        env.world.clock.advance(seconds=1)
        assert sign_in(client, REVIEWER, WRONG) == 401
    cap = int(LONGEST_PAUSE.total_seconds())
    assert waits == [60, 120, 240, 480, cap, cap, cap]

    # Other accounts from the same desk are not affected.
    assert sign_in(client, SUPERVISOR, PASSWORD) == 200
    env.world.clock.advance(seconds=cap)
    assert sign_in(client, REVIEWER, PASSWORD) == 200
    assert [sign_in(client, REVIEWER, WRONG) for _ in range(FAILED_LOGIN_LIMIT)] == [401] * 5


def test_unknown_names_are_paused_the_same_way(tmp_path: Path) -> None:
    client = build_env(tmp_path).client(STRANGER)
    answers = [
        sign_in(client, "nobody.here", "guess number x") for _ in range(FAILED_LOGIN_LIMIT + 1)
    ]
    assert answers == [401] * FAILED_LOGIN_LIMIT + [429]


def test_a_source_failing_across_many_names_waits_and_others_do_not(tmp_path: Path) -> None:
    env = build_env(tmp_path)
    guesser = env.client(STRANGER)
    names = [f"guess.{n}" for n in range(SOURCE_FAILURE_LIMIT)]
    # Fewer failures per name than the pair limit: only the source's count can stop this.
    assert [sign_in(guesser, name, WRONG) for name in names] == [401] * SOURCE_FAILURE_LIMIT
    paused = guesser.post(
        "/v1/auth/token",
        data={"username": REVIEWER, "password": PASSWORD},
        headers={"Accept-Language": "ru"},
    )
    assert paused.status_code == 429
    assert paused.headers["Retry-After"] == "60"
    assert paused.json()["detail"] == (
        "Слишком много неудачных попыток входа с этого компьютера: повторите через 1 минуту."
    )
    assert sign_in(env.client(OFFICE), REVIEWER, PASSWORD) == 200
    env.world.clock.advance(seconds=60)
    assert sign_in(guesser, REVIEWER, PASSWORD) == 200


def _as_served(env: ApiEnv, peer: str, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The app as ``erap-registry serve`` hands it to uvicorn (its default proxy handling:
    X-Forwarded-For believed from 127.0.0.1 and ::1 only), called from ``peer``."""
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    served = uvicorn.Config(env.app, log_level="warning")
    served.load()
    return TestClient(served.loaded_app, base_url=BASE_URL, client=(peer, 50000))


def test_behind_the_local_proxy_the_forwarded_address_is_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = build_env(tmp_path)
    proxy = _as_served(env, "127.0.0.1", monkeypatch)
    stranger = {"X-Forwarded-For": STRANGER}
    for _ in range(FAILED_LOGIN_LIMIT):
        assert sign_in(proxy, REVIEWER, WRONG, **stranger) == 401
    assert sign_in(proxy, REVIEWER, PASSWORD, **stranger) == 429
    # A forged left-most entry does not escape: the proxy appends what it saw.
    assert sign_in(proxy, REVIEWER, PASSWORD, **{"X-Forwarded-For": f"{OFFICE}, {STRANGER}"}) == 429
    assert sign_in(proxy, REVIEWER, PASSWORD, **{"X-Forwarded-For": OFFICE}) == 200


def test_the_forwarded_header_of_any_other_client_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = build_env(tmp_path)
    direct = _as_served(env, STRANGER, monkeypatch)
    for n in range(FAILED_LOGIN_LIMIT):
        # A new claimed address each time: were it believed, no pair would ever fill.
        assert sign_in(direct, REVIEWER, WRONG, **{"X-Forwarded-For": f"198.51.100.{n}"}) == 401
    assert sign_in(direct, REVIEWER, PASSWORD, **{"X-Forwarded-For": OFFICE}) == 429


CONSOLE_PAUSE = {
    "kk": "Осы пайдаланушы атымен осы компьютерден кіру әрекеттері тым көп рет сәтсіз болды:"
    " 1 минуттан кейін қайталаңыз",
    "ru": "Слишком много неудачных попыток входа с этим именем пользователя с этого компьютера:"
    " повторите через 1 минуту",
}


def test_the_console_answers_a_paused_sign_in_with_its_page_in_the_readers_language(
    tmp_path: Path,
) -> None:
    env = build_env(tmp_path)
    client = env.client(STRANGER)
    origin = {"Origin": BASE_URL}

    def console_sign_in(password: str, **headers: str) -> tuple[int, str, str]:
        """Status, content type (with Retry-After if any) and page."""
        answer = client.post(
            "/console/login",
            data={"username": REVIEWER, "password": password},
            headers={**origin, **headers},
        )
        kind = f"{answer.headers['content-type']} {answer.headers.get('retry-after')}"
        return answer.status_code, kind, answer.text

    assert [console_sign_in(WRONG)[0] for _ in range(FAILED_LOGIN_LIMIT)] == [401] * 5
    kk_status, kk_type, kk_page = console_sign_in(PASSWORD, Cookie="erap_lang=kk")
    ru_status, ru_type, ru_page = console_sign_in(PASSWORD, **{"Accept-Language": "ru-RU"})

    assert (kk_status, ru_status) == (429, 429)
    assert kk_type == ru_type == "text/html; charset=utf-8 60"
    assert CONSOLE_PAUSE["kk"] in kk_page and 'id="sign-in"' in kk_page
    assert CONSOLE_PAUSE["ru"] in ru_page and 'id="sign-in"' in ru_page
