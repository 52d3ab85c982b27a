"""The API's refusals in the reader's language, over a real SQLite registry and the real
catalogs: the machine code never changes, the sentence follows Accept-Language (the registry's
configured language when the header names none of kk, ru, en), and Content-Language says which
one was used. Also: an administrator sets an operator's language, over HTTP and on the host."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from central_ingest.api.app import create_app
from central_ingest.cli.operators import PASSWORD_ENV, operators_app
from central_ingest.operators import FAILED_LOGIN_LIMIT, Role, TooManyAttempts
from i18n import translator
from tests.support.api import (
    ADMIN,
    BASE_URL,
    PROSECUTOR,
    REVIEWER,
    SUPERVISOR,
    ApiEnv,
    bearer,
    build_env,
)
from tests.support.registry_fixtures import RegistryWorld

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")

MISSING_CASE = "KZ-GP-2025-9999999"
MISSING_FIXATION = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path)


def _get(
    client: TestClient, path: str, language: str | None, headers: dict[str, str] | None = None
) -> httpx.Response:
    sent = dict(headers or {})
    if language is not None:
        sent["Accept-Language"] = language
    return client.get(path, headers=sent)


def _refusal(response: httpx.Response, status: int, code: str) -> str:
    """The detail of a refusal, once its status, code and Content-Language are checked."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == code
    assert "Accept-Language" in response.headers["Vary"]
    detail: str = body["detail"]
    return detail


@pytest.mark.parametrize(
    ("accept_language", "language", "detail"),
    [
        ("kk", "kk", f"{MISSING_CASE} нөмірлі іс табылмады."),
        ("ru-RU,ru;q=0.9", "ru", f"Дело {MISSING_CASE} не найдено."),
        ("en", "en", f"There is no case {MISSING_CASE}."),
        ("en-US,en;q=0.9,kk;q=0.8", "en", f"There is no case {MISSING_CASE}."),
        ("ru;q=0.3, kk;q=0.7", "kk", f"{MISSING_CASE} нөмірлі іс табылмады."),
        # none of ours, or no header: the registry's default (ru unless configured)
        ("de-DE,fr;q=0.8", "ru", f"Дело {MISSING_CASE} не найдено."),
        (None, "ru", f"Дело {MISSING_CASE} не найдено."),
    ],
)
def test_a_missing_case_is_refused_in_the_language_the_request_asks_for(
    env: ApiEnv, accept_language: str | None, language: str, detail: str
) -> None:
    response = _get(
        env.client(), f"/v1/cases/{MISSING_CASE}", accept_language, env.headers(REVIEWER)
    )
    assert _refusal(response, 404, "case_not_found") == detail
    assert response.headers["Content-Language"] == language


def test_the_default_language_is_the_registrys_configured_one(tmp_path: Path) -> None:
    world = RegistryWorld.create(tmp_path, language="kk")
    client = TestClient(create_app(world.config, store=world.store), base_url=BASE_URL)
    response = _get(client, "/v1/me", "de, fr;q=0.5")
    detail = _refusal(response, 401, "not_authenticated")
    assert response.headers["Content-Language"] == "kk"
    assert detail.startswith("Алдымен жүйеге кіріңіз")
    # A header naming one of ours still wins over the configured default.
    assert _get(client, "/v1/me", "ru").headers["Content-Language"] == "ru"


def test_a_conflict_names_the_case_and_the_waiting_request_in_every_language(
    env: ApiEnv,
) -> None:
    case_number = env.world.open_case()
    client = env.client()
    path = f"/v1/cases/{case_number}/cancellation-requests"
    first = client.post(path, json={"reason": "wrong owner"}, headers=env.headers(REVIEWER))
    assert first.status_code == 201, first.text
    request_id = first.json()["request_id"]

    details = {}
    for language in ("kk", "ru", "en"):
        again = client.post(
            path,
            json={"reason": "wrong owner"},
            headers={**env.headers(REVIEWER), "Accept-Language": language},
        )
        details[language] = _refusal(again, 409, "cancellation_pending")
        assert again.headers["Content-Language"] == language
    assert details == {
        "kk": f"{case_number} нөмірлі іс бойынша шешім күтіп тұрған № {request_id} күшін жою"
        " туралы сұрау бар.",
        "ru": f"По делу {case_number} уже есть запрос на отмену № {request_id}, ожидающий решения.",
        "en": f"Case {case_number} already has cancellation request {request_id} waiting for a"
        " decision.",
    }


def test_authentication_refusals_tell_the_reader_to_sign_in(env: ApiEnv) -> None:
    client = env.client()
    anonymous = _get(client, "/v1/me", "kk")
    assert _refusal(anonymous, 401, "not_authenticated") == (
        "Алдымен жүйеге кіріңіз: bearer токенін немесе сеанстың cookie файлын жіберіңіз."
    )
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    stale = _get(client, "/v1/me", "ru", bearer("not-a-session"))
    assert _refusal(stale, 401, "session_invalid") == (
        "Сеанс истёк или был завершён; войдите снова."
    )
    wrong = client.post(
        "/v1/auth/token",
        data={"username": REVIEWER, "password": "not the password"},
        headers={"Accept-Language": "kk"},
    )
    assert _refusal(wrong, 401, "authentication_failed") == (
        "Пайдаланушы аты немесе құпиясөз қате, не тіркелгінің әрекеті тоқтатылған."
    )


def test_validation_refusals_translate_the_sentence_and_keep_each_problem(env: ApiEnv) -> None:
    answers = {
        language: env.client().post(
            "/v1/admin/operators",
            json={"username": "x"},
            headers={**env.headers(ADMIN), "Accept-Language": language},
        )
        for language in ("kk", "ru", "en")
    }
    details = {language: _refusal(r, 422, "invalid_request") for language, r in answers.items()}
    problems = [answer.json()["problems"] for answer in answers.values()]
    # The per-field problems are the validator's own words, the same for every reader.
    assert problems[0] == problems[1] == problems[2]
    locations = [problem["location"] for problem in problems[0]]
    assert "body.password" in locations
    assert details["kk"].startswith("Сұрау дұрыс толтырылмаған: body.")
    assert details["ru"].startswith("Запрос заполнен неверно: body.")
    assert details["en"].startswith("The request is not valid: body.")
    for detail in details.values():
        assert all(location in detail for location in locations)


def test_a_rule_of_the_registry_is_refused_in_the_readers_language(env: ApiEnv) -> None:
    fixation_id = env.world.add_fixation()
    response = env.client().post(
        f"/v1/fixations/{fixation_id}/reject",
        json={"reason": "other", "seconds_spent": 3},
        headers={**env.headers(REVIEWER), "Accept-Language": "ru"},
    )
    # The reason inside the sentence is its label in the same language.
    assert _refusal(response, 422, "reject_note_required") == (
        "При отклонении по причине «иная причина» нужно примечание с пояснением."
    )


def test_role_refusals_name_the_roles_in_the_readers_language(env: ApiEnv) -> None:
    path = f"/v1/fixations/{MISSING_FIXATION}/confirm"
    details = {
        language: _refusal(
            env.client().post(
                path,
                json={"seconds_spent": 4},
                headers={**env.headers(PROSECUTOR), "Accept-Language": language},
            ),
            403,
            "forbidden_for_role",
        )
        for language in ("kk", "ru", "en")
    }
    assert details == {
        "kk": "«прокурор» рөліне бұл әрекетке рұқсат жоқ; ол тек мына рөлдерге рұқсат етілген:"
        " тексеруші қызметкер, басшы.",
        "ru": "Роли «прокурор» это действие не разрешено; оно доступно только ролям:"
        " проверяющий сотрудник, руководитель.",
        "en": "The role “prosecutor” may not do this; it is reserved to: reviewing officer,"
        " supervisor.",
    }


def test_the_sign_in_pause_counts_its_minutes_in_russian_plural_forms(env: ApiEnv) -> None:
    ru = translator("registry", "ru")
    kk = translator("registry", "kk")
    rendered = {n: ru.text(TooManyAttempts(n).text) for n in (1, 3, 15, 21)}
    assert "через 1 минуту " in rendered[1]
    assert "через 3 минуты " in rendered[3]
    assert "через 15 минут " in rendered[15]
    assert "через 21 минуту " in rendered[21]
    assert "3 минуттан кейін" in kk.text(TooManyAttempts(3).text)

    client = env.client()
    for _ in range(FAILED_LOGIN_LIMIT):
        client.post("/v1/auth/token", data={"username": SUPERVISOR, "password": "wrong one!"})
    paused = client.post(
        "/v1/auth/token",
        data={"username": SUPERVISOR, "password": "wrong one!"},
        headers={"Accept-Language": "ru-KZ"},
    )
    # The first pause of a (user name, source) pair is a minute; it grows with more failures.
    assert "через 1 минуту " in _refusal(paused, 429, "too_many_attempts")
    assert paused.headers["Retry-After"] == "60"


def test_refusals_of_the_framework_itself_are_translated_sentences(env: ApiEnv) -> None:
    nowhere = _get(env.client(), "/v1/no-such-thing", "kk")
    assert _refusal(nowhere, 404, "not_found") == "Мұндай ресурс жоқ."
    wrong_method = env.client().delete("/v1/me", headers={"Accept-Language": "ru"})
    assert _refusal(wrong_method, 405, "method_not_allowed") == (
        "Этот ресурс не поддерживает данный метод запроса."
    )
    assert wrong_method.headers["Content-Language"] == "ru"


def test_device_refusals_stay_machine_codes_with_english_details(env: ApiEnv) -> None:
    """A device cannot read; its technician reads the code and the log. Before the signature
    is checked the caller may not even be the device it claims to be."""
    response = env.client().get(
        "/v1/terminal/cases/by-plate/123ABC01",
        headers={
            "X-Erap-Device": "term-unknown-9",
            "X-Erap-Signed-At": "not a time",
            "X-Erap-Signature": "x",
            "Accept-Language": "kk",
        },
    )
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "request_not_authenticated"
    assert "is not an ISO 8601 time" in body["detail"]


def test_the_openapi_document_says_detail_follows_accept_language(env: ApiEnv) -> None:
    schema = env.client().get("/openapi.json").json()
    body = schema["components"]["schemas"]["ErrorBody"]
    assert "Accept-Language" in body["properties"]["detail"]["description"]
    assert "Content-Language" in body["properties"]["detail"]["description"]
    assert "never changes with the language" in body["properties"]["error"]["description"]


# --- the operator's language, set by an administrator ----------------------------------------


def test_an_administrator_sets_and_clears_an_operators_language(env: ApiEnv) -> None:
    client = env.client()
    admin = env.headers(ADMIN)
    listed = {o["username"]: o for o in client.get("/v1/admin/operators", headers=admin).json()}
    assert listed[REVIEWER]["language"] is None

    path = f"/v1/admin/operators/{REVIEWER}/language"
    changed = client.put(path, json={"language": "kk"}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["language"] == "kk"
    stored = env.operators.get(REVIEWER)
    assert stored is not None and stored.language == "kk"
    assert client.get("/v1/me", headers=env.headers(REVIEWER)).json()["language"] == "kk"

    cleared = client.put(path, json={"language": None}, headers=admin)
    assert cleared.status_code == 200 and cleared.json()["language"] is None
    stored = env.operators.get(REVIEWER)
    assert stored is not None and stored.language is None


def test_only_our_languages_and_known_operators_are_accepted(env: ApiEnv) -> None:
    client = env.client()
    admin = {**env.headers(ADMIN), "Accept-Language": "kk"}
    german = client.put(
        f"/v1/admin/operators/{REVIEWER}/language", json={"language": "de"}, headers=admin
    )
    _refusal(german, 422, "invalid_request")
    assert [p["location"] for p in german.json()["problems"]] == ["body.language"]
    missing = client.put("/v1/admin/operators/nobody/language", json={}, headers=admin)
    assert [p["location"] for p in missing.json()["problems"]] == ["body.language"]
    unknown = client.put(
        "/v1/admin/operators/nobody/language", json={"language": "ru"}, headers=admin
    )
    assert _refusal(unknown, 404, "unknown_operator") == (
        "Пайдаланушы аты nobody болатын оператор жоқ."
    )
    reviewer = client.put(
        f"/v1/admin/operators/{REVIEWER}/language",
        json={"language": "ru"},
        headers=env.headers(REVIEWER),
    )
    _refusal(reviewer, 403, "forbidden_for_role")


def test_the_operators_command_sets_a_language(tmp_path: Path) -> None:
    data_dir = tmp_path / "registry"
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(
            operators_app,
            [*args, "--data-dir", str(data_dir)],
            env={PASSWORD_ENV: "a long reviewer password"},
        )

    added = run("add", "rev.cli", "--role", Role.REVIEWER.value, "--display-name", "Rev Cli")
    assert added.exit_code == 0, added.output

    def language_listed() -> object:
        (operator,) = json.loads(run("list", "--json").output)
        return operator["language"]

    assert language_listed() is None
    set_kk = run("language", "rev.cli", "kk")
    assert set_kk.exit_code == 0, set_kk.output
    assert "kk" in set_kk.output and language_listed() == "kk"
    assert run("language", "REV.CLI", "ru-KZ").exit_code == 0
    assert language_listed() == "ru"
    assert run("language", "rev.cli", "default").exit_code == 0
    assert language_listed() is None

    unknown_language = run("language", "rev.cli", "kz")
    assert unknown_language.exit_code == 2
    assert "kk, ru, en" in unknown_language.output and language_listed() is None
    unknown_operator = run("language", "nobody", "kk")
    assert unknown_operator.exit_code == 1
    # The command line speaks the registry's language (ru unless configured); --language and
    # ERAP_LANGUAGE choose another (tests/integration/central_ingest/cli/test_languages.py).
    assert "Оператора с именем пользователя nobody нет." in unknown_operator.output
