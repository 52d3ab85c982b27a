"""A PostgreSQL 15 primary with a synchronous streaming-replication standby, on loopback, made
the way deploy/postgresql/README.md makes the real pair, from the same configuration files.

- The primary reads deploy/postgresql/primary.conf (``wal_level = replica``,
  ``synchronous_standby_names = 'FIRST 1 (erap_standby_a)'``, ``synchronous_commit = on``, the
  WAL archive through archive-wal.sh), then what a loopback test server changes: its address,
  port and socket, and the archive folder (one folder of the cluster's, shared by both, as the
  real archive is on a third machine).
- roles.sql creates ``erap_replication``; a physical replication slot ``erap_standby_a`` keeps
  the WAL the standby has not received.
- The standby is ``pg_basebackup --write-recovery-conf --slot erap_standby_a`` of the primary as
  ``erap_replication``, with ``application_name=erap_standby_a`` in the connection string so
  that the written ``primary_conninfo`` names the standby the primary waits for; it reads
  primary.conf and standby.conf like the real one.
- Failover as in the README's runbook: SIGKILL the primary (``kill_primary``), then
  ``promote``: clear ``synchronous_standby_names`` on the standby (it has no standby of its own,
  and every commit would otherwise wait for one) and ``pg_ctl promote``.

Clients reach whichever server accepts writes through ``multi_host_url`` (libpq multi-host,
``target_session_attrs=read-write``), as the registry's configuration does.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from tests.support.postgres_server import (
    DEPLOY,
    SUPERUSER,
    PostgresServer,
    give_to_server_user,
    server_program,
)

STANDBY_NAME = "erap_standby_a"  # primary.conf's synchronous_standby_names, standby.conf's slot
REPLICATION_ROLE = "erap_replication"


class PostgresCluster:
    """A primary and its synchronous standby. As a context manager: both made, started and
    streaming in sync on entry; stopped and removed on exit."""

    def __init__(
        self,
        *,
        durable: bool = False,
        workdir: Path | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        """``settings``: more server settings for both (e.g. ``track_commit_timestamp``)."""
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="erap-pgcluster-"))
        self.archive_dir = self.workdir / "archive"
        common = {
            "archive_command": f"{DEPLOY / 'archive-wal.sh'} %p %f {self.archive_dir}",
            "restore_command": f"cp {self.archive_dir}/%f %p",
            **(settings or {}),
        }
        self.primary = PostgresServer(
            workdir=self.workdir / "a",
            durable=durable,
            settings=common,
            includes=(DEPLOY / "primary.conf",),
        )
        self.standby = PostgresServer(
            workdir=self.workdir / "b",
            durable=durable,
            settings=common,
            includes=(DEPLOY / "standby.conf",),
        )
        self._durable = durable

    # -- making it -----------------------------------------------------------------------------

    def create(self, timeout_s: float = 30.0) -> None:
        """initdb and start the primary, its roles and slot, the standby's base backup, start
        the standby, and wait until the primary lists it as synchronous and streaming."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.archive_dir.mkdir(exist_ok=True)
        for path in (self.workdir, self.archive_dir):
            give_to_server_user(path)
        self.primary.initdb()
        self.primary.start()
        # Until the standby streams, every commit would wait for it: the setup's own sessions
        # commit locally (the standby receives all of it in its base backup anyway).
        self.primary.psql_options = "-c synchronous_commit=local"
        if REPLICATION_ROLE not in self.primary.psql("SELECT rolname FROM pg_roles").split():
            self.primary.psql_file(DEPLOY / "roles.sql")
        self.primary.psql(f"SELECT pg_create_physical_replication_slot('{STANDBY_NAME}')")
        self.primary.psql_options = ""
        self.standby.prepare_directories()
        conninfo = (
            f"host=127.0.0.1 port={self.primary.port} user={REPLICATION_ROLE}"
            f" application_name={STANDBY_NAME}"
        )
        self.primary.run_program(
            [
                str(server_program("pg_basebackup")),
                "--dbname",
                conninfo,
                "--pgdata",
                str(self.standby.data_dir),
                "--wal-method",
                "stream",
                "--slot",
                STANDBY_NAME,
                "--checkpoint",
                "fast",
                "--write-recovery-conf",
                *([] if self._durable else ["--no-sync"]),
            ]
        )
        # The copy's postgresql.conf is the primary's (primary.conf included, its port): the
        # standby's own lines come after and win; postgresql.auto.conf (primary_conninfo, slot,
        # from --write-recovery-conf) is read after both.
        self.standby.append_configuration()
        self.standby.start()
        self.wait_for_sync(timeout_s)

    def wait_for_sync(self, timeout_s: float = 30.0) -> None:
        """Until the primary's pg_stat_replication shows the standby streaming, synchronous."""
        deadline = time.monotonic() + timeout_s
        query = (
            "SELECT state || ' ' || sync_state FROM pg_stat_replication"
            f" WHERE application_name = '{STANDBY_NAME}'"
        )
        seen = ""
        while time.monotonic() < deadline:
            seen = self.primary.psql(query).strip()
            if seen == "streaming sync":
                return
            time.sleep(0.05)
        raise TimeoutError(
            f"the standby {STANDBY_NAME} is not streaming as synchronous after {timeout_s} s"
            f" (pg_stat_replication: {seen or 'no row'}); its log: {self.standby.log_path}"
        )

    # -- failover ------------------------------------------------------------------------------

    def kill_primary(self) -> None:
        """SIGKILL the primary's postmaster, as a crash of its machine would."""
        self.primary.kill()

    def promote(self, timeout_s: float = 30.0) -> None:
        """Make the standby the primary; returns once it accepts writes.

        The runbook's choice for a single standby (deploy/postgresql/README.md, Failover):
        ``synchronous_standby_names`` is cleared first, or the promoted server, which has no
        standby of its own, would hold every commit until one connects."""
        self.standby.psql("ALTER SYSTEM SET synchronous_standby_names = ''")
        self.standby.psql("SELECT pg_reload_conf()")
        self.standby.run_program(
            [
                str(server_program("pg_ctl")),
                "promote",
                "--pgdata",
                str(self.standby.data_dir),
                "--wait",
                "--timeout",
                str(int(timeout_s)),
            ]
        )
        deadline = time.monotonic() + timeout_s
        while self.standby.psql("SELECT pg_is_in_recovery()").strip() != "f":
            if time.monotonic() > deadline:
                raise TimeoutError(f"the standby is still in recovery {timeout_s} s after promote")
            time.sleep(0.02)

    # -- connecting ----------------------------------------------------------------------------

    def multi_host_url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        """Both servers in one libpq URL: a client connects to whichever accepts writes."""
        hosts = f"127.0.0.1:{self.primary.port},127.0.0.1:{self.standby.port}"
        return (
            f"postgresql://{quote(user)}@{hosts}/{quote(database)}"
            "?target_session_attrs=read-write&connect_timeout=2"
        )

    # -- life cycle ----------------------------------------------------------------------------

    def __enter__(self) -> PostgresCluster:
        try:
            self.create()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop both (whichever still runs) and remove the cluster's directory."""
        try:
            for server in (self.primary, self.standby):
                try:
                    server.stop()
                except RuntimeError:
                    server.stop("immediate")
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)
