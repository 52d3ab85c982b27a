"""The national registry's store: PostgreSQL 15 through psycopg 3 and a psycopg-pool pool.

Same interface as ``SqliteStore`` (``store/db.py``), same statements: the store's functions
write ``?`` placeholders (``:name`` in ``store/vehicles.py``) and ``PostgresConnection``
rewrites them as psycopg's ``%s`` / ``%(name)s`` once per distinct statement.

- **Connections.** Each thread holds one connection of the pool, in autocommit: a read outside
  a transaction is one statement, as in SQLite. A connection that broke (the primary died) is
  handed back, and the pool connects again, to whichever host of a multi-host URL with
  ``target_session_attrs=read-write`` is the primary now.
- **Writes.** ``transaction()`` is ``BEGIN``, then ``pg_advisory_xact_lock(LEDGER_LOCK)``, then
  the caller's statements, then ``COMMIT``: one writer at a time across every host, as
  ``BEGIN IMMEDIATE`` is on SQLite. The ledger's hash chain and Merkle frontier need one total
  order, and almost every write of the registry appends to the ledger; the case lifecycle's
  read-check-write steps then stay exact under READ COMMITTED without row locks of their own.
  Reads never wait for it.
- **Values.** ``timestamptz`` comes back as ``core.clock.iso`` text (``connection.configure``);
  Python booleans are written as 0/1, as SQLite stores them (the flags are ``smallint``);
  ``numeric`` (what ``sum()`` of a ``bigint`` gives) comes back as ``int`` when whole, as
  SQLite's integers do.
- **Errors.** A lost connection during a write raises ``StoreUnavailable`` (the work can be
  retried on the new primary); rule violations raise psycopg's ``IntegrityError``, which
  ``store.errors.translated_errors`` maps to ``StoreConflict``.
"""

from __future__ import annotations

import atexit
import itertools
import re
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.abc import AdaptContext, Buffer
from psycopg.adapt import Dumper, Loader
from psycopg.pq import TransactionStatus
from psycopg.types.numeric import NumericLoader
from psycopg_pool import ConnectionPool, PoolTimeout

from central_ingest.store.db import Dialect, Parameters, Store, redacted
from central_ingest.store.errors import StoreError, StoreUnavailable
from central_ingest.store.postgres.connection import LEDGER_LOCK, configure
from central_ingest.store.postgres.schema import SCHEMA_VERSION, migrate, schema_version

# How long a thread waits for a free connection, or for the database to answer again.
CONNECT_TIMEOUT_S = 30.0

_TOKENS = re.compile(
    r"""
    (?P<literal>'(?:[^']|'')*'|"(?:[^"]|"")*")   # quoted text and identifiers, kept
    | (?P<cast>::)                               # a cast, kept
    | (?P<positional>\?)
    | :(?P<named>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<percent>%)
    """,
    re.VERBOSE,
)


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """A statement with SQLite's placeholders in psycopg's: ``?`` -> ``%s``, ``:name`` ->
    ``%(name)s``, a literal ``%`` -> ``%%``; quoted text left as it is."""

    def replace(match: re.Match[str]) -> str:
        if match.group("positional"):
            return "%s"
        if match.group("named"):
            return f"%({match.group('named')})s"
        if match.group("percent"):
            return "%%"
        return match.group(0)

    return _TOKENS.sub(replace, sql)


class _BoolAsSmallintDumper(Dumper):
    """True/False as 1/0: the registry's flags are 0/1 integers in both stores."""

    oid = psycopg.adapters.types["int2"].oid

    def dump(self, obj: bool) -> Buffer:
        return b"1" if obj else b"0"


class _WholeNumericLoader(Loader):
    """``numeric`` as ``int`` when it has no fraction (``sum`` of integers), else ``float``
    (``avg``): what SQLite's arithmetic gives the same code."""

    def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
        super().__init__(oid, context)
        self._parser = NumericLoader(oid, context)

    def load(self, data: Buffer) -> int | float:
        value = self._parser.load(data)
        if value == value.to_integral_value():
            return int(value)
        return float(value)


def _prepare(conn: psycopg.Connection[Any]) -> None:
    configure(conn)
    conn.adapters.register_dumper(bool, _BoolAsSmallintDumper)
    conn.adapters.register_loader("numeric", _WholeNumericLoader)


class PostgresConnection:
    """A psycopg connection behind the part of sqlite3's interface the store's functions use."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Parameters = (), /) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor()
        with self.lost_as_unavailable():
            cursor.execute(translate(sql), parameters)
        return cursor

    def executemany(self, sql: str, parameters: Iterable[Parameters], /) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor()
        rows = list(parameters)
        if rows:
            with self.lost_as_unavailable():
                cursor.executemany(translate(sql), rows)
        return cursor

    @contextmanager
    def lost_as_unavailable(self) -> Iterator[None]:
        """A connection that died under a statement (the primary was killed, the network cut)
        raises ``StoreUnavailable``, which the services know how to wait out; the next use of
        ``PostgresStore.db`` on this thread connects afresh."""
        try:
            yield
        except psycopg.OperationalError as error:
            if self.raw.broken or self.raw.closed:
                raise StoreUnavailable(
                    f"the registry database stopped answering: {str(error).strip()}"
                ) from error
            raise


# Rows fetched per round trip by ``PostgresDatabase.stream``'s server-side cursors.
STREAM_ROWS = 5_000
_stream_names = itertools.count(1)


def _closing(cursor: psycopg.ServerCursor[Any]) -> Iterator[Any]:
    try:
        yield from cursor
    finally:
        if not cursor.closed and not cursor.connection.broken:
            cursor.close()


class PostgresDatabase:
    """One pooled connection, as ``store.db.Database``."""

    dialect: Dialect = "postgresql"

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        self.conn = PostgresConnection(raw)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        if not self.conn.in_transaction:
            raise RuntimeError("a savepoint is taken only inside a write transaction")
        with self.raw.transaction():
            yield

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        self.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield
        finally:
            if not self.raw.broken:
                self.raw.execute("ROLLBACK")

    def stream(self, sql: str, parameters: Parameters = ()) -> Iterator[Any]:
        if not self.conn.in_transaction:
            # A server-side cursor lives in a transaction; a single statement outside one
            # is read whole, as psycopg reads any result.
            return iter(self.conn.execute(sql, parameters))
        cursor = self.raw.cursor(name=f"erap_stream_{next(_stream_names)}")
        cursor.itersize = STREAM_ROWS
        with self.conn.lost_as_unavailable():
            cursor.execute(translate(sql), parameters)
        return _closing(cursor)

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        # COPY, not executemany: psycopg pipelines executemany already, but each row still
        # costs a Bind/Execute on both ends; COPY streams the rows (bench/ingest.py: about a
        # third less CPU per fixation, workers and server together).
        if not rows:
            return
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN").format(
            pgsql.Identifier(table),
            pgsql.SQL(", ").join(pgsql.Identifier(name) for name in columns),
        )
        cursor = self.raw.cursor()
        with self.conn.lost_as_unavailable(), cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def query(self, sql: str, parameters: Parameters = ()) -> Iterator[dict[str, Any]]:
        cursor = self.conn.execute(sql, parameters)
        names = [column.name for column in cursor.description or ()]
        for row in cursor:
            yield dict(zip(names, row, strict=True))


class _Held:
    """This thread's connection, and what gives it back to the pool."""

    __slots__ = ("__weakref__", "database", "finalizer")

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database
        self.finalizer: weakref.finalize[Any, Any]


def _give_back(pool: ConnectionPool[psycopg.Connection[Any]], raw: psycopg.Connection[Any]) -> None:
    try:
        pool.putconn(raw)
    except Exception:  # the pool is closed already: nothing to give back to
        raw.close()


class PostgresStore(Store):
    """A pool of connections to the registry's PostgreSQL database, one held per thread."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 40, migrate: bool = True) -> None:
        self.url = url
        self._local = threading.local()
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"autocommit": True},
            configure=_prepare,
            check=ConnectionPool.check_connection,
            timeout=CONNECT_TIMEOUT_S,
            name="erap-registry",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except PoolTimeout as error:
            self._pool.close()
            raise StoreUnavailable(
                f"cannot connect to the registry database {redacted(url)} within"
                f" {CONNECT_TIMEOUT_S:.0f} s: check that PostgreSQL runs, the URL and the"
                " role's access (pg_hba.conf)"
            ) from error
        _open_stores.add(self)
        if migrate:
            self.migrate()
        else:
            self._require_current_schema()

    @property
    def location(self) -> str:
        return redacted(self.url)

    @property
    def db(self) -> PostgresDatabase:
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None and (held.database.raw.broken or held.database.raw.closed):
            # The server went away under it: hand it back (the pool discards it).
            self._release(held)
            held = None
        if held is None:
            try:
                raw = self._pool.getconn()
            except PoolTimeout as error:
                raise StoreUnavailable(
                    f"no connection to the registry database {self.location} within"
                    f" {CONNECT_TIMEOUT_S:.0f} s"
                ) from error
            held = _Held(PostgresDatabase(raw))
            # A thread that ends drops its thread-local values: the connection then goes back
            # to the pool instead of staying checked out for ever (servers start and end
            # worker threads as they please).
            held.finalizer = weakref.finalize(held, _give_back, self._pool, raw)
            self._local.held = held
        return held.database

    def _release(self, held: _Held) -> None:
        self._local.held = None
        held.finalizer.detach()
        _give_back(self._pool, held.database.raw)

    def migrate(self) -> None:
        # migrate() changes the session's role inside its own transactions only.
        database = self.db
        if schema_version(database.raw) != SCHEMA_VERSION:
            migrate(database.raw)

    def _require_current_schema(self) -> None:
        version = schema_version(self.db.raw)
        if version != SCHEMA_VERSION:
            raise StoreError(
                f"the registry database {self.location} is at schema version {version}, this"
                f" program needs {SCHEMA_VERSION}: run `erap-registry migrate` as the owner role"
            )

    @contextmanager
    def transaction(self) -> Iterator[PostgresDatabase]:
        database = self.db
        if database.conn.in_transaction:
            with database.atomic():
                yield database
            return
        try:
            with database.raw.transaction():
                database.raw.execute("SELECT pg_advisory_xact_lock(%s)", (LEDGER_LOCK,))
                yield database
        except (psycopg.OperationalError, StoreUnavailable) as error:
            if database.raw.broken or database.raw.closed:
                self._release(self._local.held)
                raise StoreUnavailable(
                    f"the connection to the registry database {self.location} was lost during"
                    " a write: nothing of it was acknowledged, and it can be tried again once the"
                    " database answers"
                ) from error
            raise

    def close(self) -> None:
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None:
            self._release(held)

    def shutdown(self) -> None:
        """Close every connection of the pool (the process is ending)."""
        self.close()
        self._pool.close()
        _open_stores.discard(self)

    @staticmethod
    def shutdown_all() -> None:
        """Close the pools of every store this process opened and did not shut down, so that
        the server sees each connection end cleanly (it logs every one cut off otherwise)."""
        for store in list(_open_stores):
            store.shutdown()


# The stores still open in this process, for ``shutdown_all`` at exit.
_open_stores: weakref.WeakSet[PostgresStore] = weakref.WeakSet()
atexit.register(PostgresStore.shutdown_all)


__all__ = ["PostgresConnection", "PostgresDatabase", "PostgresStore", "redacted", "translate"]
