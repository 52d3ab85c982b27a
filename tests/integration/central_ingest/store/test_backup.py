"""Backups of a registry in use: ``erap-registry backup`` copies the SQLite database while a
writer keeps ingesting signed fixations, opening cases and signing tree heads through the real
services. The copy is one committed state of the live database: never torn, its ledger a prefix
of the live one, each fixation and case as the live database holds it (or changed later, by a
ledger entry after the copy's end), and it passes the audit verifier, also once restored."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from central_ingest.audit import load_or_create_registry_key, sign_tree_head, verify_registry
from central_ingest.cli import app
from central_ingest.store.backup import BackupRefused, backup_database
from central_ingest.store.db import open_store
from central_ingest.store.evidence import EvidenceStore
from i18n import Text, translator
from tests.support.evidence_images import evidence_jpeg
from tests.support.registry_fixtures import REVIEWERS, RegistryWorld

# Enough rows that a copy in steps of a few pages takes many steps.
PRELOADED_FIXATIONS = 150
STEP_PAGES = "4"


class Writer(threading.Thread):
    """The registry at work: fixations arrive, every other one is confirmed (a case opens),
    and a tree head is signed every tenth; until told to stop."""

    def __init__(self, world: RegistryWorld) -> None:
        super().__init__(daemon=True)
        self.world = world
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.rounds = 0

    def run(self) -> None:
        key = load_or_create_registry_key(self.world.config.registry_key_path)
        try:
            while not self.stop.is_set():
                work(self.world, self.rounds)
                if self.rounds % 10 == 0:
                    sign_tree_head(self.world.store, key, self.world.clock.now)
                self.rounds += 1
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc
        finally:
            self.world.store.close()

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=30)
        assert not self.is_alive()
        if self.error is not None:
            raise self.error


def work(world: RegistryWorld, number: int) -> None:
    world.clock.advance(seconds=7)
    fixation_id = world.add_fixation()
    if number % 2 == 0:
        world.registry.confirm_fixation(fixation_id, REVIEWERS[number % 4 // 2], seconds_spent=9)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[RegistryWorld]:
    world = RegistryWorld.create(tmp_path)
    for number in range(PRELOADED_FIXATIONS):
        work(world, number)
    sign_tree_head(
        world.store, load_or_create_registry_key(world.config.registry_key_path), world.clock.now
    )
    yield world
    world.store.close()


def ledger_size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM ledger").fetchone()[0])


def run_cli(*args: str, language: str = "en") -> Any:
    return CliRunner().invoke(app, ["--language", language, *args])


def backup_args(world: RegistryWorld, out: Path, *more: str) -> list[str]:
    return ["backup", "--data-dir", str(world.config.data_dir), "--out", str(out), *more]


def assert_consistent_copy(copy: Path, world: RegistryWorld) -> int:
    """The copy checks, passes the verifier, and is a past state of the live database."""
    with sqlite3.connect(copy) as conn:
        assert [row[0] for row in conn.execute("PRAGMA integrity_check")] == ["ok"]
    key = load_or_create_registry_key(world.config.registry_key_path)
    copied = open_store(copy)
    try:
        report = verify_registry(copied, key.public_key_b64)
        assert report.ok, [str(problem) for problem in report.problems]
        assert report.tree_heads_checked >= 1
        copy_ledger = copied.db.conn.execute(
            "SELECT seq, entity_type, entity_id, entry_hash FROM ledger ORDER BY seq"
        ).fetchall()
        assert report.entries_checked == len(copy_ledger) > 0
        copy_rows = {
            table: copied.db.conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("fixations", "cases")
        }
    finally:
        copied.close()
    live = world.store.db.conn
    live_ledger = live.execute(
        "SELECT seq, entity_type, entity_id, entry_hash FROM ledger ORDER BY seq"
    ).fetchall()
    assert live_ledger[: len(copy_ledger)] == copy_ledger
    # Entities the live registry changed after the copy's last entry may differ from it; every
    # other fixation and case must be in the live database exactly as in the copy.
    changed_later = {(kind, entity) for _, kind, entity, _ in live_ledger[len(copy_ledger) :]}
    for table, kind in (("fixations", "fixation"), ("cases", "case")):
        assert copy_rows[table]
        for row in copy_rows[table]:
            live_row = live.execute(
                f"SELECT * FROM {table} WHERE {_key(table)} = ?", (row[0],)
            ).fetchone()
            assert live_row is not None, f"{kind} {row[0]} is in the copy only"
            assert tuple(live_row) == tuple(row) or (kind, row[0]) in changed_later
    return len(copy_ledger)


def _key(table: str) -> str:
    return {"fixations": "fixation_id", "cases": "case_number"}[table]


def test_a_copy_made_while_the_registry_writes_is_one_committed_state(
    world: RegistryWorld, tmp_path: Path
) -> None:
    writer = Writer(world)
    seen: list[int] = []
    copied_pages = [0]

    def progress(done: int, total: int) -> None:
        # A copy restarted by a write shows as fewer pages done than before: the snapshot
        # must prevent that, or the copy would never end under a steady stream of writes.
        assert done >= copied_pages[0], f"the copy restarted at page {done}"
        copied_pages[0] = done
        # The live ledger's length at each step: it must grow while the copy is made.
        seen.append(ledger_size(world.config.db_path))
        time.sleep(0.005)

    writer.start()
    try:
        while writer.rounds < 2 and writer.is_alive():
            time.sleep(0.005)
        before = ledger_size(world.config.db_path)
        made = backup_database(
            world.config.db_path, tmp_path / "copy.sqlite3", step_pages=4, progress=progress
        )
        # One standalone file under its final name: no partial file, no -wal beside it.
        assert [path.name for path in tmp_path.iterdir() if path.is_file()] == ["copy.sqlite3"]
        copied = assert_consistent_copy(made.path, world)
    finally:
        writer.finish()
    assert len(seen) > 20
    assert seen[-1] > seen[0], "the writer wrote nothing while the copy was made"
    # The snapshot is taken when the copy starts, before its first step is reported.
    assert before <= copied <= seen[-1]
    assert made.contents.ledger_entries == copied
    assert made.size_bytes == made.path.stat().st_size


def test_backup_command_while_writing_then_restore_and_verify(
    world: RegistryWorld, tmp_path: Path
) -> None:
    out = tmp_path / "backups" / "registry-backup.sqlite3"
    out.parent.mkdir()
    writer = Writer(world)
    writer.start()
    try:
        while writer.rounds < 3 and writer.is_alive():
            time.sleep(0.005)
        before = ledger_size(world.config.db_path)
        result = run_cli(*backup_args(world, out, "--step-pages", STEP_PAGES))
        assert result.exit_code == 0, result.output
        # No partial file beside the backup; the file is readable by its owner only.
        assert [path.name for path in out.parent.iterdir()] == [out.name]
        assert out.stat().st_mode & 0o077 == 0
        copied = assert_consistent_copy(out, world)
        assert copied >= before
        # The copy is a past state: let the writer go past it, then compare once more.
        deadline = time.monotonic() + 10
        while ledger_size(world.config.db_path) <= copied and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        writer.finish()
    assert ledger_size(world.config.db_path) > copied
    assert assert_consistent_copy(out, world) == copied
    with sqlite3.connect(out) as conn:
        heads = conn.execute("SELECT count(*) FROM tree_heads").fetchone()[0]
        cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    # English CLDR numbers: 1,234.
    assert f"ledger entries: {copied:,}, fixations:" in result.output
    assert f"cases: {cases:,}, signed tree heads: {heads:,}." in result.output
    assert "not in this backup" in result.output

    # The documented restore: the file as registry.sqlite3 of a data folder, the registry's key
    # beside it; the registry opens it and the verifier passes.
    restored = tmp_path / "restored"
    (restored / "keys").mkdir(parents=True)
    shutil.copy2(out, restored / "registry.sqlite3")
    key_path = world.config.registry_key_path
    shutil.copy2(key_path, restored / "keys" / key_path.name)
    verified = run_cli("audit", "verify", "--data-dir", str(restored))
    assert verified.exit_code == 0, verified.output
    assert "OK: no sign of tampering." in verified.output
    assert f"ledger entries: {copied:,}," in verified.output


def test_refusals_name_the_problem_and_write_nothing(world: RegistryWorld, tmp_path: Path) -> None:
    existing = tmp_path / "kept.sqlite3"
    existing.write_bytes(b"yesterday's backup")

    refused = run_cli(*backup_args(world, existing))
    assert refused.exit_code == 2
    assert refused.output.strip() == (
        f"{existing} already exists: choose another name, or pass --force to replace it."
    )
    assert existing.read_bytes() == b"yesterday's backup"

    missing = tmp_path / "no-such-folder" / "registry.sqlite3"
    refused = run_cli(*backup_args(world, missing))
    assert refused.exit_code == 2
    assert refused.output.strip() == (
        f"The folder {missing.parent} does not exist: create it first; the backup is written"
        " there and then renamed into place."
    )
    assert not missing.parent.exists()

    refused = run_cli(*backup_args(world, world.config.db_path, "--force"))
    assert refused.exit_code == 2
    assert "is the registry database itself" in refused.output

    # The same refusal in Russian, from the registry catalog.
    refused = run_cli(*backup_args(world, existing), language="ru")
    russian = translator("registry", "ru").text(
        Text(
            "%(path)s already exists: choose another name, or pass --force to replace it.",
            path=str(existing),
        )
    )
    assert refused.output.strip() == russian
    assert "already exists" not in russian and "--force" in russian

    replaced = run_cli(*backup_args(world, existing, "--force"))
    assert replaced.exit_code == 0, replaced.output
    with sqlite3.connect(existing) as conn:
        assert conn.execute("SELECT count(*) FROM fixations").fetchone()[0] == (PRELOADED_FIXATIONS)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kept.sqlite3", "registry"]


def test_no_backup_without_room_for_it(
    world: RegistryWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No test can fill a real disk in a second: the free space the kernel reports is replaced
    # by one byte less than the database needs.
    with sqlite3.connect(world.config.db_path) as conn:
        needed = (
            conn.execute("PRAGMA page_count").fetchone()[0]
            * conn.execute("PRAGMA page_size").fetchone()[0]
        )
    real = shutil.disk_usage

    def short(path: Any) -> Any:
        usage = real(path)
        return usage._replace(free=needed - 1)

    monkeypatch.setattr(shutil, "disk_usage", short)
    with pytest.raises(BackupRefused) as refused:
        backup_database(world.config.db_path, tmp_path / "copy.sqlite3")
    assert refused.value.code == "backup_no_space"
    assert f"in {tmp_path}: the backup needs" in refused.value.message
    assert list(tmp_path.glob("*.sqlite3*")) == list(tmp_path.glob(".*")) == []


def test_evidence_is_copied_once_by_hash_and_losses_are_named(tmp_path: Path) -> None:
    # A registry whose every evidence row has its file (the preloaded world's have none).
    world = RegistryWorld.create(tmp_path)
    config = world.config
    images = EvidenceStore(world.store, config.evidence_dir, config.max_evidence_bytes)
    stored = [
        images.put(
            hashlib.sha256(data).hexdigest(), data, uploaded_by=world.camera_id, now=world.clock.now
        ).sha256
        for data in (evidence_jpeg(f"frame {seed}", seed=seed) for seed in range(4))
    ]
    backups = tmp_path / "backups"
    backups.mkdir()

    first = run_cli(*backup_args(world, backups / "monday.sqlite3", "--with-evidence"))
    assert first.exit_code == 0, first.output
    for sha256 in stored:
        relative = images.path_for(sha256).relative_to(config.evidence_dir)
        assert (backups / "evidence" / relative).read_bytes() == images.path_for(
            sha256
        ).read_bytes()
    assert "copied 4 (" in first.output and "already there 0." in first.output

    # The next backup copies only what is new; an image lost or changed in the registry's
    # folder is named and makes the command fail, the rest is still copied.
    fresh = evidence_jpeg("frame 9", seed=9)
    stored.append(
        images.put(
            hashlib.sha256(fresh).hexdigest(),
            fresh,
            uploaded_by=world.camera_id,
            now=world.clock.now,
        ).sha256
    )
    lost = evidence_jpeg("frame 10", seed=10)
    lost_hash = images.put(
        hashlib.sha256(lost).hexdigest(), lost, uploaded_by=world.camera_id, now=world.clock.now
    ).sha256
    images.path_for(lost_hash).unlink()
    changed = evidence_jpeg("frame 11", seed=11)
    changed_hash = images.put(
        hashlib.sha256(changed).hexdigest(),
        changed,
        uploaded_by=world.camera_id,
        now=world.clock.now,
    ).sha256
    images.path_for(changed_hash).write_bytes(evidence_jpeg("something else", seed=12))

    second = run_cli(*backup_args(world, backups / "tuesday.sqlite3", "--with-evidence"))
    assert second.exit_code == 1, second.output
    assert "copied 1 (" in second.output and "already there 4." in second.output
    assert (
        f"- Evidence image {lost_hash} is listed in the registry but missing from"
        f" {config.evidence_dir}." in second.output
    )
    assert (
        f"- Evidence image {changed_hash} in {config.evidence_dir} no longer matches its hash;"
        " it was not copied." in second.output
    )
    kept = sorted(path.stem for path in (backups / "evidence").rglob("*.jpg"))
    assert kept == sorted(stored)
    assert not list((backups / "evidence").rglob(".copy-*"))
    # The database was backed up all the same, with the evidence rows of every image.
    with sqlite3.connect(backups / "tuesday.sqlite3") as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM evidence WHERE sha256 IN (?, ?)", (lost_hash, changed_hash)
            ).fetchone()[0]
            == 2
        )
    world.store.close()


def test_a_database_that_is_not_a_registry_is_not_kept(tmp_path: Path) -> None:
    data_dir = tmp_path / "registry"
    data_dir.mkdir()
    with sqlite3.connect(data_dir / "registry.sqlite3") as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    out = tmp_path / "copy.sqlite3"
    failed = run_cli("backup", "--data-dir", str(data_dir), "--out", str(out))
    assert failed.exit_code == 1
    assert failed.output.strip() == (
        "The copy has no schema version in its meta table: the database copied is not a"
        " registry's; it was not kept."
    )
    assert [path.name for path in tmp_path.iterdir()] == ["registry"]
