"""The tests' PostgreSQL 15: the harness lives in demo/postgres.py and demo/postgres_cluster.py
(the demo and the benches start the same servers); re-exported here for the tests."""

from __future__ import annotations

from demo.postgres import (
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
from demo.postgres_cluster import STANDBY_NAME, PostgresCluster

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
