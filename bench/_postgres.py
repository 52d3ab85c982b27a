"""The registry's database for a benchmark: the SQLite file, or a PostgreSQL 15 primary with a
synchronous streaming standby, durable as a deployment runs it; and the CPU its servers spend.

The PostgreSQL pair is ``tests.support.postgres_cluster.PostgresCluster(durable=True)``: both
servers read deploy/postgresql/primary.conf (``synchronous_standby_names = 'FIRST 1 (...)'``,
``synchronous_commit = on``, WAL archiving through archive-wal.sh), with ``fsync`` and
``full_page_writes`` at PostgreSQL's defaults (on). So every commit the registry acknowledges
is flushed to disk on the primary AND on the standby before the receipt goes out: the figures
are those of the real configuration, not of a test server that skips fsync. The database is
created by deploy/postgresql's roles.sql and database.sql, migrated as ``erap_owner``, and the
registry's processes connect as ``erap_app`` through the libpq multi-host URL a deployment uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from central_ingest.store.postgres.schema import migrate
from tests.support.postgres_cluster import PostgresCluster
from tests.support.postgres_server import PostgresServer, RegistryDatabase

DATABASE = "erap_bench"
# What the last line reports of the servers' configuration, read back from the primary.
REPORTED_SETTINGS = (
    "fsync",
    "full_page_writes",
    "synchronous_commit",
    "synchronous_standby_names",
    "wal_level",
    "archive_mode",
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int, children: bool = False) -> float:
    """User + system CPU of a process so far (and of its waited-for children), from /proc;
    0 for a process that has gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    fields = text.rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17.
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def child_pids(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` (a postmaster's backends and helpers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return found


def server_cpu_s(server: PostgresServer) -> float:
    """All the CPU one PostgreSQL server has spent: the postmaster, every process it started
    (backends, WAL writer, walsender or walreceiver, checkpointer, archiver ...), and those
    that have ended already (the postmaster waits for them, so they count in its cutime)."""
    postmaster = server.postmaster_pid()
    if postmaster is None:
        return 0.0
    return process_cpu_s(postmaster, children=True) + sum(
        process_cpu_s(pid, children=True) for pid in child_pids(postmaster)
    )


@dataclass
class BenchDatabase:
    """Where the registry's processes keep their data, and what the last line says of it."""

    store: str  # "sqlite" or "postgresql"
    url: str | None = None  # the registry's ``database`` setting; None: the SQLite file
    cluster: PostgresCluster | None = None
    settings: dict[str, str] = field(default_factory=dict)

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds so far of each PostgreSQL server (none for SQLite: the registry's own
        processes do its work)."""
        if self.cluster is None:
            return {}
        return {
            "postgres_primary": server_cpu_s(self.cluster.primary),
            "postgres_standby": server_cpu_s(self.cluster.standby),
        }


@contextmanager
def bench_database(store: str) -> Iterator[BenchDatabase]:
    """The SQLite default, or a durable PostgreSQL primary and synchronous standby with a
    migrated registry database, removed at the end."""
    if store == "sqlite":
        yield BenchDatabase("sqlite")
        return
    with PostgresCluster(durable=True) as cluster:
        database = RegistryDatabase(cluster.primary, DATABASE)
        with psycopg.connect(database.owner_url, autocommit=True) as conn:
            migrate(conn)
            settings = {
                name: str(row[0])
                for name in REPORTED_SETTINGS
                if (row := conn.execute("SELECT current_setting(%s)", (name,)).fetchone())
            }
        yield BenchDatabase(
            "postgresql",
            url=cluster.multi_host_url(DATABASE, "erap_app"),
            cluster=cluster,
            settings=settings,
        )
