"""The OpenAPI document lists every status the API really answers with.

Real requests over the real app provoke each refusal a route has (bad JSON, unsigned or
unknown devices, missing evidence, oversized bodies, rate limits, sign-in pauses, conflicts,
roles, missing sessions), and each status must be among those ``app.openapi()`` documents for
that path and method. Then, route by route, whatever depends on a session must document 401,
whatever checks a role 403, every body 400 and every input 422. schemathesis does the same at
random in .ci/run (tests/fuzz/run_schemathesis.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from central_ingest.api.auth import current_session
from central_ingest.api.routes_system import metrics_caller
from central_ingest.operators import USERNAME_PATTERN
from contract import DeviceKey, DeviceKind, EvidenceRole, MessageKind
from contract.signing import device_request_headers
from tests.support.api import (
    ADMIN,
    BAILIFF,
    PASSWORD,
    PROSECUTOR,
    REVIEWER,
    SUPERVISOR,
    ApiEnv,
    build_env,
)
from tests.support.devices import SimulatedDevice, evidence_ref, speeding_fixation
from tests.support.evidence_images import evidence_jpeg

UNKNOWN_SHA = "ab" * 32


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path)


class Checked:
    """Sends requests and records, per documented operation, the statuses they got back."""

    def __init__(self, env: ApiEnv) -> None:
        self.env = env
        self.client = env.client()
        self.schema: dict[str, Any] = env.app.openapi()
        self.templates = [
            (re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"), path)
            for path in self.schema["paths"]
        ]
        self.seen: list[tuple[str, str, int]] = []

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        bare = path.split("?", 1)[0]
        template = next(t for pattern, t in self.templates if pattern.match(bare))
        return template, self.schema["paths"][template][method.lower()]

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        answer = self.client.request(method, path, **kwargs)
        template, _ = self.operation(method, path)
        self.seen.append((method, template, answer.status_code))
        return answer

    def undocumented(self) -> list[tuple[str, str, int]]:
        return [
            (method, template, status)
            for method, template, status in self.seen
            if str(status) not in self.schema["paths"][template][method.lower()]["responses"]
        ]

    def statuses(self) -> set[int]:
        return {status for _, _, status in self.seen}


@pytest.fixture
def checked(env: ApiEnv) -> Iterator[Checked]:
    yield Checked(env)


def _device_refusals(checked: Checked, env: ApiEnv) -> None:
    world = env.world
    camera = SimulatedDevice(world.camera_id, DeviceKind.CAMERA, world.camera_key)
    stranger = SimulatedDevice("cam-stranger-0001", DeviceKind.CAMERA)
    frame = evidence_jpeg("123ABC01", seed=3)
    ref = evidence_ref(EvidenceRole.FULL_FRAME, frame)
    missing = evidence_ref(EvidenceRole.FULL_FRAME, evidence_jpeg("123ABC01", seed=4))
    message = "/v1/messages"
    assert checked.send("POST", message, content=b"{not json").status_code == 400
    assert checked.send("POST", message, content=b"{}").status_code == 422
    oversized = b"x" * (world.config.max_message_bytes + 10)
    assert checked.send("POST", message, content=oversized).status_code == 413
    unknown = stranger.seal(MessageKind.FIXATION, speeding_fixation(stranger, evidence=[ref]))
    assert checked.send("POST", message, content=unknown).status_code == 403
    early = camera.seal(MessageKind.FIXATION, speeding_fixation(camera, evidence=[missing]))
    assert checked.send("POST", message, content=early).status_code == 409

    path = f"/v1/evidence/{ref.sha256}"
    signed = device_request_headers(
        world.camera_key, world.camera_id, method="PUT", path=path, body=frame
    )
    assert checked.send("PUT", path, content=frame, headers=signed).status_code == 201
    assert checked.send("PUT", path, content=frame, headers=signed).status_code == 200
    fixation = camera.seal(MessageKind.FIXATION, speeding_fixation(camera, evidence=[ref]))
    assert checked.send("POST", message, content=fixation).status_code == 201
    assert checked.send("POST", message, content=fixation).status_code == 200
    forged = device_request_headers(
        DeviceKey.generate(), world.camera_id, method="PUT", path=path, body=frame
    )
    assert checked.send("PUT", path, content=frame, headers=forged).status_code == 403
    assert checked.send("PUT", path, content=frame).status_code == 422  # no signed headers
    chunked = checked.send("PUT", path, content=iter([frame]), headers=signed)
    assert chunked.status_code == 411
    too_big = env.app.state.device_ingest.evidence.max_bytes + 1
    declared = {**signed, "Content-Length": str(too_big)}
    assert checked.send("PUT", path, content=b"", headers=declared).status_code == 413
    lookup = "/v1/terminal/cases/by-number/KZ-NONE-1"
    terminal = device_request_headers(
        world.terminal_key, world.terminal_id, method="GET", path=lookup, body=b""
    )
    assert checked.send("GET", lookup, headers=terminal).status_code == 404
    by_camera = device_request_headers(
        world.camera_key, world.camera_id, method="GET", path=lookup, body=b""
    )
    assert checked.send("GET", lookup, headers=by_camera).status_code == 403
    assert checked.send("GET", lookup).status_code == 422
    iin = "/v1/terminal/cases/by-iin/123"
    signed_iin = device_request_headers(
        world.terminal_key, world.terminal_id, method="GET", path=iin, body=b""
    )
    assert checked.send("GET", iin, headers=signed_iin).status_code == 422

    # A source that keeps sending what cannot be verified is throttled: 429 with Retry-After.
    for _ in range(world.config.http_ingest.burst + 5):
        last = checked.send("POST", message, content=b"junk")
        if last.status_code == 429:
            break
    assert last.status_code == 429 and int(last.headers["Retry-After"]) >= 1


def _operator_refusals(checked: Checked, env: ApiEnv) -> None:
    admin, supervisor = env.headers(ADMIN), env.headers(SUPERVISOR)
    reviewer, bailiff = env.headers(REVIEWER), env.headers(BAILIFF)
    prosecutor = env.headers(PROSECUTOR)
    send = checked.send
    assert send("GET", "/v1/cases/KZ-NONE-1").status_code == 401
    assert send("GET", "/v1/cases/KZ-NONE-1", headers=bailiff).status_code == 403
    assert send("GET", "/v1/cases/KZ-NONE-1", headers=reviewer).status_code == 404
    assert send("GET", "/v1/cases", headers=reviewer).status_code == 422
    assert send("GET", "/metrics").status_code == 401
    assert send("GET", "/metrics", headers=reviewer).status_code == 403
    assert send("GET", "/v1/me").status_code == 401
    assert send("GET", f"/v1/evidence/{UNKNOWN_SHA}", headers=reviewer).status_code == 404
    assert send("GET", "/v1/audit/tree-head", headers=prosecutor).status_code == 404
    assert send("GET", "/v1/bailiffs/feed?after=-1", headers=bailiff).status_code == 422
    # Ids beyond SQLite's integers are refused as input, not a server error.
    big = str(2**70)
    decision = f"/v1/cancellation-requests/{big}/decision"
    answer = checked.send("POST", decision, headers=supervisor, json={"decision": "deny"})
    assert answer.status_code == 422
    feed = f"/v1/bailiffs/feed?after={big}"
    assert send("GET", feed, headers=bailiff).status_code == 422
    assert send("GET", f"/v1/dead-letters?before_id={big}", headers=supervisor).status_code == 422

    operators = "/v1/admin/operators"
    newcomer = {
        "username": "a.newcomer",
        "display_name": "A Newcomer",
        "role": "reviewer",
        "password": PASSWORD,
    }
    # Bytes that are not UTF-8 cannot be parsed at all: 400 (bad JSON text is 422).
    json_headers = {**admin, "Content-Type": "application/json"}
    assert send("POST", operators, headers=json_headers, content=b"\xff{").status_code == 400
    assert send("POST", operators, headers=admin, json=newcomer).status_code == 201
    assert send("POST", operators, headers=admin, json=newcomer).status_code == 409
    bad_name = {**newcomer, "username": "9 lives"}
    assert send("POST", operators, headers=admin, json=bad_name).status_code == 422
    assert send("POST", operators, headers=reviewer, json=newcomer).status_code == 403
    own = f"{operators}/{ADMIN}/deactivate"
    assert send("POST", own, headers=admin).status_code == 409
    assert send("POST", f"{operators}/nobody.here/deactivate", headers=admin).status_code == 404
    language = f"{operators}/a.newcomer/language"
    assert send("PUT", language, headers=json_headers, content=b"\xff[").status_code == 400
    assert send("PUT", language, headers=admin, json={"language": "xx"}).status_code == 422
    assert (
        send(
            "POST",
            "/v1/fixations/nothing/reject",
            headers={**reviewer, "Content-Type": "application/json"},
            content=b"\xff",
        ).status_code
        == 400
    )

    # Wrong passwords: 401 each, then the user name and address pause, 429 with Retry-After.
    token = "/v1/auth/token"
    for _ in range(20):
        last = checked.send("POST", token, data={"username": REVIEWER, "password": "wrong one!"})
        if last.status_code == 429:
            break
    assert last.status_code == 429 and int(last.headers["Retry-After"]) >= 1
    assert checked.send("POST", token, data={"username": REVIEWER}).status_code == 422


def test_every_status_a_refusal_gets_is_in_the_openapi_document(
    env: ApiEnv, checked: Checked
) -> None:
    _device_refusals(checked, env)
    _operator_refusals(checked, env)

    assert checked.undocumented() == []
    # Not vacuous: the requests above met every kind of refusal the API has.
    assert {400, 401, 403, 404, 409, 411, 413, 422, 429} <= checked.statuses()


def test_retry_after_is_documented_where_the_registry_sends_it(checked: Checked) -> None:
    for method, path in (("post", "/v1/messages"), ("post", "/v1/auth/token")):
        too_many = checked.schema["paths"][path][method]["responses"]["429"]
        assert "Retry-After" in too_many["headers"], path
        assert too_many["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }


def test_the_new_operator_schema_carries_the_user_name_pattern(checked: Checked) -> None:
    body = checked.schema["paths"]["/v1/admin/operators"]["post"]["requestBody"]
    reference = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    username = checked.schema["components"]["schemas"][reference]["properties"]["username"]
    assert username["pattern"] == USERNAME_PATTERN.pattern
    assert re.fullmatch(username["pattern"], "a.seitkali")
    assert not re.fullmatch(username["pattern"], "9 lives")


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def test_every_route_documents_the_refusals_its_dependencies_can_give(env: ApiEnv) -> None:
    schema = env.app.openapi()
    missing: list[str] = []
    checked = guarded = 0
    # Included routers are nested (FastAPI 0.165): walk the routes as the app serves them.
    for context in iter_route_contexts(env.app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.include_in_schema:
            continue
        checked += 1
        calls = list(_calls(route.dependant))
        names = {getattr(call, "__name__", "") for call in calls}
        needs: set[str] = set()
        if current_session in calls or metrics_caller in calls:
            needs.add("401")
        if "operator_with_role" in names or metrics_caller in calls:
            needs.add("403")
        guarded += "403" in needs
        for method in context.methods or ():
            operation = schema["paths"][context.path_format][method.lower()]
            wanted = set(needs)
            if "requestBody" in operation:
                wanted |= {"400", "422"}
            if operation.get("parameters"):
                wanted.add("422")
            missing += [
                f"{method} {context.path_format}: {status}"
                for status in sorted(wanted - set(operation["responses"]))
            ]
    assert missing == []
    assert checked == sum(len(operations) for operations in schema["paths"].values())
    assert guarded > 25  # the role checks were found (the operators' API is most routes)


def test_the_checks_above_catch_a_route_that_hides_a_refusal(env: ApiEnv) -> None:
    """The document checker itself: a status left out of the document is reported."""
    checked = Checked(env)
    checked.send("GET", "/v1/me")
    del checked.schema["paths"]["/v1/me"]["get"]["responses"]["401"]
    assert checked.undocumented() == [("GET", "/v1/me", 401)]
