"""The operators' API over HTTP for bailiffs, oversight and audit, on both stores: the bailiffs'
feed with its cursor, the supervisors' and prosecutors' reports, and the prosecutor's audit
with inclusion proofs. Who may call what is in test_routes.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from central_ingest.audit import load_or_create_registry_key, sign_tree_head
from central_ingest.core import merkle
from central_ingest.core.cases import RejectReason
from central_ingest.store.dead_letters import record_dead_letter
from tests.support.api import (
    BAILIFF,
    PROSECUTOR,
    SUPERVISOR,
    ApiEnv,
    build_env,
)
from tests.support.registry_fixtures import (
    OWNER_PERSON,
    OWNER_SECOND,
    REVIEWERS,
    RegistryWorld,
)

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")

MISSING_CASE = "KZ-GP-2025-9999999"


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path, tell_drivers=True)


def _client(env: ApiEnv, username: str) -> TestClient:
    client = env.client()
    client.headers.update(env.headers(username))
    return client


def _ledger_actors(world: RegistryWorld, entity_type: str, entity_id: str) -> list[str]:
    return [entry["actor"] for entry in world.ledger(entity_type, entity_id)]


# --- bailiffs ---------------------------------------------------------------------------------


def _feed(env: ApiEnv, after: int) -> tuple[list[dict[str, Any]], int]:
    response = env.client().get(
        "/v1/bailiffs/feed", params={"after": after}, headers=env.headers(BAILIFF)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    return lines, int(response.headers["x-next-after"])


def test_bailiffs_poll_handovers_and_recalls_as_json_lines_with_a_cursor(env: ApiEnv) -> None:
    overdue = env.world.open_case()
    paid_later = env.world.open_case(plate=OWNER_SECOND.plate)
    env.world.clock.advance(days=60)
    assert sorted(env.world.registry.hand_over_overdue()) == sorted([overdue, paid_later])

    lines, cursor = _feed(env, 0)
    assert [line["kind"] for line in lines] == ["handover", "handover"]
    assert {line["case_number"] for line in lines} == {overdue, paid_later}
    assert [line["seq"] for line in lines] == sorted(line["seq"] for line in lines)
    assert cursor == lines[-1]["seq"]
    assert lines[0]["document"]["debtor"]["id"] in {OWNER_PERSON.owner_id, OWNER_SECOND.owner_id}

    assert _feed(env, cursor) == ([], cursor)

    env.world.pay(paid_later, 10_000_000)
    recalls, next_cursor = _feed(env, cursor)
    assert [(line["kind"], line["case_number"]) for line in recalls] == [("recall", paid_later)]
    assert next_cursor > cursor

    one = env.client().get(
        "/v1/bailiffs/feed", params={"after": 0, "limit": 1}, headers=env.headers(BAILIFF)
    )
    assert len(one.text.splitlines()) == 1
    bad = env.client().get("/v1/bailiffs/feed", params={"after": -1}, headers=env.headers(BAILIFF))
    assert bad.status_code == 422


# --- reports ----------------------------------------------------------------------------------


def test_oversight_reports(env: ApiEnv) -> None:
    world = env.world
    for _ in range(3):
        fixation_id = world.add_fixation()
        world.registry.reject_fixation(
            fixation_id, REVIEWERS[1], reason=RejectReason.PLATE_UNREADABLE, seconds_spent=2
        )
    case_number = world.open_case()
    world.pay("KZ-GP-2099-0000001", 5_000)  # no such case: someone must follow it up
    with world.store.transaction() as db:
        record_dead_letter(
            db,
            received_at="2025-03-10T06:00:00.000000+00:00",
            channel="mqtt",
            reason="bad_signature",
            detail="the signature does not verify",
            payload=b"{}",
            device_id="cam-astana-0001",
        )
    supervisor = _client(env, SUPERVISOR)

    limitation = supervisor.get("/v1/reports/limitation", params={"within_days": 3660}).json()
    assert [row["case_number"] for row in limitation] == [case_number]
    assert limitation[0]["days_left"] > 300

    removals = supervisor.get(
        "/v1/reports/removals", params={"by": "officer", "min_events": 1}
    ).json()
    by_officer = {row["key"]: row for row in removals}
    assert by_officer[REVIEWERS[1]]["rejected"] == 3
    assert by_officer[REVIEWERS[1]]["rejection_reasons"] == {"plate_unreadable": 3}
    assert removals[0]["key"] == REVIEWERS[1]  # the outlier comes first
    assert supervisor.get("/v1/reports/removals", params={"by": "colour"}).status_code == 422

    payments = supervisor.get("/v1/reports/payments").json()
    assert [(row["case_number"], row["match_status"]) for row in payments] == [
        ("KZ-GP-2099-0000001", "unknown_case"),
    ]

    letters = supervisor.get("/v1/dead-letters").json()
    assert [(row["reason"], row["payload_bytes"]) for row in letters] == [("bad_signature", 2)]
    summary = supervisor.get("/v1/dead-letters/summary").json()
    assert [(row["reason"], row["count"]) for row in summary] == [("bad_signature", 1)]
    sources = supervisor.get("/v1/dead-letters/sources").json()
    assert [(row["count"], row["signed"]) for row in sources] == [(1, 0)]
    assert supervisor.get("/v1/dead-letters", params={"reason": "other"}).json() == []

    metrics = supervisor.get("/metrics").text
    assert 'erap_dead_letters{reason="bad_signature"} 1' in metrics
    assert 'erap_fixations{status="rejected"} 3' in metrics
    assert 'erap_fixations{status="confirmed"} 1' in metrics
    assert 'erap_cases{status="open"} 1' in metrics
    assert "erap_review_queue_size 0" in metrics


# --- audit ------------------------------------------------------------------------------------


def test_the_prosecutor_audits_a_case_with_inclusion_proofs(env: ApiEnv) -> None:
    world = env.world
    case_number = world.open_case()
    prosecutor = _client(env, PROSECUTOR)
    assert prosecutor.get("/v1/audit/tree-head").status_code == 404
    assert prosecutor.get("/v1/audit/verify").json()["error"] == "registry_key_missing"

    key = load_or_create_registry_key(world.config.registry_key_path)
    signed = sign_tree_head(world.store, key, world.clock.now)
    assert signed is not None

    head = prosecutor.get("/v1/audit/tree-head").json()
    assert head["tree_size"] == signed.tree_size
    assert head["root_hash"] == signed.root_hash

    report = prosecutor.get("/v1/audit/verify", params={"case_number": case_number}).json()
    assert report["ok"] is True, report["problems"]
    assert report["inclusion_proofs_checked"] > 0

    history = prosecutor.get(f"/v1/audit/cases/{case_number}").json()
    decisions = [
        (item["entry"]["entity_type"], item["entry"]["action"], item["entry"]["actor"])
        for item in history["entries"]
    ]
    assert ("fixation", "confirmed", f"officer:{REVIEWERS[0]}") in decisions
    assert ("case", "opened", f"officer:{REVIEWERS[0]}") in decisions
    root = bytes.fromhex(history["tree_head"]["root_hash"])
    for item in history["entries"]:
        path = [bytes.fromhex(node) for node in item["audit_path"]]
        assert merkle.verify_inclusion(
            bytes.fromhex(item["leaf_hash"]), item["leaf_index"], head["tree_size"], path, root
        )
    assert prosecutor.get(f"/v1/audit/cases/{MISSING_CASE}").status_code == 404


def test_verify_over_http_catches_an_edit_behind_the_services_back(env: ApiEnv) -> None:
    world = env.world
    case_number = world.open_case()
    key = load_or_create_registry_key(world.config.registry_key_path)
    sign_tree_head(world.store, key, world.clock.now)
    with world.store.transaction() as db:
        db.conn.execute("UPDATE cases SET paid_minor = 100 WHERE case_number = ?", (case_number,))
    report = (
        _client(env, PROSECUTOR)
        .get("/v1/audit/verify", params={"public_key": key.public_key_b64})
        .json()
    )
    assert report["ok"] is False
    assert any(case_number in problem for problem in report["problems"])
