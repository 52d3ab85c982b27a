from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from central_ingest.cli.common import DATABASE_ENV
from tests.support.broker import MosquittoBroker
from tests.support.postgres import PostgresServer
from tests.support.stores import fresh_registry_database


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A real Mosquitto broker on a free loopback port, stopped after the test."""
    with MosquittoBroker(tmp_path / "broker") as running:
        yield running


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL 15 for the whole session (initdb + pg_ctl on a free loopback port, as
    an unprivileged user), stopped and removed at the end. Fails, never skips, when the Debian
    package postgresql-15 is missing: `make test` installs it."""
    with PostgresServer() as running:
        yield running


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """A libpq URL (as the superuser) of an empty database of its own on that server."""
    return postgres_server.create_database("erap_session")


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_store(request: pytest.FixtureRequest) -> Iterator[str]:
    """Runs the test once on each store: SQLite (the registry's file in its data directory),
    then PostgreSQL (a fresh migrated database on the session's server, as ``erap_app``). The
    helpers that build a registry read the choice from ``tests.support.stores``."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    with fresh_registry_database(server) as url:
        # The registry's commands run by the test (in process or not) open the same database.
        monkeypatch.setenv(DATABASE_ENV, url)
        yield "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``sqlite_only`` (they open the SQLite file itself: its triggers, its size)
    keep their SQLite run and drop the PostgreSQL one, whose rules test_postgres_schema.py
    checks."""
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.get_closest_marker("sqlite_only") and params.get("registry_store") == "postgresql":
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
