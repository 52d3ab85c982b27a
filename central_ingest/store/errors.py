"""Storage failures in the registry's own terms.

Code outside ``central_ingest/store`` never names the database driver: store functions raise
these instead of ``sqlite3`` exceptions, so a PostgreSQL store (deploy/SCALING.md, section 7)
changes this package only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


class StoreError(Exception):
    """The database refused or failed an operation (locked, full, unreadable)."""


class StoreConflict(StoreError):
    """A write refused by an integrity rule: a duplicate key, a foreign key, a trigger."""


@contextmanager
def translated_errors() -> Iterator[None]:
    """Re-raise the driver's exceptions as StoreConflict / StoreError, keeping the cause."""
    try:
        yield
    except sqlite3.IntegrityError as error:
        raise StoreConflict(str(error)) from error
    except sqlite3.Error as error:
        raise StoreError(str(error)) from error
