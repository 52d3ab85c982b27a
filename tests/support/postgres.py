"""The tests' PostgreSQL 15, one import for the tests: one server (postgres_server.py) and a
primary with its synchronous standby (postgres_cluster.py). The demo and the benches start the
same servers from these modules."""

from __future__ import annotations

from tests.support.postgres_cluster import STANDBY_NAME, PostgresCluster
from tests.support.postgres_server import (
    BIN,
    DEPLOY,
    FAST_SETTINGS,
    PACKAGE,
    SUPERUSER,
    PostgresMissing,
    PostgresServer,
    RegistryDatabase,
    as_server_user,
    server_program,
    server_user,
)

__all__ = [
    "BIN",
    "DEPLOY",
    "FAST_SETTINGS",
    "PACKAGE",
    "STANDBY_NAME",
    "SUPERUSER",
    "PostgresCluster",
    "PostgresMissing",
    "PostgresServer",
    "RegistryDatabase",
    "as_server_user",
    "server_program",
    "server_user",
]
