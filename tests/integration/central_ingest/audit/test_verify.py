"""The audit trail on a real registry file: signed tree heads, case proofs, and the verifier
catching edits made behind the service's back with the sqlite3 shell."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from central_ingest.audit import (
    AuditReport,
    RegistryKeyError,
    TreeHead,
    TreeHeadRefused,
    UnknownCase,
    case_inclusion_proofs,
    key_id,
    latest_tree_head,
    load_or_create_registry_key,
    sign_tree_head,
    verify_registry,
)
from central_ingest.cli import app
from central_ingest.core import merkle
from central_ingest.core.clock import iso
from central_ingest.store.db import open_store
from central_ingest.store.ledger import append_entry
from contract import DeviceKey
from tests.support.audit_registry import (
    CASE_CANCELLED,
    CASE_PAID,
    REPO_ROOT,
    START,
    Registry,
    build_registry,
)
from tests.support.stores import registry_target

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    built = build_registry(tmp_path)
    yield built
    built.store.close()


def _ledger_rows(registry: Registry) -> list[dict[str, Any]]:
    rows = registry.store.db.conn.execute(
        "SELECT seq, recorded_at, entity_type, entity_id, action, actor, payload FROM ledger"
        " ORDER BY seq"
    ).fetchall()
    keys = ("seq", "recorded_at", "entity_type", "entity_id", "action", "actor", "payload")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _cli(registry: Registry, *args: str) -> tuple[int, str]:
    """``erap-registry --language en audit ARGS``: these tests read the English sentences (the
    Kazakh and Russian ones are checked in central_ingest/cli/test_languages.py)."""
    result = CliRunner().invoke(
        app,
        ["--language", "en", "audit", *args, "--data-dir", str(registry.config.data_dir)],
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def _mentions(report: AuditReport, *words: str) -> list[str]:
    """The problems (in English, as logs read them) holding every word, ignoring case: a
    sentence may start with the word."""
    sentences = [str(problem) for problem in report.problems]
    return [s for s in sentences if all(word.lower() in s.lower() for word in words)]


# --- an untouched registry ------------------------------------------------------------------


def test_an_untouched_registry_verifies(registry: Registry) -> None:
    report = registry.verify(CASE_PAID)
    assert report.ok, report.problems
    assert report.entries_checked == len(_ledger_rows(registry)) == 15
    assert report.tree_heads_checked == 2
    assert report.records_checked == 5  # three fixations, two cases
    assert report.inclusion_proofs_checked == 5  # fixation x2, case x2, payment
    assert report.warnings == []

    code, output = _cli(registry, "verify", "--case", CASE_PAID)
    assert code == 0, output
    assert "OK: no sign of tampering." in output


def test_a_case_proof_covers_its_whole_history_and_verifies_independently(
    registry: Registry,
) -> None:
    proofs = case_inclusion_proofs(registry.store, CASE_PAID)
    head = proofs.tree_head
    assert head is not None and head == latest_tree_head(registry.store)
    assert head.signature_valid(registry.key.public_key_b64)
    kinds = [(p.entry.entity_type, p.entry.action) for p in proofs.entries]
    assert kinds == [
        ("fixation", "received"),
        ("fixation", "confirmed"),
        ("case", "opened"),
        ("payment", "received"),
        ("case", "paid"),
    ]
    root = bytes.fromhex(head.root_hash)
    for proof in proofs.entries:
        assert proof.audit_path is not None
        assert merkle.verify_inclusion(
            proof.entry.leaf_hash, proof.leaf_index, head.tree_size, proof.audit_path, root
        )

    code, output = _cli(registry, "case-proof", "--case", CASE_PAID)
    assert code == 0
    printed = json.loads(output)
    assert [entry["seq"] for entry in printed["entries"]] == [p.entry.seq for p in proofs.entries]
    assert printed["tree_head"]["root_hash"] == head.root_hash


def test_an_unknown_case_is_refused_rather_than_reported_as_tampering(registry: Registry) -> None:
    with pytest.raises(UnknownCase):
        case_inclusion_proofs(registry.store, "KZ-GP-2025-999999")
    code, output = _cli(registry, "verify", "--case", "KZ-GP-2025-999999")
    assert code == 2
    assert "not in the registry" in output


def test_entries_newer_than_the_latest_head_are_noted_not_flagged(registry: Registry) -> None:
    with registry.store.transaction() as db:
        append_entry(
            db,
            recorded_at=registry.tick(),
            entity_type="operator",
            entity_id="olga",
            action="password_changed",
            actor="officer:olga",
            payload={},
        )
    report = registry.verify(CASE_PAID)
    assert report.ok
    assert [str(warning) for warning in report.warnings] == [
        "1 ledger entry is newer than the latest signed tree head (size 15) and is covered only"
        " by the hash chain."
    ]


# --- signing tree heads ---------------------------------------------------------------------


def test_a_tree_head_is_signed_only_when_the_ledger_has_grown(registry: Registry) -> None:
    before = latest_tree_head(registry.store)
    assert sign_tree_head(registry.store, registry.key, registry.clock) is None
    with registry.store.transaction() as db:
        append_entry(
            db,
            recorded_at=registry.tick(),
            entity_type="device",
            entity_id="cam-001",
            action="revoked",
            actor="officer:sam",
            payload={"reason": "stolen"},
        )
    head = registry.sign()
    assert before is not None and head.tree_size == before.tree_size + 1
    assert head.key_id == key_id(registry.key.public_key_b64)
    assert head.timestamp == iso(registry.clock)
    leaves = [
        bytes.fromhex(value)
        for (value,) in registry.store.db.conn.execute("SELECT leaf_hash FROM ledger ORDER BY seq")
    ]
    assert head.root_hash == merkle.root_hash(merkle.InMemoryTree(leaves), len(leaves)).hex()
    assert latest_tree_head(registry.store) == head


def test_the_cli_signs_a_head_and_prints_it_for_the_outside_party(registry: Registry) -> None:
    with registry.store.transaction() as db:
        append_entry(
            db,
            recorded_at=registry.tick(),
            entity_type="device",
            entity_id="cam-001",
            action="revoked",
            actor="officer:sam",
            payload={"reason": "stolen"},
        )
    code, output = _cli(registry, "sign-tree-head")
    assert code == 0
    printed = TreeHead.from_json(json.loads(output))
    assert printed == latest_tree_head(registry.store)
    assert printed.signature_valid(registry.key.public_key_b64)
    code, output = _cli(registry, "sign-tree-head")
    assert code == 0 and "nothing signed" in output

    code, output = _cli(registry, "public-key")
    assert json.loads(output)["public_key"] == registry.key.public_key_b64


def test_the_registry_key_is_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "registry.pem"
    key = load_or_create_registry_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_registry_key(path).public_key_b64 == key.public_key_b64
    assert [p.name for p in path.parent.iterdir()] == ["registry.pem"]
    os.chmod(path, 0o644)
    with pytest.raises(RegistryKeyError, match="chmod 600"):
        load_or_create_registry_key(path)


# --- tampering behind the service's back ----------------------------------------------------


@pytest.mark.sqlite_only
def test_an_entry_edited_with_the_sqlite3_shell_fails_verify_naming_its_seq(
    registry: Registry,
) -> None:
    registry.shell(
        "DROP TRIGGER ledger_no_update; UPDATE ledger SET actor='officer:mallory' WHERE seq=3"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "central_ingest",
            "--language",
            "en",
            "audit",
            "verify",
            "--data-dir",
            str(registry.config.data_dir),
            "--case",
            CASE_PAID,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "TAMPERING DETECTED" in result.stdout
    assert "Ledger entry seq 3 (device cam-001, registered by officer:mallory) was altered" in (
        result.stdout
    )
    assert "tree head at size 6 does not match the ledger" in result.stdout


@pytest.mark.sqlite_only
def test_a_deleted_ledger_row_is_found(registry: Registry) -> None:
    registry.shell("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq = 8")
    report = registry.verify()
    assert not report.ok
    assert _mentions(report, "ledger entry seq 8 is missing")
    assert _mentions(report, "tree head at size 15 cannot be reproduced")
    assert not _mentions(report, "seq 9")  # the gap is reported once, not as a broken link
    code, output = _cli(registry, "verify")
    assert code == 1 and "seq 8 is missing" in output


@pytest.mark.sqlite_only
def test_the_newest_entries_deleted_are_found_by_the_signed_size(registry: Registry) -> None:
    registry.shell(
        "DROP TRIGGER ledger_no_delete; DROP TRIGGER merkle_no_delete;"
        " DELETE FROM ledger WHERE seq >= 14;"
        " DELETE FROM merkle_nodes WHERE ((idx + 1) << level) > 13"
    )
    report = registry.verify()
    assert _mentions(report, "tree head at size 15 covers more entries than the ledger holds (13)")
    assert not _mentions(report, "Merkle node")


@pytest.mark.sqlite_only
def test_a_case_status_edited_behind_the_service_is_found(registry: Registry) -> None:
    # The schema's own guards refuse this edit, so the intruder drops them first.
    registry.shell(
        "DROP TRIGGER case_closed_stays_closed; DROP TRIGGER case_cancelled_needs_approval;"
        f" UPDATE cases SET status='cancelled' WHERE case_number='{CASE_PAID}'"
    )
    report = registry.verify()
    assert [str(problem) for problem in report.problems] == [
        f"Table cases, row {CASE_PAID}: status is 'cancelled' but the ledger says 'paid'"
        " (seq 11): the row was edited behind the service's back."
    ]
    code, output = _cli(registry, "verify")
    assert code == 1 and CASE_PAID in output


@pytest.mark.sqlite_only
def test_a_paid_amount_or_a_fixation_decision_edited_is_found(registry: Registry) -> None:
    registry.shell(
        f"UPDATE cases SET paid_minor = 0 WHERE case_number = '{CASE_PAID}';"
        " DROP TRIGGER fixation_decided_once;"
        " UPDATE fixations SET status = 'confirmed', reject_reason = NULL"
        " WHERE fixation_id LIKE '%000000000002'"
    )
    report = registry.verify()
    assert len(_mentions(report, CASE_PAID, "paid_minor is 0", "3932000")) == 1
    assert len(_mentions(report, "000000000002", "status is 'confirmed'", "'rejected'")) == 1
    assert len(_mentions(report, "000000000002", "reject_reason is None", "plate_unreadable")) == 1
    assert report.problems_found == 3


@pytest.mark.sqlite_only
def test_rows_written_or_deleted_without_the_ledger_are_found(registry: Registry) -> None:
    registry.shell(
        f"DELETE FROM cases WHERE case_number = '{CASE_CANCELLED}';"
        " INSERT INTO messages SELECT 'm-99', device_id, kind, channel, received_at, 'ff',"
        " envelope FROM messages LIMIT 1;"
        " INSERT INTO fixations SELECT '00000000-0000-4000-8000-000000000099', 'm-99',"
        " device_id, 99, captured_at, received_at, violation, plate_text, plate_confidence,"
        " plate_format, speed_kmh, limit_kmh, light_phase, zone, lat, lon,"
        " 'awaiting_review', NULL, NULL, NULL, NULL, NULL, NULL, NULL"
        " FROM fixations WHERE sequence = 1"
    )
    report = registry.verify()
    assert _mentions(
        report, f"case {CASE_CANCELLED} is in the ledger but has no row in the cases table"
    )
    assert _mentions(report, "fixation 00000000-0000-4000-8000-000000000099 has no ledger entry")


@pytest.mark.sqlite_only
def test_an_edited_merkle_node_is_found(registry: Registry) -> None:
    registry.shell(
        "DROP TRIGGER merkle_no_update;"
        " UPDATE merkle_nodes SET hash = randomblob(32) WHERE level = 2 AND idx = 1"
    )
    report = registry.verify()
    assert _mentions(report, "level 2, index 1 does not match its two children")
    assert _mentions(report, "level 3, index 0 does not match its two children")
    assert not _mentions(report, "ledger entry")


@pytest.mark.parametrize("forgery", ["foreign key", "bad signature"])
@pytest.mark.sqlite_only
def test_a_forged_tree_head_is_found(registry: Registry, forgery: str) -> None:
    with registry.store.transaction() as db:
        append_entry(
            db,
            recorded_at=registry.tick(),
            entity_type="device",
            entity_id="cam-001",
            action="revoked",
            actor="officer:sam",
            payload={"reason": "stolen"},
        )
    genuine = registry.sign()
    mallory = DeviceKey.generate()
    forged = TreeHead(
        genuine.tree_size,
        genuine.root_hash,
        genuine.timestamp,
        key_id(mallory.public_key_b64) if forgery == "foreign key" else genuine.key_id,
        "",
    )
    signature = mallory.sign(forged.signed_bytes())
    registry.shell(
        "DROP TRIGGER tree_heads_no_delete;"
        f" DELETE FROM tree_heads WHERE tree_size = {genuine.tree_size};"
        " INSERT INTO tree_heads (tree_size, root_hash, signed_at, key_id, signature)"
        f" VALUES ({forged.tree_size}, '{forged.root_hash}', '{forged.timestamp}',"
        f" '{forged.key_id}', '{signature}')"
    )
    report = registry.verify()
    expected = "not the registry key" if forgery == "foreign key" else "invalid signature"
    assert len(report.problems) == 1
    assert _mentions(report, f"tree head at size {genuine.tree_size}", expected)
    code, _output = _cli(registry, "verify")
    assert code == 1


def _rewrite_history(registry: Registry, seq: int, actor: str) -> None:
    """What someone with write access and the code would do: replay the whole ledger with one
    entry changed, recomputing every hash, chain link and Merkle node consistently."""
    rows = _ledger_rows(registry)
    registry.shell(
        "DROP TRIGGER ledger_no_delete; DROP TRIGGER merkle_no_delete;"
        " DELETE FROM ledger; DELETE FROM merkle_nodes;"
    )
    with registry.store.transaction() as db:
        for row in rows:
            append_entry(
                db,
                recorded_at=row["recorded_at"],
                entity_type=row["entity_type"],
                entity_id=row["entity_id"],
                action=row["action"],
                actor=actor if row["seq"] == seq else row["actor"],
                payload=json.loads(row["payload"]),
            )


@pytest.mark.sqlite_only
def test_a_consistently_rewritten_history_is_caught_only_by_the_signed_heads(
    registry: Registry,
) -> None:
    _rewrite_history(registry, 3, "officer:mallory")
    report = registry.verify()
    assert not report.ok
    assert not _mentions(report, "ledger entry")  # chain and hashes are self-consistent
    assert not _mentions(report, "Merkle node")
    assert _mentions(report, "signed tree head at size 6 does not match the ledger")
    assert _mentions(report, "signed tree head at size 15 does not match the ledger")
    assert _mentions(report, "tree heads at sizes 6 and 15 are not consistent")
    # The registry itself refuses to sign on top of the rewritten history.
    with registry.store.transaction() as db:
        append_entry(
            db,
            recorded_at=registry.tick(),
            entity_type="device",
            entity_id="cam-001",
            action="revoked",
            actor="officer:sam",
            payload={"reason": "stolen"},
        )
    with pytest.raises(TreeHeadRefused, match="no longer an extension"):
        sign_tree_head(registry.store, registry.key, registry.clock)


@pytest.mark.sqlite_only
def test_heads_kept_outside_catch_a_rewrite_re_signed_with_a_stolen_key(
    registry: Registry, tmp_path: Path
) -> None:
    kept = tmp_path / "prosecutor-heads.jsonl"
    head = latest_tree_head(registry.store)
    assert head is not None
    kept.write_text(json.dumps(head.to_json()) + "\n", encoding="utf-8")
    _rewrite_history(registry, 3, "officer:mallory")
    registry.shell("DROP TRIGGER tree_heads_no_delete; DELETE FROM tree_heads")
    registry.sign()  # the thief re-signs the rewritten tree with the registry's own key

    assert registry.verify().ok  # on its own, the registry now agrees with itself
    code, output = _cli(registry, "verify", "--kept-heads", str(kept))
    assert code == 1
    assert "kept tree head at size 15 does not match the ledger" in output


@pytest.mark.sqlite_only
def test_an_entry_whose_payload_is_no_longer_json_is_found(registry: Registry) -> None:
    registry.shell(
        "DROP TRIGGER ledger_no_update; UPDATE ledger SET payload = '{\"status\": ' WHERE seq = 5"
    )
    report = registry.verify()
    assert len(report.problems) == 1
    assert _mentions(report, "ledger entry seq 5", "cannot be recomputed", "not valid JSON")


def test_heads_are_checked_against_the_key_the_outside_party_holds(registry: Registry) -> None:
    someone_else = DeviceKey.generate().public_key_b64
    code, output = _cli(registry, "verify", "--public-key", someone_else)
    assert code == 1
    assert output.count("not the registry key") == 2
    code, output = _cli(registry, "verify", "--public-key", registry.key.public_key_b64)
    assert code == 0, output


def test_a_registry_without_signed_heads_verifies_with_a_note(tmp_path: Path) -> None:
    store = open_store(registry_target(tmp_path / "registry.sqlite3"))
    with store.transaction() as db:
        append_entry(
            db,
            recorded_at=iso(START),
            entity_type="device",
            entity_id="cam-001",
            action="registered",
            actor="officer:sam",
            payload={"kind": "camera"},
        )
    report = verify_registry(store, DeviceKey.generate().public_key_b64)
    store.close()
    assert report.ok
    assert [str(warning) for warning in report.warnings] == [
        "No signed tree head exists yet: the ledger is protected only by its hash chain."
    ]


def test_progress_is_reported_per_stage_with_totals(registry: Registry) -> None:
    seen: dict[str, tuple[int, int]] = {}
    registry.verify(progress=lambda stage, done, total: seen.__setitem__(stage, (done, total)))
    assert seen == {
        "tree heads": (2, 2),
        "ledger entries": (15, 15),
        "Merkle nodes": (11, 11),
        "fixations and cases": (5, 5),
    }
