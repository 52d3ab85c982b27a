"""Storage failures in the registry's own terms.

Code outside ``central_ingest/store`` never names the database driver: store functions raise
these instead of ``sqlite3`` or ``psycopg`` exceptions, so the services behave the same on
either store (deploy/SCALING.md, section 7).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

try:  # The PostgreSQL driver is installed with the registry (extra "central"), not the box.
    import psycopg
except ImportError:  # pragma: no cover - a box or a terminal without the registry's extra
    psycopg = None  # type: ignore[assignment]


class StoreError(Exception):
    """The database refused or failed an operation (locked, full, unreadable)."""


class StoreConflict(StoreError):
    """A write refused by an integrity rule: a duplicate key, a foreign key, a trigger."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (the primary died, the network is down): nothing was
    acknowledged, and the same work can be tried again once it answers."""


@contextmanager
def translated_errors() -> Iterator[None]:
    """Re-raise the driver's exceptions as StoreConflict / StoreError, keeping the cause."""
    try:
        yield
    except sqlite3.IntegrityError as error:
        raise StoreConflict(str(error)) from error
    except sqlite3.Error as error:
        raise StoreError(str(error)) from error
    except Exception as error:
        if psycopg is None or not isinstance(error, psycopg.Error):
            raise
        if isinstance(error, psycopg.IntegrityError):
            raise StoreConflict(_first_line(error)) from error
        if isinstance(error, psycopg.OperationalError):
            raise StoreUnavailable(_first_line(error)) from error
        raise StoreError(_first_line(error)) from error


def _first_line(error: Exception) -> str:
    # psycopg's messages carry DETAIL/HINT lines after the first.
    return str(error).splitlines()[0] if str(error) else type(error).__name__
