"""SQLite connections for the registry: WAL, foreign keys, explicit write transactions.

Each thread gets its own connection. Writes go through ``transaction()``, which takes the write
lock up front (BEGIN IMMEDIATE) so that concurrent writers never fail half-way through. Before
that, writers of this registry queue on an advisory file lock: the kernel wakes the next one as
soon as the lock is free, where SQLite's busy handler would sleep in steps of up to 100 ms and
leave the database idle while several ingest workers wait.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeAlias

import sqlite_utils

from central_ingest.store.schema import DDL, MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 30_000

# SQLite's lower(), upper() and LIKE fold ASCII letters only: 'Серік' LIKE 'серік' is false.
# Searches by a person's name compare ``casefold(column)`` (Python's full Unicode case folding,
# registered on every connection) with the casefolded input instead.
CASEFOLD_FUNCTION = "casefold"
# The escape character of the LIKE patterns built by ``contains_pattern``.
LIKE_ESCAPE = "\\"


SqlValue: TypeAlias = str | bytes | int | float | None


def casefold(value: SqlValue) -> SqlValue:
    """Text in one canonical form and case (NFC, then ``str.casefold``): 'СЕРІК', 'Серік' and
    'серік' become the same string. Anything else (NULL, numbers) passes unchanged."""
    if isinstance(value, str):
        return fold_text(value)
    return value


def fold_text(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def contains_pattern(text: str) -> str:
    """A LIKE pattern (with ``ESCAPE LIKE_ESCAPE``) matching values that contain ``text``
    after folding: the reader's ``%`` and ``_`` are matched as themselves, not as wildcards."""
    folded = fold_text(text)
    escaped = (
        folded.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


# The open database that ``Store.db`` and ``Store.transaction()`` hand out: services pass it
# back to the store's functions and never use it themselves.
Database: TypeAlias = sqlite_utils.Database


class Store:
    """Owns the registry database file and hands each thread its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.migrate()

    def _connect(self) -> Database:
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # Deterministic: SQLite may then use it in indexes and constant-fold it.
        conn.create_function(CASEFOLD_FUNCTION, 1, casefold, deterministic=True)
        return sqlite_utils.Database(conn)

    def _write_lock_fd(self) -> int:
        fd: int | None = getattr(self._local, "lock_fd", None)
        if fd is None:
            # One open file per thread: flock excludes other threads' descriptors too.
            fd = os.open(
                self.path.with_name(self.path.name + ".write-lock"), os.O_RDWR | os.O_CREAT
            )
            self._local.lock_fd = fd
        return fd

    @property
    def db(self) -> Database:
        database: Database | None = getattr(self._local, "db", None)
        if database is None:
            database = self._connect()
            self._local.db = database
        return database

    def migrate(self) -> None:
        """Create a new database at ``SCHEMA_VERSION``, or bring an older file forward one
        recorded version at a time (``schema.MIGRATIONS``), each step in its own transaction."""
        conn = self.db.conn
        fresh = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()[0] == 0
        if fresh:
            conn.executescript(DDL)
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?)"
                " ON CONFLICT(key) DO NOTHING",
                (str(SCHEMA_VERSION),),
            )
            return
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
        # Tables, indexes and triggers added without a column change are created as before.
        conn.executescript(DDL)

    @contextmanager
    def transaction(self) -> Iterator[Database]:
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
        database: Database | None = getattr(self._local, "db", None)
        if database is not None:
            database.close()
            self._local.db = None
        lock_fd: int | None = getattr(self._local, "lock_fd", None)
        if lock_fd is not None:
            os.close(lock_fd)
            self._local.lock_fd = None
