"""The primary and its synchronous standby (tests/support/postgres_cluster.py), configured from
deploy/postgresql/: a commit returns only once the standby holds it, waits while the standby
is away, and after the primary's crash and the standby's promotion the registry's multi-host
URL reaches the promoted server with every committed row."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.support.postgres import STANDBY_NAME, PostgresCluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    with PostgresCluster() as running:
        with psycopg.connect(running.primary.url(), autocommit=True) as conn:
            conn.execute("CREATE TABLE receipts (id integer PRIMARY KEY, note text)")
        yield running


def connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True)


def count(url: str, where: str = "TRUE") -> int:
    with connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM receipts WHERE {where}").fetchone()
    assert row is not None
    return int(row[0])


def test_the_standby_streams_synchronously_with_the_deployed_settings(
    cluster: PostgresCluster,
) -> None:
    with connect(cluster.primary.url()) as conn:
        rows = conn.execute(
            "SELECT application_name, state, sync_state FROM pg_stat_replication"
        ).fetchall()
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()
            for name in ("synchronous_standby_names", "synchronous_commit", "wal_level")
        }
    assert rows == [(STANDBY_NAME, "streaming", "sync")]
    assert settings == {
        "synchronous_standby_names": ("FIRST 1 (erap_standby_a)",),
        "synchronous_commit": ("on",),
        "wal_level": ("replica",),
    }
    with connect(cluster.standby.url()) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        slot = conn.execute("SHOW primary_slot_name").fetchone()
    assert slot == (STANDBY_NAME,)


def test_a_commit_returns_once_the_standby_holds_it(cluster: PostgresCluster) -> None:
    with connect(cluster.primary.url()) as conn:
        # synchronous_commit = on (primary.conf): the standby has the commit's WAL on disk
        # when COMMIT returns; the WAL written before the COMMIT record is a lower bound.
        with conn.transaction():
            conn.execute("INSERT INTO receipts VALUES (1, 'on')")
            before_commit = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()
        with connect(cluster.standby.url()) as standby:
            received = standby.execute(
                "SELECT pg_last_wal_receive_lsn() >= %s::pg_lsn", before_commit
            ).fetchone()
        assert received == (True,)
        # remote_apply: also visible on the standby, the first query there finds it.
        conn.execute("SET synchronous_commit = remote_apply")
        conn.execute("INSERT INTO receipts VALUES (2, 'remote_apply')")
        assert count(cluster.standby.url(), "id = 2") == 1


def test_a_commit_waits_while_the_standby_is_away(cluster: PostgresCluster) -> None:
    cluster.standby.stop()
    returned = threading.Event()
    failures: list[BaseException] = []

    def commit() -> None:
        try:
            with connect(cluster.primary.url()) as conn:
                conn.execute("INSERT INTO receipts VALUES (3, 'while the standby is away')")
            returned.set()
        except BaseException as error:  # reported by the test thread below
            failures.append(error)

    writer = threading.Thread(target=commit, daemon=True)
    writer.start()
    try:
        assert not returned.wait(1.0), "COMMIT returned with no standby to hold it"
        # Written on the primary's disk but not acknowledged: no other session sees it yet.
        assert count(cluster.primary.url(), "id = 3") == 0
    finally:
        cluster.standby.start()
    assert returned.wait(30.0), f"COMMIT still waiting once the standby is back: {failures}"
    assert count(cluster.standby.url(), "id = 3") == 1
    cluster.wait_for_sync()


def test_after_the_primary_dies_the_promoted_standby_has_every_committed_row() -> None:
    with PostgresCluster() as cluster:
        url = cluster.multi_host_url()
        with connect(url) as conn:
            assert conn.info.port == cluster.primary.port
            conn.execute("CREATE TABLE receipts (id integer PRIMARY KEY, note text)")
            for number in range(1, 51):
                conn.execute("INSERT INTO receipts VALUES (%s, 'acknowledged')", (number,))
            cluster.kill_primary()
            with pytest.raises(psycopg.OperationalError):
                conn.execute("INSERT INTO receipts VALUES (51, 'never acknowledged')")
        # The standby alone is read-only: target_session_attrs=read-write refuses it.
        with pytest.raises(psycopg.OperationalError, match=r"read-write|read-only"):
            connect(url).close()
        cluster.promote()
        with connect(url) as conn:
            assert conn.info.port == cluster.standby.port
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
            ids = [row[0] for row in conn.execute("SELECT id FROM receipts ORDER BY id")]
            assert ids == list(range(1, 51))
            # It takes writes at once (no standby of its own to wait for).
            conn.execute("INSERT INTO receipts VALUES (51, 'on the new primary')")
        assert count(url) == 51
