"""The registry's PostgreSQL schema on a real PostgreSQL 15: it is the SQLite schema's twin
(tables, columns, indexes, every trigger), its rules refuse what SQLite's triggers refuse and
allow the lawful writes, its roles hold (the application cannot rewrite the ledger, the
prosecutor's role cannot write), and ``migrate`` is idempotent.

Rows are written with plain SQL, as a script or a hand-typed statement would, not through the
registry's code. Each test works in its own transaction on its own rows, rolled back at the
end, except the concurrency test, which must commit."""

from __future__ import annotations

import threading
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
    wait_until_blocked,
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


# --- a paid case is never handed to bailiffs ------------------------------------------------------


def test_a_paid_case_is_never_moved_to_bailiffs_nor_handed_over(
    app: psycopg.Connection[Any],
) -> None:
    rows = Rows(app, NOW)
    paid = rows.case()
    rows.payment(paid)
    refused(
        app,
        REFUSED_TO_BAILIFFS,
        "UPDATE cases SET status = 'sent_to_bailiffs' WHERE case_number = %s",
        paid,
    )
    refused(
        app,
        REFUSED_TO_BAILIFFS,
        "INSERT INTO bailiff_handovers (case_number, kind,"
        " amount_minor, recorded_at, document) VALUES (%s, 'handover', 1, %s, '{}')",
        paid,
        rows.at(),
    )
    # Money on the case itself, with no payment row: refused as well.
    with_money = rows.case()
    app.execute("UPDATE cases SET paid_minor = 100 WHERE case_number = %s", (with_money,))
    refused(
        app,
        "has a payment",
        "UPDATE cases SET status = 'sent_to_bailiffs' WHERE case_number = %s",
        with_money,
    )
    # Born with the bailiffs: refused.
    fixation = rows.fixation()
    rows.confirm(fixation)
    with pytest.raises(psycopg.IntegrityError, match="only from open"), app.transaction():
        rows.case(fixation, status="sent_to_bailiffs")


def test_an_unpaid_overdue_case_goes_to_bailiffs_and_can_be_recalled_once_paid(
    app: psycopg.Connection[Any],
) -> None:
    rows = Rows(app, NOW)
    case_number = rows.case()
    refused(
        app,
        "only a case handed to bailiffs",
        "INSERT INTO bailiff_handovers (case_number,"
        " kind, amount_minor, recorded_at, document) VALUES (%s, 'recall', 1, %s, '{}')",
        case_number,
        rows.at(),
    )
    refused(
        app,
        "only an unpaid case moved",
        "INSERT INTO bailiff_handovers (case_number, kind,"
        " amount_minor, recorded_at, document) VALUES (%s, 'handover', 1, %s, '{}')",
        case_number,
        rows.at(),
    )
    rows.to_bailiffs(case_number)
    handover = rows.handover(case_number)
    # The driver pays after the hand-over: the payment is kept, the bailiffs get a recall.
    rows.payment(case_number)
    recall = rows.handover(case_number, "recall")
    assert recall > handover


def test_bailiff_hand_overs_are_append_only(owner: psycopg.Connection[Any]) -> None:
    sentence = "bailiff hand-overs and recalls are append-only"
    rows = Rows(owner, NOW)
    case_number = rows.case()
    rows.to_bailiffs(case_number)
    rows.handover(case_number)
    refused(owner, sentence, "UPDATE bailiff_handovers SET amount_minor = 0")
    refused(owner, sentence, "DELETE FROM bailiff_handovers")
    refused(owner, sentence, "TRUNCATE bailiff_handovers")


def test_payments_are_never_deleted_altered_or_unmatched(owner: psycopg.Connection[Any]) -> None:
    rows = Rows(owner, NOW)
    case_number = rows.case()
    payment = rows.payment(case_number)
    refused(owner, "never deleted", "DELETE FROM payments WHERE payment_id = %s", payment)
    refused(owner, "never deleted", "TRUNCATE payments")
    refused(
        owner,
        "stays matched",
        "UPDATE payments SET matched_case = NULL WHERE payment_id = %s",
        payment,
    )
    refused(
        owner,
        "never altered",
        "UPDATE payments SET amount_minor = 1 WHERE payment_id = %s",
        payment,
    )
    # Matching an unmatched payment later is lawful.
    loose = rows.payment(None)
    owner.execute(
        "UPDATE payments SET matched_case = %s WHERE payment_id = %s", (case_number, loose)
    )


# --- decisions: once, by the right people ---------------------------------------------------------


def test_a_case_needs_a_confirmed_fixation_and_a_fixation_is_decided_once(
    app: psycopg.Connection[Any],
) -> None:
    rows = Rows(app, NOW)
    waiting = rows.fixation()
    with pytest.raises(psycopg.IntegrityError, match="officer confirmed"), app.transaction():
        rows.case(waiting)
    rows.confirm(waiting)
    rows.case(waiting)
    refused(
        app,
        "decided once",
        "UPDATE fixations SET status = 'rejected',"
        " reject_reason = 'plate_unreadable' WHERE fixation_id = %s",
        waiting,
    )
    refused(
        app, "decided once", "UPDATE fixations SET plate_text = 'X' WHERE fixation_id = %s", waiting
    )


def test_a_cancellation_is_decided_once_by_someone_other_than_its_requester(
    app: psycopg.Connection[Any],
) -> None:
    rows = Rows(app, NOW)
    case_number = rows.case()
    refused(
        app,
        "approved cancellation request",
        "UPDATE cases SET status = 'cancelled' WHERE case_number = %s",
        case_number,
    )
    request = rows.cancellation(case_number)
    with pytest.raises(errors.CheckViolation), app.transaction():
        rows.decide(request, by=rows.reviewer)  # the requester approving their own request
    with pytest.raises(errors.UniqueViolation), app.transaction():
        rows.cancellation(case_number)  # one pending request per case
    rows.decide(request, by=rows.supervisor)
    refused(
        app,
        "decided once",
        "UPDATE cancellation_requests SET status = 'denied' WHERE request_id = %s",
        request,
    )
    app.execute("UPDATE cases SET status = 'cancelled' WHERE case_number = %s", (case_number,))
    refused(
        app,
        "closed for good",
        "UPDATE cases SET status = 'open' WHERE case_number = %s",
        case_number,
    )


def test_a_double_review_is_decided_once(app: psycopg.Connection[Any]) -> None:
    rows = Rows(app, NOW)
    case_number = rows.case()
    fixation = app.execute(
        "SELECT fixation_id FROM cases WHERE case_number = %s", (case_number,)
    ).fetchone()
    assert fixation is not None
    app.execute(
        "INSERT INTO double_reviews (fixation_id, case_number, first_officer, first_plate,"
        " sampled_at) VALUES (%s, %s, %s, '123ABC01', %s)",
        (fixation[0], case_number, rows.reviewer, rows.at()),
    )
    with pytest.raises(errors.CheckViolation), app.transaction():
        app.execute("UPDATE double_reviews SET second_officer = first_officer")
    app.execute(
        "UPDATE double_reviews SET status = 'done', second_officer = %s, verdict = 'confirmed',"
        " second_plate = '123ABC01', agrees = 1, reviewed_at = %s WHERE case_number = %s",
        (rows.supervisor, rows.at(1), case_number),
    )
    refused(
        app,
        "a double review is decided once",
        "UPDATE double_reviews SET agrees = 0 WHERE case_number = %s",
        case_number,
    )


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


# --- concurrent writers --------------------------------------------------------------------------


def test_a_payment_committed_while_a_hand_over_waits_stops_the_hand_over(
    registry: RegistryDatabase,
) -> None:
    """Two writers on one case: the payment's transaction holds the case's row lock, the move
    to bailiffs waits for it, then sees the payment and is refused. Without that lock
    (payments_lock_case) the move would not wait, would not see the uncommitted payment, and
    both would commit: a paid case with the bailiffs."""
    with psycopg.connect(registry.app_url) as paying, psycopg.connect(registry.app_url) as jobs:
        rows = Rows(paying, NOW)
        case_number = rows.case()
        paying.commit()
        rows.payment(case_number)  # not committed yet

        outcome: list[psycopg.Error | None] = []

        def hand_over() -> None:
            try:
                jobs.execute(
                    "UPDATE cases SET status = 'sent_to_bailiffs' WHERE case_number = %s",
                    (case_number,),
                )
                jobs.commit()
                outcome.append(None)
            except psycopg.Error as error:
                jobs.rollback()
                outcome.append(error)

        worker = threading.Thread(target=hand_over)
        worker.start()
        wait_until_blocked(paying, jobs.info.backend_pid)
        paying.commit()
        worker.join(10)
        assert len(outcome) == 1
        assert isinstance(outcome[0], psycopg.IntegrityError)
        assert "never handed to bailiffs" in str(outcome[0])
        status = paying.execute(
            "SELECT status FROM cases WHERE case_number = %s", (case_number,)
        ).fetchone()
        assert status == ("open",)
