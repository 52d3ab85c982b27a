"""The PostgreSQL the tests start (tests/support/postgres_server.py), and the configuration
deploy/postgresql gives a real primary and standby, as PostgreSQL 15 reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import postgres_server as harness
from tests.support.postgres import PostgresServer


def test_the_server_runs_as_an_unprivileged_user_in_its_own_directory(
    postgres_server: PostgresServer,
) -> None:
    pid = postgres_server.postmaster_pid()
    assert pid is not None
    status = (Path("/proc") / str(pid) / "status").read_text()
    real_uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert real_uid != 0
    assert real_uid == postgres_server.data_dir.stat().st_uid
    shown = postgres_server.psql("SHOW data_directory").strip()
    assert Path(shown) == postgres_server.data_dir
    assert str(postgres_server.port) in postgres_server.psql("SHOW port")


def test_a_machine_without_postgresql_15_is_told_which_package_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(harness, "BIN", tmp_path / "no-postgresql")
    with pytest.raises(harness.PostgresMissing, match="install the Debian package postgresql-15"):
        PostgresServer(workdir=tmp_path / "cluster").initdb()


def test_the_deployed_configuration_fragments_name_real_settings(
    postgres_server: PostgresServer,
) -> None:
    """primary.conf and standby.conf as PostgreSQL 15 reads them (``postgres -C``): a
    misspelt setting or a bad value stops the server at start, so it fails here first."""
    conf = postgres_server.workdir / "deployed.conf"
    conf.write_text(
        f"include '{postgres_server.data_dir / 'postgresql.conf'}'\n"
        f"include '{harness.DEPLOY / 'primary.conf'}'\n"
        f"include '{harness.DEPLOY / 'standby.conf'}'\n"
    )
    expected = {
        "wal_level": "replica",
        "synchronous_commit": "on",
        "synchronous_standby_names": "FIRST 1 (erap_standby_a)",
        "archive_mode": "on",
        "primary_slot_name": "erap_standby_a",
        "wal_log_hints": "on",
    }
    for name, value in expected.items():
        assert postgres_server.show_setting(name, config_file=conf) == value
