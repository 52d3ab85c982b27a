"""The registry's PostgreSQL schema on a real PostgreSQL 15: it is the SQLite schema's twin
(tables, columns, indexes, every trigger), its rules refuse what SQLite's triggers refuse and
allow the lawful writes, its roles hold (the application cannot rewrite the ledger, the
prosecutor's role cannot write), and ``migrate`` is idempotent.

Rows are written with plain SQL, as a script or a hand-typed statement would, not through the
registry's code. Each test works in its own transaction on its own rows, rolled back at the
end, except the concurrency test, which must commit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors

from central_ingest.core.clock import iso
from central_ingest.store import schema as sqlite_schema
from central_ingest.store.postgres import roles
from central_ingest.store.postgres.connection import configure
from central_ingest.store.postgres.inbound_payment_rules import POSTGRES_ONLY_TRIGGERS
from central_ingest.store.postgres.notice_rules import (
    POSTGRES_ONLY_TRIGGERS as NOTICE_POSTGRES_ONLY_TRIGGERS,
)
from central_ingest.store.postgres.rules import SQLITE_TRIGGERS_KEPT
from central_ingest.store.postgres.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    MigrationError,
    migrate,
    schema_version,
)
from tests.support.postgres import PostgresServer, RegistryDatabase
from tests.support.postgres_rows import (
    Rows,
    catalog,
    denied,
    first_column,
    refused,
    sqlite_twin,
)

NOW = datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
REFUSED_TO_BAILIFFS = "never handed to bailiffs|closed for good|only an unpaid case"


@pytest.fixture(scope="module")
def registry(postgres_server: PostgresServer) -> RegistryDatabase:
    database = RegistryDatabase(postgres_server, "schema_rules")
    with psycopg.connect(database.owner_url, autocommit=True) as conn:
        assert migrate(conn) == sorted(MIGRATIONS)
    return database


def _session(url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(url) as conn:
        configure(conn)
        try:
            yield conn
        finally:
            conn.rollback()


@pytest.fixture
def app(registry: RegistryDatabase) -> Iterator[psycopg.Connection[Any]]:
    """The application role, in a transaction rolled back after the test."""
    yield from _session(registry.app_url)


@pytest.fixture
def owner(registry: RegistryDatabase) -> Iterator[psycopg.Connection[Any]]:
    """The owner role (no privilege missing: only the triggers stand in its way)."""
    yield from _session(registry.owner_url)


# --- the schema is SQLite's twin -------------------------------------------------------------


def test_migrate_creates_sqlites_tables_columns_indexes_and_triggers(owner: Any) -> None:
    assert SCHEMA_VERSION == sqlite_schema.SCHEMA_VERSION
    assert schema_version(owner) == SCHEMA_VERSION
    lite = sqlite_twin()
    lite_tables = [
        name
        for (name,) in lite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for table in lite_tables:
        lite_columns = [row[1] for row in lite.execute(f"PRAGMA table_info({table})")]
        pg_columns = [
            name
            for (name,) in owner.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND table_name = %s ORDER BY ordinal_position",
                (table,),
            )
        ]
        assert pg_columns == lite_columns, table
    pg_tables = {
        name
        for (name,) in owner.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    }
    assert pg_tables == set(lite_tables) == set(roles.APP_PRIVILEGES)

    lite_indexes = {
        name
        for (name,) in lite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    }
    pg_indexes = {
        name
        for (name,) in owner.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
            " AND indexname NOT LIKE '%%_pkey' AND indexname NOT LIKE '%%_key'"
        )
    }
    assert pg_indexes == lite_indexes

    lite_triggers = {
        name for (name,) in lite.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    pg_triggers = {
        name for (name,) in owner.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    }
    assert lite_triggers == set(SQLITE_TRIGGERS_KEPT)
    assert lite_triggers <= pg_triggers
    # What PostgreSQL adds: TRUNCATE refused where DELETE is, and the case lock for payments.
    assert pg_triggers - lite_triggers == {
        "ledger_no_truncate",
        "merkle_no_truncate",
        "tree_heads_no_truncate",
        "bailiff_handovers_no_truncate",
        "payments_no_truncate",
        "payments_lock_case",
        *POSTGRES_ONLY_TRIGGERS,
        *NOTICE_POSTGRES_ONLY_TRIGGERS,
    }
    # Every object belongs to the owner role, whoever ran the migration.
    owners = owner.execute(
        "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class"
        " WHERE relnamespace = 'public'::regnamespace"
    ).fetchall()
    assert owners == [(roles.OWNER,)]


def test_migrate_again_changes_nothing(registry: RegistryDatabase) -> None:
    with psycopg.connect(registry.owner_url, autocommit=True) as conn:
        before = catalog(conn), conn.execute("SELECT * FROM meta ORDER BY key").fetchall()
        assert migrate(conn) == []
        assert migrate(conn) == []
        after = catalog(conn), conn.execute("SELECT * FROM meta ORDER BY key").fetchall()
        assert after == before
        assert before[1] == [("schema_version", str(SCHEMA_VERSION))]


def test_migrate_refuses_a_newer_database_and_a_role_that_is_not_the_owner(
    postgres_server: PostgresServer,
) -> None:
    database = RegistryDatabase(postgres_server, "schema_newer")
    with (
        psycopg.connect(database.app_url, autocommit=True) as conn,
        pytest.raises(MigrationError, match="erap_owner"),
    ):
        migrate(conn)
    # The superuser may act as the owner: the objects are the owner's all the same.
    with psycopg.connect(database.superuser_url, autocommit=True) as conn:
        assert migrate(conn) == sorted(MIGRATIONS)
        conn.execute(
            "UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),)
        )
        with pytest.raises(MigrationError, match="newer than this program"):
            migrate(conn)


# --- append-only: the triggers, and the application role's privileges ---------------------------

APPEND_ONLY = {
    "ledger": "the audit ledger is append-only",
    "merkle_nodes": "the Merkle tree is append-only",
    "tree_heads": "signed tree heads are append-only",
}


def test_ledger_merkle_nodes_and_tree_heads_refuse_update_delete_and_truncate(
    owner: psycopg.Connection[Any],
) -> None:
    rows = Rows(owner, NOW)
    seq = rows.ledger_entry()
    for table, sentence in APPEND_ONLY.items():
        refused(owner, sentence, f"UPDATE {table} SET {first_column(owner, table)} = NULL")
        refused(owner, sentence, f"DELETE FROM {table}")
        refused(owner, sentence, f"TRUNCATE {table}")
    assert owner.execute("SELECT max(seq) FROM ledger").fetchone() == (seq,)
    message = rows.message(rows.camera, "fixation")
    refused(
        owner,
        "kept verbatim",
        "UPDATE messages SET envelope = '{\"forged\": 1}' WHERE message_id = %s",
        message,
    )


def test_the_application_role_appends_but_cannot_update_delete_or_truncate_history(
    app: psycopg.Connection[Any],
) -> None:
    rows = Rows(app, NOW)
    seq = rows.ledger_entry()  # INSERT is what the application does
    case_number = rows.case()
    rows.payment(case_number)
    for table in ("ledger", "merkle_nodes", "tree_heads", "messages", "payments"):
        denied(app, f"UPDATE {table} SET {first_column(app, table)} = NULL")
        denied(app, f"DELETE FROM {table}")
        denied(app, f"TRUNCATE {table}")
    denied(app, "TRUNCATE bailiff_handovers")
    denied(app, "UPDATE meta SET value = '1'")
    # Nor may it shadow a registry table with a temporary one of its own.
    denied(app, "CREATE TEMPORARY TABLE payments (matched_case text)")
    assert app.execute("SELECT max(seq) FROM ledger").fetchone() == (seq,)


def test_the_read_only_role_writes_nothing_and_reads_no_secrets(
    registry: RegistryDatabase,
) -> None:
    with psycopg.connect(registry.reader_url) as conn:
        assert conn.execute("SELECT count(*) >= 0 FROM ledger").fetchone() == (True,)
        assert conn.execute("SELECT count(username) >= 0 FROM operators").fetchone() == (True,)
        conn.rollback()
        # Its transactions are read-only (roles.sql) ...
        with pytest.raises(errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
        conn.rollback()
        # ... and with that switched off, it holds no privilege to write anyway.
        conn.execute("SET TRANSACTION READ WRITE")
        for table in roles.APP_PRIVILEGES:
            column = first_column(conn, table)
            for sql in (
                f"INSERT INTO {table} DEFAULT VALUES",
                f"UPDATE {table} SET {column} = {column}",
                f"DELETE FROM {table}",
                f"TRUNCATE {table}",
            ):
                denied(conn, sql)
        for sql in (
            "SELECT token_hash FROM sessions",
            "SELECT username FROM login_failures",
            "SELECT password_hash FROM operators",
        ):
            denied(conn, sql)


# --- timestamps --------------------------------------------------------------------------------


def test_timestamps_read_back_as_the_iso_text_written(app: psycopg.Connection[Any]) -> None:
    """timestamptz in the database, core.clock.iso text on both sides of it."""
    rows = Rows(app, NOW)
    moments = [NOW, NOW.replace(microsecond=0), datetime(2024, 2, 29, 23, 59, 59, 1, UTC)]
    for moment in moments:
        app.execute(
            "INSERT INTO login_failures (username, failed_at) VALUES (%s, %s)",
            (rows.tag, iso(moment)),
        )
    for binary in (False, True):
        read = app.execute(
            "SELECT failed_at FROM login_failures WHERE username = %s ORDER BY failed_at",
            (rows.tag,),
            binary=binary,
        ).fetchall()
        assert [value for (value,) in read] == sorted(iso(moment) for moment in moments)
    # Compared as instants, not as strings: the same moment written at UTC+5 is found.
    astana = (NOW + timedelta(hours=5)).replace(tzinfo=None).isoformat() + "+05:00"
    found = app.execute(
        "SELECT count(*) FROM login_failures WHERE username = %s AND failed_at = %s",
        (rows.tag, astana),
    ).fetchone()
    assert found == (1,)
    with pytest.raises(errors.InvalidDatetimeFormat), app.transaction():
        app.execute(
            "INSERT INTO login_failures (username, failed_at) VALUES (%s, 'yesterday-ish')",
            (rows.tag,),
        )
