"""The embedded store: one SQLite file, WAL, foreign keys, explicit write transactions.

Each thread gets its own connection. Writes go through ``transaction()``, which takes the write
lock up front (BEGIN IMMEDIATE) so that concurrent writers never fail half-way through. Before
that, writers of this registry queue on an advisory file lock: the kernel wakes the next one as
soon as the lock is free, where SQLite's busy handler would sleep in steps of up to 100 ms and
leave the database idle while several ingest workers wait.
"""

from __future__ import annotations

import fcntl
import itertools
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from central_ingest.store.db import (
    CASEFOLD_FUNCTION,
    Dialect,
    Parameters,
    Store,
    casefold,
)
from central_ingest.store.schema import DDL, MIGRATIONS, SCHEMA_VERSION
from localdb import open_sqlite

BUSY_TIMEOUT_MS = 30_000

_savepoints = itertools.count(1)


class SqliteDatabase:
    """One sqlite3 connection, as ``store.db.Database``."""

    dialect: Dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @contextmanager
    def atomic(self) -> Iterator[None]:
        if not self.conn.in_transaction:
            raise RuntimeError("a savepoint is taken only inside a write transaction")
        name = f"erap_{next(_savepoints)}"
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            # A trigger's RAISE(ROLLBACK) may have ended the whole transaction already.
            if self.conn.in_transaction:
                self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                self.conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        self.conn.execute(f"RELEASE SAVEPOINT {name}")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        # In WAL mode a read transaction sees the database as of its first read.
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("ROLLBACK")

    def query(self, sql: str, parameters: Parameters = ()) -> Iterator[dict[str, object]]:
        cursor = self.conn.execute(sql, parameters)
        names = [column[0] for column in cursor.description]
        for row in cursor:
            yield dict(zip(names, row, strict=True))

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        marks = ", ".join("?" * len(columns))
        self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def stream(self, sql: str, parameters: Parameters = ()) -> Iterator[Any]:
        # A sqlite3 cursor steps through the result as it is read.
        return iter(self.conn.execute(sql, parameters))

    def close(self) -> None:
        self.conn.close()


class SqliteStore(Store):
    """Owns the registry database file and hands each thread its own connection."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.migrate()

    @property
    def location(self) -> str:
        return str(self.path)

    def _connect(self) -> SqliteDatabase:
        conn = open_sqlite(
            self.path,
            synchronous="NORMAL",
            busy_timeout_s=BUSY_TIMEOUT_MS / 1000,
            foreign_keys=True,
        )
        # Deterministic: SQLite may then use it in indexes and constant-fold it.
        conn.create_function(CASEFOLD_FUNCTION, 1, casefold, deterministic=True)
        return SqliteDatabase(conn)

    def _write_lock_fd(self) -> int:
        lock: BinaryIO | None = getattr(self._local, "lock_file", None)
        if lock is None:
            # One open file per thread: flock excludes other threads' descriptors too. A file
            # object, not a bare descriptor: when a server's worker thread ends, its thread-local
            # file is collected and closed; a bare int leaked one descriptor per thread (a test
            # run reached past 1,024, where select() refuses them).
            lock = open(self.path.with_name(self.path.name + ".write-lock"), "ab", buffering=0)  # noqa: SIM115
            self._local.lock_file = lock
        return lock.fileno()

    @property
    def db(self) -> SqliteDatabase:
        database: SqliteDatabase | None = getattr(self._local, "db", None)
        if database is None:
            database = self._connect()
            self._local.db = database
        return database

    def migrate(self) -> None:
        """Create a new database at ``SCHEMA_VERSION``, or bring an older file forward one
        recorded version at a time (``schema.MIGRATIONS``), each step in its own transaction."""
        conn = self.db.conn
        fresh = (
            conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).fetchone()[0]
            == 0
        )
        if fresh:
            conn.executescript(DDL)
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?)"
                " ON CONFLICT(key) DO NOTHING",
                (str(SCHEMA_VERSION),),
            )
            return
        # A step may rebuild a table others refer to (version 8 rebuilds cases): foreign keys
        # are off while the steps run (SQLite ignores the switch inside a transaction) and are
        # checked before the commit instead, so a step that broke one is rolled back whole.
        conn.execute("PRAGMA foreign_keys = OFF")
        try:
            self._migrate_steps()
        finally:
            conn.execute("PRAGMA foreign_keys = ON")
        # Tables, indexes and triggers added without a column change are created as before.
        conn.executescript(DDL)

    def _migrate_steps(self) -> None:
        with self.transaction() as database:
            row = database.conn.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()
            version = int(row[0]) if row else 1
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"the database {self.path} is at schema version {version}, newer than this"
                    f" program's {SCHEMA_VERSION}: install the newer release"
                )
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    database.conn.execute(statement)
                database.conn.execute(
                    "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(step),)
                )
            broken = database.conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(
                    f"migrating {self.path} would break {len(broken)} references"
                    f" (first: {tuple(broken[0])}); nothing was changed"
                )

    @contextmanager
    def transaction(self) -> Iterator[SqliteDatabase]:
        """One atomic write: BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        database = self.db
        if database.conn.in_transaction:
            with database.atomic():
                yield database
            return
        lock_fd = self._write_lock_fd()
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        try:
            database.conn.execute("BEGIN IMMEDIATE")
            try:
                yield database
            except BaseException:
                database.conn.execute("ROLLBACK")
                raise
            database.conn.execute("COMMIT")
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)

    def close(self) -> None:
        database: SqliteDatabase | None = getattr(self._local, "db", None)
        if database is not None:
            database.close()
            self._local.db = None
        lock: BinaryIO | None = getattr(self._local, "lock_file", None)
        if lock is not None:
            lock.close()
            self._local.lock_file = None


def migrate_file(path: Path) -> tuple[int | None, int]:
    """Open (create) the SQLite registry at ``path``, which migrates it: (the version before,
    None for a new file; the version now)."""
    before: int | None = None
    if path.is_file():
        with closing(open_sqlite(path, synchronous="NORMAL", read_only=True)) as conn:
            known = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).fetchone()[0]
            if known:
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                before = int(row[0]) if row else 1
    store = SqliteStore(path)
    store.close()
    return before, SCHEMA_VERSION


__all__ = ["BUSY_TIMEOUT_MS", "SqliteDatabase", "SqliteStore", "migrate_file"]
