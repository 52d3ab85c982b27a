"""``localdb.open_sqlite``, the one opener of every part's SQLite file, on real files: the
journal mode and durability asked for, the one lock wait, read-only opening; and the
terminal's journal refusing a field it does not keep whatever Python's ``-O`` says."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from localdb import DEFAULT_BUSY_TIMEOUT_S, open_sqlite
from terminal.journal import Journal, PaymentState


def test_a_writable_file_is_in_wal_with_the_durability_asked_for(tmp_path: Path) -> None:
    levels = {"FULL": 2, "NORMAL": 1, "OFF": 0}
    for name, number in levels.items():
        conn = open_sqlite(tmp_path / f"{name}.db", synchronous=name, foreign_keys=True)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == number
            assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
            assert conn.isolation_level is None  # transactions are the caller's
        finally:
            conn.close()
    assert DEFAULT_BUSY_TIMEOUT_S == 30.0


def test_an_unknown_durability_is_refused_before_anything_is_opened(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="FULL, NORMAL, OFF"):
        open_sqlite(tmp_path / "x.db", synchronous="FULL; DROP TABLE t")
    assert not (tmp_path / "x.db").exists()


def test_a_second_writer_waits_for_the_lock_as_long_as_it_was_told(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = open_sqlite(path)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    waiter = open_sqlite(path, busy_timeout_s=0.3)
    try:
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            waiter.execute("BEGIN IMMEDIATE")
        waited = time.monotonic() - started
        assert 0.25 <= waited < 5, waited
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        waiter.close()


def test_read_only_opens_what_exists_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    writer = open_sqlite(path)
    writer.execute("CREATE TABLE t (x INTEGER)")
    writer.execute("INSERT INTO t VALUES (7)")
    writer.close()
    reader = open_sqlite(path, read_only=True)
    try:
        assert reader.execute("SELECT x FROM t").fetchall() == [(7,)]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.execute("INSERT INTO t VALUES (8)")
    finally:
        reader.close()
    with pytest.raises(sqlite3.OperationalError):
        open_sqlite(tmp_path / "absent.db", read_only=True)
    assert not (tmp_path / "absent.db").exists()


def test_the_terminal_journal_is_durable_and_waits_the_common_time(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "terminal.db")
    try:
        conn = journal._conn  # the settings its one connection was opened with
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    finally:
        journal.close()


def test_the_journal_refuses_a_field_it_does_not_keep(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "terminal.db")
    now = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    try:
        journal.start("p1", "KZ-1", 100, now)
        with pytest.raises(ValueError, match=r"no payment fields \['pan'\]"):
            journal.update("p1", PaymentState.NOT_CHARGED, now, pan="4000000000000002")
        with pytest.raises(ValueError, match=r"no payment fields \['cvv'\]"):
            journal.approve_and_queue("p1", b"{}", now, cvv="123")
        row = journal.payment("p1")
        assert row is not None and row.state is PaymentState.STARTED  # nothing written
        assert journal.undelivered() == []
    finally:
        journal.close()


def test_the_journal_check_holds_under_python_dash_o(tmp_path: Path) -> None:
    """An ``assert`` would vanish under ``python -O`` and let the name of a column be built
    from anything; the check is a real one."""
    script = (
        "import sys; from datetime import datetime, UTC; from pathlib import Path\n"
        "from terminal.journal import Journal, PaymentState\n"
        "j = Journal(Path(sys.argv[1]))\n"
        "now = datetime(2026, 3, 1, tzinfo=UTC)\n"
        "j.start('p1', 'KZ-1', 100, now)\n"
        "try:\n"
        "    j.update('p1', PaymentState.NOT_CHARGED, now, pan='4000000000000002')\n"
        "except ValueError as exc:\n"
        "    print('refused:', exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-O", "-c", script, str(tmp_path / "t.db")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "refused: the journal has no payment fields ['pan']" in done.stdout, done.stderr
