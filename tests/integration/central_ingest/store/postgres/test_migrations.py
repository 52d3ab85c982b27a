"""A PostgreSQL registry database made by the main branch of 2026-12-07, before the PostgreSQL
store existed (schema version 3: 0/1 flags as boolean, no casefold()), brought forward by
today's migrations and then used by the registry: every row kept, the flags 0/1 integers as the
statements of both stores expect, a name search folded in the database, and a second migration
finding nothing to do."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from central_ingest.operators import Operators
from central_ingest.reports import dead_letter_summary
from central_ingest.store.db import fold_text, open_store
from central_ingest.store.postgres.db import PostgresStore
from central_ingest.store.postgres.schema import SCHEMA_VERSION, migrate, schema_version
from tests.support.paths import SUPPORT
from tests.support.postgres import PostgresServer, RegistryDatabase

V3_DUMP = SUPPORT / "registry-postgres-v3.sql"
AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
FLAGS = {
    ("operators", "active"): "1",
    ("dead_letters", "retryable"): "0",
    ("dead_letters", "signed"): "0",
    ("double_reviews", "agrees"): None,
}


def _column(
    conn: psycopg.Connection[tuple[object, ...]], table: str, column: str
) -> tuple[object, ...]:
    row = conn.execute(
        "SELECT data_type, column_default FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = %s AND column_name = %s",
        (table, column),
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_a_version_3_database_of_before_the_store_is_brought_forward_and_used(
    postgres_server: PostgresServer,
) -> None:
    database = RegistryDatabase(postgres_server, "erap_from_v3")
    postgres_server.psql_file(V3_DUMP, dbname="erap_from_v3")
    with psycopg.connect(database.superuser_url, autocommit=True) as admin:
        admin.execute(
            "INSERT INTO operators (username, display_name, role, password_hash, active,"
            " created_at) VALUES ('serik', 'СЕРІК Әбенов', 'reviewer', 'x', true, %s),"
            " ('gone', 'Gone Away', 'reviewer', 'x', false, %s)",
            (AT, AT),
        )
        admin.execute(
            "INSERT INTO dead_letters (received_at, channel, device_id, reason, detail,"
            " retryable, payload, signed) VALUES (%s, 'mqtt', 'cam-1', 'bad_signature', 'd',"
            " true, '\\x00', false)",
            (AT,),
        )
        assert _column(admin, "operators", "active") == ("boolean", "true")

    with psycopg.connect(database.owner_url, autocommit=True) as owner:
        assert schema_version(owner) == 3
        assert migrate(owner) == list(range(4, SCHEMA_VERSION + 1))
        for (table, column), default in FLAGS.items():
            assert _column(owner, table, column) == ("smallint", default)
        # The new check holds: a flag is 0 or 1.
        refused = owner.execute(
            "SELECT count(*) FROM pg_constraint WHERE conname = 'operators_active_check'"
        ).fetchone()
        assert refused == (1,)
        assert migrate(owner) == []

    store = open_store(database.app_url, migrate=False)
    assert isinstance(store, PostgresStore)
    try:
        operators = {o.username: o.active for o in Operators(store, session_hours=12).list()}
        assert operators == {"serik": True, "gone": False}
        (folded,) = store.db.conn.execute(
            "SELECT username FROM operators WHERE casefold(display_name) = ?",
            (fold_text("серік әбенов"),),
        ).fetchone()
        assert folded == "serik"
        (summary,) = dead_letter_summary(store)
        assert (summary["reason"], summary["count"], summary["retryable"]) == (
            "bad_signature",
            1,
            1,
        )
    finally:
        store.shutdown()
