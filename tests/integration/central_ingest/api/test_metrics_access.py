"""Who may read /metrics. By default a credential: the scraper's token (``api.metrics_token``)
or the session of a supervisor, prosecutor or admin. The registry runs behind a reverse proxy
on the same host (deploy/), so "from loopback" says nothing about the caller: anonymous
loopback access is an explicit, documented-unsafe opt-in."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from central_ingest.api.auth import SESSION_COOKIE
from central_ingest.api.settings import ApiSettings, MetricsAccess
from tests.support.api import ADMIN, REVIEWER, SUPERVISOR, ApiEnv, bearer, build_env

TOKEN = secrets.token_urlsafe(32)

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path, api_settings=ApiSettings(metrics_token=SecretStr(TOKEN)))


def _assert_metrics(response_status: int, text: str) -> None:
    assert response_status == 200, text
    assert 'erap_fixations{status="awaiting_review"} 0' in text
    assert "erap_review_queue_size 0" in text


def test_anonymous_requests_are_refused_even_from_loopback_by_default(tmp_path: Path) -> None:
    """The reverse proxy on the registry host connects from 127.0.0.1 for every client."""
    env = build_env(tmp_path)  # the configuration's defaults
    assert env.app.state.api_settings.metrics_access is MetricsAccess.CREDENTIALS
    for host in ("127.0.0.1", "::1", "203.0.113.7"):
        response = env.client(host=host).get("/metrics")
        assert response.status_code == 401, (host, response.text)
        assert "erap_" not in response.text
    assert env.client(host="127.0.0.1").get("/metrics").json()["error"] == "not_authenticated"


def test_the_metrics_token_reads_the_metrics(env: ApiEnv) -> None:
    response = env.client(host="203.0.113.7").get("/metrics", headers=bearer(TOKEN))
    _assert_metrics(response.status_code, response.text)
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")


@pytest.mark.parametrize("wrong", [TOKEN[:-1], TOKEN + "x", secrets.token_urlsafe(32)])
def test_a_wrong_token_is_refused_with_a_sentence(env: ApiEnv, wrong: str) -> None:
    response = env.client(host="127.0.0.1").get("/metrics", headers=bearer(wrong))
    assert response.status_code == 401
    assert response.json()["error"] == "metrics_credentials_invalid"
    assert "api.metrics_token" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_admin_or_supervisor_session_reads_the_metrics_and_a_reviewer_does_not(
    env: ApiEnv,
) -> None:
    remote = env.client(host="203.0.113.7")
    for username in (ADMIN, SUPERVISOR):
        response = remote.get("/metrics", headers=env.headers(username))
        _assert_metrics(response.status_code, response.text)
    refused = remote.get("/metrics", headers=env.headers(REVIEWER))
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden_for_role"


def test_the_admins_console_cookie_reads_the_metrics(env: ApiEnv) -> None:
    client = env.client(host="203.0.113.7")
    client.cookies.set(SESSION_COOKIE, env.token(ADMIN))
    response = client.get("/metrics")
    _assert_metrics(response.status_code, response.text)


def test_without_a_configured_token_no_bearer_string_is_taken_for_it(tmp_path: Path) -> None:
    env = build_env(tmp_path)
    response = env.client().get("/metrics", headers=bearer(TOKEN))
    assert response.status_code == 401
    admin = env.client().get("/metrics", headers=env.headers(ADMIN))
    _assert_metrics(admin.status_code, admin.text)


def test_loopback_access_is_an_explicit_opt_in(tmp_path: Path) -> None:
    env = build_env(tmp_path, api_settings=ApiSettings(metrics_access=MetricsAccess.LOOPBACK))
    assert env.client(host="203.0.113.7").get("/metrics").status_code == 403
    response = env.client(host="127.0.0.1").get("/metrics")
    _assert_metrics(response.status_code, response.text)


def test_a_short_metrics_token_is_refused_in_the_configuration() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        ApiSettings(metrics_token=SecretStr("short"))
