"""Which store the registry under test runs on: the same tests on SQLite and on PostgreSQL.

A test module that should run on both says ``pytestmark = pytest.mark.usefixtures(
"registry_store")`` (tests/conftest.py): each of its tests then runs twice, ``[sqlite]`` and
``[postgresql]``. For the PostgreSQL run the fixture empties the session's registry database
(migrated once; emptying takes milliseconds where a new database takes 200 ms and migrating one
a second), and ``current_database()`` gives its URL as the application role ``erap_app``, so
the test's registry works with the privileges production has. The helpers that build a
registry (``RegistryWorld.create``, ``tests/support/api.py``, ``notices.py``,
``audit_registry.py``) pass it as the ``database`` setting.

At the end of the test every PostgreSQL store it opened is shut down.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from central_ingest.store.postgres.db import PostgresStore
from central_ingest.store.postgres.schema import migrate
from tests.support.postgres_server import PostgresServer, RegistryDatabase

DATABASE = "erap_registry_tests"

_current: str | None = None
_current_owner: str | None = None
_current_superuser: str | None = None
_ready: dict[int, list[str]] = {}


def current_database() -> str | None:
    """The PostgreSQL URL the current test's registry uses, or None for SQLite (the file in
    the registry's data directory)."""
    return _current


def database_overrides(config_overrides: dict[str, Any]) -> dict[str, Any]:
    """Registry config overrides with this test's ``database`` added, unless the test set one."""
    if _current is None or "database" in config_overrides:
        return config_overrides
    return {**config_overrides, "database": _current}


def _prepare(server: PostgresServer) -> list[str]:
    """The session's registry database, made as deploy/postgresql/ says and migrated once;
    returns its tables (``meta`` aside: it holds the schema version)."""
    if server.port not in _ready:
        database = RegistryDatabase(server, DATABASE)
        with psycopg.connect(database.owner_url, autocommit=True) as conn:
            migrate(conn)
            _ready[server.port] = [
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename <> 'meta' ORDER BY tablename"
                )
            ]
    return _ready[server.port]


def _empty(server: PostgresServer, tables: list[str]) -> None:
    """Every row of the registry gone and every identity back to 1, as in a new database.
    The superuser's replica role fires no trigger (the append-only rules would refuse), and
    DELETE of a few rows costs a few milliseconds where CREATE DATABASE costs 200."""
    with psycopg.connect(server.url(DATABASE), autocommit=True) as conn, conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        for table in tables:
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
        sequences = conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall()
        for (sequence,) in sequences:
            conn.execute(sql.SQL("ALTER SEQUENCE {} RESTART").format(sql.Identifier(sequence)))


@contextmanager
def fresh_registry_database(server: PostgresServer) -> Iterator[str]:
    """The session's migrated registry database, emptied, for one test; yields its URL as
    ``erap_app`` (what the registry's processes connect as in production)."""
    global _current, _current_owner, _current_superuser
    _empty(server, _prepare(server))
    _current = server.url(DATABASE, "erap_app")
    _current_owner = server.url(DATABASE, "erap_owner")
    _current_superuser = server.url(DATABASE)
    try:
        yield _current
    finally:
        _current = _current_owner = _current_superuser = None
        _shut_down_stores()


def _shut_down_stores() -> None:
    """Close the pools of every PostgreSQL store still open in this process: the registry
    under test opens its own (the API's, the jobs'), and each holds connections."""
    PostgresStore.shutdown_all()


def registry_target(sqlite_path: Path) -> str | Path:
    """This test's PostgreSQL URL, or the SQLite file the test names."""
    return _current if _current is not None else sqlite_path


def owner_database() -> str | None:
    """This test's PostgreSQL database as ``erap_owner`` (every privilege: only the triggers
    stand in its way), or None on SQLite."""
    return _current_owner


def superuser_database() -> str | None:
    """This test's PostgreSQL database as the cluster's superuser (an intruder who owns the
    server), or None on SQLite."""
    return _current_superuser
