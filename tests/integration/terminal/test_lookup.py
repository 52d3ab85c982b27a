"""The registry's case lookup for payment terminals: device-signed requests only, from an
active terminal, the key in the signed path, the amount due computed by the registry."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from contract import DeviceKey, now_utc
from contract.signing import device_request_headers
from i18n import translator
from terminal.registry_client import RegistryClient, RegistryUnavailable
from tests.support.api import ApiEnv, build_env
from tests.support.registry_fixtures import OWNER_PERSON


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path)


def _signed_get(
    env: ApiEnv,
    path: str,
    *,
    device_id: str | None = None,
    key: DeviceKey | None = None,
    signed_path: str | None = None,
    language: str | None = None,
) -> tuple[int, dict[str, Any]]:
    world = env.world
    headers = device_request_headers(
        key or world.terminal_key,
        device_id or world.terminal_id,
        method="GET",
        path=signed_path or path,
        body=b"",
    )
    if language is not None:
        headers = {**headers, "Accept-Language": language}
    response = env.client().get(path, headers=headers)
    return response.status_code, response.json()


def test_lookup_by_number_plate_and_iin_returns_the_amount_due_now(env: ApiEnv) -> None:
    world = env.world
    world.clock.set(now_utc() - timedelta(days=2))
    case_number = world.open_case()
    code, body = _signed_get(env, f"/v1/terminal/cases/by-number/{case_number}")
    assert code == 200
    (case,) = body["cases"]
    assert case["amount_due_now_minor"] == case["discounted_minor"] == case["full_minor"] // 2
    assert "owner_name" not in case and "owner_phone" not in case
    world.clock.advance(days=8)  # past the discount deadline: the full amount
    _, body = _signed_get(env, f"/v1/terminal/cases/by-plate/{OWNER_PERSON.plate}")
    assert [c["amount_due_now_minor"] for c in body["cases"]] == [case["full_minor"]]
    _, body = _signed_get(env, f"/v1/terminal/cases/by-iin/{OWNER_PERSON.owner_id}")
    assert [c["case_number"] for c in body["cases"]] == [case_number]


def test_iin_with_a_wrong_check_digit_is_refused(env: ApiEnv) -> None:
    code, body = _signed_get(env, "/v1/terminal/cases/by-iin/821214240092", language="en")
    assert code == 422 and body["error"] == "invalid_iin" and "check digit" in body["detail"]
    # The officer at the terminal reads it in the terminal's language; the code stays.
    code, body = _signed_get(env, "/v1/terminal/cases/by-iin/821214240092", language="kk")
    assert (code, body["error"]) == (422, "invalid_iin")
    assert body["detail"].startswith("821214240092 — жарамсыз ЖСН")


def test_unknown_case_is_not_found(env: ApiEnv) -> None:
    code, _ = _signed_get(env, "/v1/terminal/cases/by-number/KZ-GP-2026-9999999")
    assert code == 404


def test_a_camera_may_not_look_up_cases(env: ApiEnv) -> None:
    world = env.world
    code, body = _signed_get(
        env, "/v1/terminal/cases/by-plate/123ABC01", device_id=world.camera_id, key=world.camera_key
    )
    assert code == 403 and "not a payment terminal" in body["detail"]


def test_a_signature_for_another_lookup_or_key_is_refused(env: ApiEnv) -> None:
    code, body = _signed_get(
        env,
        "/v1/terminal/cases/by-plate/456DEF02",
        signed_path="/v1/terminal/cases/by-plate/123ABC01",
    )
    assert code == 403 and "does not verify" in body["detail"]
    code, _ = _signed_get(env, "/v1/terminal/cases/by-plate/123ABC01", key=DeviceKey.generate())
    assert code == 403


def test_an_unsigned_lookup_is_refused(env: ApiEnv) -> None:
    response = env.client().get("/v1/terminal/cases/by-plate/123ABC01")
    assert response.status_code == 422
    assert "x-erap-signature" in response.json()["detail"]


def test_the_terminals_client_asks_for_the_officers_language(env: ApiEnv) -> None:
    """The terminal's own client sends its language (Accept-Language), so the registry's
    reason reaches the officer in the same language as the terminal's sentence around it."""
    world = env.world
    client = RegistryClient(env.client(), world.terminal_id, world.terminal_key, language="kk")
    with pytest.raises(RegistryUnavailable) as refused:
        client.cases_by_iin("821214240092")
    shown = translator("terminal", "kk").text(refused.value.text)
    assert shown.startswith("Тізілім іздеуден бас тартты: 821214240092 — жарамсыз ЖСН")
    russian = RegistryClient(env.client(), world.terminal_id, world.terminal_key, language="ru")
    with pytest.raises(RegistryUnavailable) as refused:
        russian.cases_by_iin("821214240092")
    shown = translator("terminal", "ru").text(refused.value.text)
    assert shown.startswith("Реестр отказал в поиске: 821214240092 — неверный ИИН")
