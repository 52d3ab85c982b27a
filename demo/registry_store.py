"""Where the demo's registry keeps its data: the SQLite file (``make demo``), or a PostgreSQL 15
primary with a synchronous streaming standby (``make demo DEMO_STORE=postgresql``), and the
demo's own reads of it, through the registry's store so that they work on both.

The PostgreSQL pair is made the way deploy/postgresql/README.md makes the real one
(``tests.support.postgres_cluster.PostgresCluster``), durable as deployed (``fsync`` on,
``synchronous_commit = on``: nothing is acknowledged before the standby has it on disk). The
registry's database is created by roles.sql and database.sql and migrated as ``erap_owner``; the
registry's processes connect as ``erap_app`` through the multi-host URL in ``$ERAP_DATABASE``,
as a deployment's systemd units give it to them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import psycopg

from central_ingest.cli.common import DATABASE_ENV
from central_ingest.config import RegistryConfig
from central_ingest.store.postgres.db import PostgresStore
from central_ingest.store.postgres.schema import migrate
from central_ingest.wiring import open_registry_store
from demo.story import say
from tests.support.postgres_cluster import PostgresCluster
from tests.support.postgres_server import RegistryDatabase

StoreKind = Literal["sqlite", "postgresql"]
STORES: tuple[StoreKind, ...] = ("sqlite", "postgresql")
DATABASE = "erap_demo"


@dataclass
class DemoDatabase:
    """The registry's ``database`` setting (None: the SQLite file in its data directory), and
    the PostgreSQL pair behind it if there is one."""

    url: str | None = None
    cluster: PostgresCluster | None = None
    reader_urls: tuple[str, str] | None = None  # primary's, standby's, as erap_reader


@contextmanager
def demo_database(kind: StoreKind) -> Iterator[DemoDatabase]:
    """The registry's database for the demo, with ``$ERAP_DATABASE`` set for every registry
    process the demo starts; the PostgreSQL pair is stopped and removed at the end."""
    if kind == "sqlite":
        os.environ.pop(DATABASE_ENV, None)
        yield DemoDatabase()
        return
    with PostgresCluster(durable=True) as cluster:
        database = RegistryDatabase(cluster.primary, DATABASE)
        with psycopg.connect(database.owner_url, autocommit=True) as conn:
            migrate(conn)
        say(
            f"PostgreSQL 15 primary on 127.0.0.1:{cluster.primary.port}, synchronous standby"
            f" on 127.0.0.1:{cluster.standby.port} (streaming, every commit on both disks);"
            f" registry database {DATABASE!r} migrated as erap_owner"
        )
        url = cluster.multi_host_url(DATABASE, "erap_app")
        os.environ[DATABASE_ENV] = url
        try:
            yield DemoDatabase(
                url,
                cluster,
                (
                    cluster.primary.url(DATABASE, "erap_reader"),
                    cluster.standby.url(DATABASE, "erap_reader"),
                ),
            )
        finally:
            os.environ.pop(DATABASE_ENV, None)


class RegistryReads:
    """The demo's look into the registry's database (what it stored, the camera's status),
    through the registry's own store: the SQLite file or the PostgreSQL primary alike."""

    def __init__(self, config: RegistryConfig) -> None:
        self._store = open_registry_store(config)

    def fixations(self) -> list[tuple[str, float, int]]:
        """(plate, speed, sequence) of every fixation the registry holds; a list, so a
        duplicate would show."""
        rows = self._store.db.query("SELECT plate_text, speed_kmh, sequence FROM fixations")
        return sorted(
            (str(row["plate_text"]), float(row["speed_kmh"]), int(row["sequence"])) for row in rows
        )

    def status_shows_tamper(self, device_id: str) -> bool:
        rows = list(
            self._store.db.query("SELECT body FROM device_status WHERE device_id = ?", (device_id,))
        )
        return bool(rows) and json.loads(rows[0]["body"]).get("tamper") is True

    def close(self) -> None:
        if isinstance(self._store, PostgresStore):
            self._store.shutdown()
        else:
            self._store.close()


def ledger_entries(url: str) -> int:
    """How many ledger entries a server holds (read as the prosecutor's read-only role)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM ledger").fetchone()
    return int(row[0]) if row else 0
