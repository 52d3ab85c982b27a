"""The registry's schema for PostgreSQL 15, as numbered migrations, and ``migrate``.

Versions follow the SQLite schema's (``store/schema.py``): the same number means the same
tables, columns and rules in both stores. PostgreSQL starts at version 2, SQLite's
``SCHEMA_VERSION`` when it arrived, with one step from an empty database to all of version 2:
the tables (``tables.py``), the rules (``rules.py``) and the roles' privileges (``roles.py``).
Each later version adds one step here and one in ``store/schema.py``.

``meta.schema_version`` records the version, as in SQLite. ``migrate`` applies the missing steps
in order, each in its own transaction (PostgreSQL's DDL is transactional: a failed step leaves
the previous version whole), as the owner role, one migrating process at a time.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from central_ingest.store.errors import StoreError
from central_ingest.store.postgres.appeal_rules import APPEALS
from central_ingest.store.postgres.connection import MIGRATION_LOCK
from central_ingest.store.postgres.inbound_payment_rules import INBOUND_PAYMENTS
from central_ingest.store.postgres.notice_rules import NOTICE_RULES
from central_ingest.store.postgres.roadside_schema import ROADSIDE
from central_ingest.store.postgres.roles import APP_PRIVILEGES, OWNER, grant_statements
from central_ingest.store.postgres.rules import FUNCTIONS, TRIGGERS
from central_ingest.store.postgres.tables import (
    CASE_LINKS,
    DEAD_LETTER_DIGESTS,
    NOTIFICATION_DELIVERY,
    PLATE_HISTORY_INDEXES,
    TABLES,
)

SCHEMA_VERSION = 10

# Each step: the SQL scripts that take the database from the previous version to this one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (TABLES, FUNCTIONS, TRIGGERS),
    3: (DEAD_LETTER_DIGESTS,),
    4: (PLATE_HISTORY_INDEXES,),
    5: (NOTIFICATION_DELIVERY,),
    6: (CASE_LINKS,),
    7: (APPEALS,),
    8: (ROADSIDE,),
    9: (INBOUND_PAYMENTS,),
    10: (NOTICE_RULES,),
}


class MigrationError(StoreError):
    """The database cannot be brought to this program's schema version."""


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The version ``meta`` records; 0 for a database the registry has never migrated."""
    if conn.execute("SELECT to_regclass('public.meta')").fetchone() == (None,):
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection[Any]) -> list[int]:
    """Bring the database to ``SCHEMA_VERSION``; returns the versions applied (none when it is
    there already, in which case nothing is written).

    ``conn`` must be idle, connected as ``erap_owner`` or a role that may ``SET ROLE`` to it
    (a member, or a superuser): every object belongs to ``erap_owner`` whoever runs this."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise MigrationError("migrate needs a connection outside any transaction")
    applied: list[int] = []
    while True:
        with conn.transaction():
            _become_owner(conn)
            # Two hosts starting together: the second waits, then finds the step done.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            version = schema_version(conn)
            if version > SCHEMA_VERSION:
                raise MigrationError(
                    f"the database is at schema version {version}, newer than this program's"
                    f" {SCHEMA_VERSION}: install the newer release"
                )
            pending = sorted(step for step in MIGRATIONS if step > version)
            if not pending:
                return applied
            step = pending[0]
            for script in MIGRATIONS[step]:
                conn.execute(script)
            tables = _check_every_table_has_privileges(conn)
            for statement in grant_statements(tables):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', %s)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(step),),
            )
            applied.append(step)


def _become_owner(conn: psycopg.Connection[Any]) -> None:
    try:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER)))
    except psycopg.Error as error:
        raise MigrationError(
            f"the registry's schema is changed as the role {OWNER}, and this connection's user"
            f" {conn.info.user!r} may not act as it: connect as {OWNER}, or create the roles"
            f" first (deploy/postgresql/roles.sql). PostgreSQL said: {error}"
        ) from error


def _check_every_table_has_privileges(conn: psycopg.Connection[Any]) -> set[str]:
    """A step that adds a table must say what the application role may do to it. Returns the
    tables there are after the step (a database on its way up lacks the later ones)."""
    tables = {
        name
        for (name,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    }
    unlisted = sorted(tables - set(APP_PRIVILEGES))
    if unlisted:
        raise MigrationError(
            f"the tables {', '.join(unlisted)} have no entry in"
            " central_ingest/store/postgres/roles.py APP_PRIVILEGES: say what the application"
            " role may do to them"
        )
    return tables


def migrate_url(url: str) -> tuple[int | None, int]:
    """``migrate`` on a connection of its own to ``url``: (the version before, None for an
    empty database; the version now)."""
    with psycopg.connect(url, autocommit=True) as conn:
        before = schema_version(conn)
        migrate(conn)
        return (before or None), schema_version(conn)
