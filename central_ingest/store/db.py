"""The registry's database, whichever it is: what the store's functions and the services see.

Two stores keep the same tables, rules and statements (deploy/SCALING.md, section 7):

- ``SqliteStore`` (``store/sqlite_db.py``): one file, the embedded default for a site or an
  agency and for ``make demo``;
- ``PostgresStore`` (``store/postgres/db.py``): the national registry, several hosts writing
  to one PostgreSQL primary with a synchronous standby.

``open_store`` picks one from the registry's ``database`` setting: a ``postgresql://`` URL, or
a file path. The store's functions take the ``Database`` that ``Store.db`` and
``Store.transaction()`` hand out and call ``db.conn.execute`` with ``?`` placeholders (``:name``
in ``store/vehicles.py``); the PostgreSQL connection rewrites those for psycopg, so one
statement serves both wherever standard SQL does, and ``db.dialect`` picks between two
hand-written statements where it does not (``bench/store_dialects.py`` measured why this and
not SQLAlchemy Core).
"""

from __future__ import annotations

import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias
from urllib.parse import urlsplit, urlunsplit

# SQLite's lower(), upper() and LIKE fold ASCII letters only: 'Серік' LIKE 'серік' is false.
# Searches by a person's name compare ``casefold(column)`` (Python's full Unicode case folding,
# registered on every SQLite connection; a PL/pgSQL function of the same name in PostgreSQL)
# with the casefolded input instead.
CASEFOLD_FUNCTION = "casefold"
# The escape character of the LIKE patterns built by ``contains_pattern``.
LIKE_ESCAPE = "\\"

POSTGRES_SCHEMES = ("postgresql://", "postgres://")

SqlValue: TypeAlias = str | bytes | int | float | None
Dialect: TypeAlias = Literal["sqlite", "postgresql"]
Parameters: TypeAlias = Sequence[Any] | Mapping[str, Any]


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


class Cursor(Protocol):
    """The part of a DB-API cursor the store's functions use."""

    @property
    def description(self) -> Any: ...

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __next__(self) -> Any: ...

    def close(self) -> None: ...


class Connection(Protocol):
    """The part of a connection the store's functions use: sqlite3's, or the PostgreSQL
    store's adapter that takes the same ``?`` statements."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Parameters = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Parameters], /) -> Cursor: ...


class Database(Protocol):
    """One connection as the store's functions see it. Services pass it back to the store's
    functions and never use it themselves."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def conn(self) -> Connection: ...

    def atomic(self) -> AbstractContextManager[None]:
        """A nested step inside the caller's transaction (a savepoint): undone alone if it
        raises."""
        ...

    def snapshot(self) -> AbstractContextManager[None]:
        """A read-only transaction whose reads all see one moment of the database."""
        ...

    def query(self, sql: str, parameters: Parameters = ()) -> Iterator[dict[str, Any]]:
        """The rows of a query as dictionaries keyed by column name."""
        ...

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Many rows into one table at once (the ingest's batches): ``executemany`` of an
        INSERT on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL, which fires the same triggers
        and checks the same constraints (a broken rule raises as an INSERT's would)."""
        ...

    def stream(self, sql: str, parameters: Parameters = ()) -> Iterator[Any]:
        """The rows of a query, fetched as they are read rather than all at once (the audit
        reads every ledger row: millions in the national registry). Several may be open at
        once inside one transaction."""
        ...


class Store(ABC):
    """The registry's database: a connection per thread (``db``) and write transactions."""

    dialect: Dialect

    @property
    @abstractmethod
    def db(self) -> Database:
        """This thread's connection, for reads (each statement on its own) and for passing to
        the store's functions inside ``transaction()``."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Database]:
        """One atomic write, rolled back on any exception. Writers of one registry are
        serialised, on every host: the ledger's hash chain needs one total order, and the case
        lifecycle's read-check-write steps rely on nothing changing in between."""

    @abstractmethod
    def migrate(self) -> None:
        """Bring the database to this program's schema version (``store/schema.py`` and
        ``store/postgres/schema.py``), creating it if it is empty."""

    @abstractmethod
    def close(self) -> None:
        """Close this thread's connection (and, for the last user, the store's resources)."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the data is, for people: a file path, or a URL without its password."""


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def is_postgres_target(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def open_store(target: str | Path, *, pool_size: int = 40, migrate: bool = True) -> Store:
    """The store for a ``database`` setting: a ``postgresql://`` URL (libpq's syntax, several
    hosts allowed) or a SQLite file path, created if it does not exist.

    ``migrate=False`` opens a PostgreSQL database as it is (the schema is then the deploy
    step's business: ``erap-registry migrate``, as the owner role)."""
    # Imported here: both modules build on this one.
    if is_postgres_target(target):
        from central_ingest.store.postgres.db import PostgresStore

        return PostgresStore(str(target), pool_size=pool_size, migrate=migrate)
    from central_ingest.store.sqlite_db import SqliteStore

    return SqliteStore(Path(target))


def migrate_database(target: str | Path) -> tuple[int | None, int]:
    """Bring the database at ``target`` to this program's schema version (creating a SQLite
    file that does not exist); returns (the version it was at, None if it was created or
    empty; the version it is at now). A PostgreSQL database is changed as ``erap_owner``: the
    URL's role must be it, a member of it, or a superuser (``MigrationError`` says so)."""
    # Imported here: both modules build on this one.
    if is_postgres_target(target):
        from central_ingest.store.postgres.schema import migrate_url

        return migrate_url(str(target))
    from central_ingest.store.sqlite_db import migrate_file

    return migrate_file(Path(target))


__all__ = [
    "CASEFOLD_FUNCTION",
    "LIKE_ESCAPE",
    "Connection",
    "Cursor",
    "Database",
    "Dialect",
    "Store",
    "casefold",
    "contains_pattern",
    "fold_text",
    "is_postgres_target",
    "migrate_database",
    "open_store",
    "redacted",
]
