"""Point-in-time recovery of the registry on PostgreSQL, run the way deploy/BACKUP.md says.

A durable primary (fsync on) reads deploy/postgresql/primary.conf and archives every WAL
segment through deploy/postgresql/archive-wal.sh. A registry on it works through the real
services (signed fixations through the ingest, confirmations into cases, a payment, signed tree
heads); ``pg_basebackup -X stream`` with a SHA-256 manifest, checked by ``pg_verifybackup``; the
registry goes on working, the last segment is switched and archived, and the primary crashes
(``pg_ctl stop -m immediate``) and its disk is lost. Two restores of the base backup plus the
archive: to a moment between two known commits (the first is there, the second and everything
after are not, the ledger is the original's up to that moment) and to the end of the archive
(everything committed before the crash). ``erap-registry audit verify`` passes on both, with
the registry's tree-head key and the tree heads kept outside before the crash."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from central_ingest.audit import TreeHead, load_or_create_registry_key, sign_tree_head
from central_ingest.cli import app
from central_ingest.store.postgres.db import PostgresStore
from central_ingest.store.postgres.schema import migrate
from tests.support.postgres import DEPLOY, PostgresServer, RegistryDatabase
from tests.support.postgres_server import give_to_server_user, server_program
from tests.support.registry_fixtures import REVIEWERS, RegistryWorld

DATABASE = "erap"
LEDGER = "SELECT seq, entity_type, entity_id, entry_hash FROM ledger ORDER BY seq"


class BackupRig:
    """The primary, its WAL archive and base backups, and the restored servers, all under one
    folder in /tmp (pytest's tmp_path is private to root, and the server user must reach it)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="erap-pg-backup-"))
        self.archive = self.root / "archive"
        self.base = self.root / "base"
        give_to_server_user(self.root)
        self.archive.mkdir()
        give_to_server_user(self.archive)
        self.primary = PostgresServer(
            workdir=self.root / "primary",
            durable=True,
            includes=(DEPLOY / "primary.conf",),
            settings={
                "archive_command": f"{DEPLOY / 'archive-wal.sh'} %p %f {self.archive}",
                # One server: no standby for a commit to wait for (test_postgres_standby.py
                # covers the pair; the archive and the base backup are the same with it).
                "synchronous_standby_names": "",
            },
        )
        self.servers = [self.primary]
        self.timings: dict[str, float] = {}

    def base_backup(self) -> None:
        """The documented base backup, as the replication role, then checked file by file
        against the manifest it wrote."""
        started = time.monotonic()
        self.primary.run_program(
            [
                str(server_program("pg_basebackup")),
                "--dbname",
                f"host=127.0.0.1 port={self.primary.port} user=erap_replication",
                "--pgdata",
                str(self.base),
                "--wal-method",
                "stream",
                "--checkpoint",
                "fast",
                "--manifest-checksums",
                "SHA256",
            ]
        )
        self.timings["pg_basebackup"] = time.monotonic() - started
        started = time.monotonic()
        self.primary.run_program([str(server_program("pg_verifybackup")), str(self.base)])
        self.timings["pg_verifybackup"] = time.monotonic() - started

    def archive_current_segment(self, timeout_s: float = 10.0) -> str:
        """Close the WAL segment being written (``pg_switch_wal``) and wait until
        archive-wal.sh has put it in the archive; returns its name."""
        segment = self.primary.psql("SELECT pg_walfile_name(pg_switch_wal())").strip()
        deadline = time.monotonic() + timeout_s
        while not (self.archive / segment).is_file():
            if time.monotonic() > deadline:
                raise AssertionError(f"WAL segment {segment} was not archived in {timeout_s} s")
            time.sleep(0.02)
        return segment

    def restore(self, name: str, **target: str) -> PostgresServer:
        """The base backup into a new data directory, ``recovery.signal``, the archive as
        ``restore_command`` and the recovery target; started, and returned once recovery has
        ended and the server accepts writes."""
        started = time.monotonic()
        server = PostgresServer(
            workdir=self.root / name,
            durable=True,
            settings={
                "restore_command": f"cp {self.archive}/%f %p",
                # A restore drill must not archive its new timeline into the production archive:
                # a later restore (recovery_target_timeline = 'latest') would follow it.
                "archive_mode": "off",
                **target,
            },
        )
        self.servers.append(server)
        server.prepare_directories()
        server.run_program(["cp", "-a", str(self.base), str(server.data_dir)])
        server.run_program(["touch", str(server.data_dir / "recovery.signal")])
        # After the primary's lines copied with the backup: this server's port, socket, target.
        server.append_configuration()
        server.start()
        # pg_ctl returns once the server accepts (read-only) connections: recovery goes on.
        deadline = time.monotonic() + 30
        while scalar(server.url(DATABASE), "SELECT pg_is_in_recovery()"):
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} is still in recovery after 30 s")
            time.sleep(0.02)
        self.timings[f"restore {name}"] = time.monotonic() - started
        return server

    def close(self) -> None:
        PostgresStore.shutdown_all()
        for server in self.servers:
            # A server that cannot be stopped must not hide the test's own failure.
            with contextlib.suppress(RuntimeError):
                server.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def scalar(url: str, query: str) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query).fetchall()


def work(world: RegistryWorld, fixations: int) -> list[str]:
    """Signed fixations through the ingest, every other one confirmed into a case; the first
    case paid in full at the terminal."""
    made = []
    cases = []
    for number in range(fixations):
        world.clock.advance(seconds=7)
        made.append(world.add_fixation())
        if number % 2 == 0:
            case = world.registry.confirm_fixation(
                made[-1], REVIEWERS[number % 4 // 2], seconds_spent=9
            )
            cases.append(case.case_number)
    due = world.registry.case(cases[0]).amount_due_now_minor
    assert world.pay(cases[0], due) == "settled"
    return made


def sign(world: RegistryWorld) -> TreeHead:
    head = sign_tree_head(
        world.store, load_or_create_registry_key(world.config.registry_key_path), world.clock.now
    )
    assert head is not None
    return head


def audit_verify(server: PostgresServer, key_dir: Path, heads: list[TreeHead]) -> Any:
    """``erap-registry audit verify`` on the restored database as the application role, with
    the registry's key and the tree heads an outside party kept."""
    kept = key_dir / "kept-heads.jsonl"
    kept.write_text("".join(json.dumps(head.to_json(), sort_keys=True) + "\n" for head in heads))
    result = CliRunner().invoke(
        app,
        [
            "--language",
            "en",
            "audit",
            "verify",
            "--data-dir",
            str(key_dir),
            "--kept-heads",
            str(kept),
        ],
        env={"ERAP_DATABASE": server.url(DATABASE, "erap_app")},
    )
    PostgresStore.shutdown_all()
    return result


@pytest.fixture
def rig() -> Iterator[BackupRig]:
    made = BackupRig()
    try:
        yield made
    finally:
        made.close()


def test_base_backup_and_wal_archive_restore_to_a_moment_and_to_the_end(
    rig: BackupRig, tmp_path: Path
) -> None:
    primary = rig.primary
    primary.initdb()
    primary.start()
    database = RegistryDatabase(primary, DATABASE)
    with psycopg.connect(database.owner_url, autocommit=True) as conn:
        migrate(conn)
    world = RegistryWorld.create(tmp_path, database=database.app_url)
    assert scalar(primary.url(), "SHOW archive_mode") == "on"
    assert scalar(primary.url(), "SHOW fsync") == "on"

    work(world, 6)
    heads = [sign(world)]
    rig.base_backup()
    in_base = len(rows(primary.url(DATABASE), LEDGER))

    # After the base backup: only the archive holds this.
    work(world, 6)
    heads.append(sign(world))
    first = world.add_fixation()
    ledger_at_target = len(rows(primary.url(DATABASE), LEDGER))
    # A moment after the first commit and before the second, on the server's own clock.
    target = scalar(primary.url(), "SELECT clock_timestamp()::text")
    second = world.add_fixation()
    work(world, 4)
    heads_after = [sign(world)]
    original = rows(primary.url(DATABASE), LEDGER)
    fixations = {row[0] for row in rows(primary.url(DATABASE), "SELECT fixation_id FROM fixations")}
    payments = scalar(primary.url(DATABASE), "SELECT count(*) FROM payments")
    world.store.close()
    PostgresStore.shutdown_all()
    last_segment = rig.archive_current_segment()
    primary.stop("immediate")
    # The primary's disk is lost: the base backup and the archive are all there is.
    shutil.rmtree(primary.data_dir)
    assert in_base < ledger_at_target < len(original)

    # The registry's tree-head key, kept apart (it is not in the database or its backups).
    key_dir = tmp_path / "restored"
    (key_dir / "keys").mkdir(parents=True)
    key_path = world.config.registry_key_path
    shutil.copy2(key_path, key_dir / "keys" / key_path.name)

    at_moment = rig.restore(
        "restored-to-moment", recovery_target_time=target, recovery_target_action="promote"
    )
    url = at_moment.url(DATABASE)
    restored_ids = {row[0] for row in rows(url, "SELECT fixation_id FROM fixations")}
    assert first in restored_ids and second not in restored_ids
    assert rows(url, LEDGER) == original[:ledger_at_target]
    assert restored_ids < fixations
    log = at_moment.log_path.read_text()
    assert "recovery stopping before commit of transaction" in log
    assert "archive recovery complete" in log
    assert 'restored log file "' in log  # the WAL came from the archive

    verified = audit_verify(at_moment, key_dir, heads)
    assert verified.exit_code == 0, verified.output
    assert f"ledger entries: {ledger_at_target:,}," in verified.output
    assert "OK: no sign of tampering." in verified.output
    # A head signed after the moment shows what the restore lost.
    lost = audit_verify(at_moment, key_dir, heads + heads_after)
    assert lost.exit_code != 0
    assert (
        f"The kept tree head at size {heads_after[0].tree_size} covers more entries than the"
        " ledger holds" in lost.output
    )
    at_moment.stop()

    at_end = rig.restore("restored-to-end")
    url = at_end.url(DATABASE)
    assert rows(url, LEDGER) == original
    assert {row[0] for row in rows(url, "SELECT fixation_id FROM fixations")} == fixations
    assert scalar(url, "SELECT count(*) FROM payments") == payments == 3
    assert f'restored log file "{last_segment}" from archive' in at_end.log_path.read_text()
    verified = audit_verify(at_end, key_dir, heads + heads_after)
    assert verified.exit_code == 0, verified.output
    assert f"ledger entries: {len(original):,}," in verified.output
    assert "OK: no sign of tampering." in verified.output
    at_end.stop()

    print(
        "timings: "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in rig.timings.items())
        + f"; base backup {sum(p.stat().st_size for p in rig.base.rglob('*') if p.is_file())}"
        f" bytes; ledger entries: {in_base} in the base backup, {ledger_at_target} at the"
        f" moment, {len(original)} at the crash"
    )
