"""Which store the registry under test runs on: the same tests on SQLite and on PostgreSQL.

A test module that should run on both says ``pytestmark = pytest.mark.usefixtures(
"registry_store")`` (tests/conftest.py): each of its tests then runs twice, ``[sqlite]`` and
``[postgresql]``. For the PostgreSQL run the fixture makes a fresh database on the session's
server, a copy of a template migrated once (``CREATE DATABASE ... TEMPLATE``: milliseconds,
where migrating each would take a second), and ``current_database()`` gives its URL as the
application role ``erap_app``, so the test's registry works with the privileges production
has. The helpers that build a registry (``RegistryWorld.create``, ``tests/support/api.py``,
``notices.py``, ``audit_registry.py``) pass it as the ``database`` setting.

At the end of the test every PostgreSQL store it opened is shut down and the database dropped.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from central_ingest.store.postgres.db import PostgresStore
from central_ingest.store.postgres.schema import migrate
from demo.postgres import PostgresServer, RegistryDatabase

TEMPLATE = "erap_registry_template"

_current: str | None = None
_current_owner: str | None = None
_current_superuser: str | None = None
_numbers = itertools.count(1)
_template_ready: set[int] = set()


def current_database() -> str | None:
    """The PostgreSQL URL the current test's registry uses, or None for SQLite (the file in
    the registry's data directory)."""
    return _current


def database_overrides(config_overrides: dict[str, Any]) -> dict[str, Any]:
    """Registry config overrides with this test's ``database`` added, unless the test set one."""
    if _current is None or "database" in config_overrides:
        return config_overrides
    return {**config_overrides, "database": _current}


def _ensure_template(server: PostgresServer) -> None:
    if server.port in _template_ready:
        return
    database = RegistryDatabase(server, TEMPLATE)
    with psycopg.connect(database.owner_url, autocommit=True) as conn:
        migrate(conn)
    _template_ready.add(server.port)


@contextmanager
def fresh_registry_database(server: PostgresServer) -> Iterator[str]:
    """A new migrated registry database for one test; yields its URL as ``erap_app``."""
    global _current, _current_owner, _current_superuser
    _ensure_template(server)
    name = f"erap_test_{next(_numbers)}"
    ident = sql.Identifier(name)
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER erap_owner TEMPLATE {}").format(
                ident, sql.Identifier(TEMPLATE)
            )
        )
        # Database-level privileges are not copied from a template (deploy/postgresql/
        # database.sql grants them).
        admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(ident))
        admin.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO erap_app, erap_reader").format(ident)
        )
    _current = server.url(name, "erap_app")
    _current_owner = server.url(name, "erap_owner")
    _current_superuser = server.url(name)
    try:
        yield _current
    finally:
        _current = _current_owner = _current_superuser = None
        _shut_down_stores()
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(ident))


def _shut_down_stores() -> None:
    """Close the pools of every PostgreSQL store still alive in this process: the registry
    under test opens its own (the API's, the jobs'), and each holds connections."""
    gc.collect()
    for thing in gc.get_objects():
        if isinstance(thing, PostgresStore):
            thing.shutdown()


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
