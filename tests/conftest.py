from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.broker import MosquittoBroker
from tests.support.postgres import PostgresServer


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
