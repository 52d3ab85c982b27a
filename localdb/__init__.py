"""The one way every part of the product opens a local SQLite file (the registry's embedded
store and its backups, the camera box's outbox and sensor journal, the terminal's journal).

Every opener used to set its own lock wait (5 s in the terminal, 30 s elsewhere): a second
connection that met a write in progress then failed with "database is locked" after different
times in different parts. Here there is one default, 30 s, long enough for a checkpoint or a
backup step on a slow SD card, and a part that wants another one says why at its call.

This package imports no other part of the project, so each may import it; the pure cores
(``central_ingest.core``, ``contract``, ...) may not (tests/unit/test_layering.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from urllib.parse import quote

__all__ = ["DEFAULT_BUSY_TIMEOUT_S", "SYNCHRONOUS_LEVELS", "open_sqlite", "write_transaction"]

# How long a connection waits for another's lock before "database is locked".
DEFAULT_BUSY_TIMEOUT_S = 30.0

# FULL: every commit fsynced (a payment's reversal, a fixation's outbox row on the box that
# must survive a power cut); NORMAL: in WAL mode, a power cut may lose the last commits but
# never corrupts the file.
SYNCHRONOUS_LEVELS = frozenset({"FULL", "NORMAL", "OFF"})


def open_sqlite(
    path: Path,
    *,
    synchronous: str | None = "NORMAL",
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    read_only: bool = False,
    wal: bool = True,
    foreign_keys: bool = False,
) -> sqlite3.Connection:
    """A connection to the SQLite file ``path`` in autocommit mode (``isolation_level=None``:
    transactions are the caller's BEGIN/COMMIT), usable from any thread (the caller serialises
    its use), waiting up to ``busy_timeout_s`` for another connection's lock.

    ``read_only`` opens an existing file for reading (never creates it, never checkpoints the
    WAL on close), and then sets no journal mode and no ``synchronous`` (nothing is written);
    otherwise ``wal`` switches the file to WAL and ``synchronous`` (None: SQLite's default) is
    set. The folder is the caller's to create: a missing one is an error it reports."""
    if synchronous is not None and synchronous not in SYNCHRONOUS_LEVELS:
        # Checked before it is written into the PRAGMA below.
        raise ValueError(
            f"synchronous={synchronous!r} is not a level SQLite knows here: use one of"
            f" {', '.join(sorted(SYNCHRONOUS_LEVELS))}"
        )
    if read_only:
        conn = sqlite3.connect(
            f"file:{quote(str(path))}?mode=ro",
            uri=True,
            timeout=busy_timeout_s,
            isolation_level=None,
            check_same_thread=False,
        )
    else:
        conn = sqlite3.connect(
            path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
    # ``timeout`` above is SQLite's busy handler itself (sqlite3_busy_timeout): no PRAGMA needed.
    try:
        if not read_only:
            if wal:
                conn.execute("PRAGMA journal_mode=WAL")
            if synchronous is not None:
                conn.execute(f"PRAGMA synchronous={synchronous}")
        if foreign_keys:
            conn.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def write_transaction(
    conn: sqlite3.Connection, lock: AbstractContextManager[object]
) -> Iterator[sqlite3.Connection]:
    """One atomic write on ``conn`` (opened by ``open_sqlite``: autocommit), one thread at a
    time under ``lock``: BEGIN IMMEDIATE takes the file's write lock up front, so a write never
    fails half-way on another connection's lock; COMMIT at the end, ROLLBACK on any exception
    (a card pulled, a power failure signalled, a bug), which is raised again."""
    with lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
