"""How every registry connection to PostgreSQL is set up.

Timestamps are ``timestamptz`` in the database but ISO-8601 text everywhere else in the
registry (``core.clock.iso``: UTC, microseconds, ``+00:00``), hashed into ledger payloads and
compared with what the SQLite store returns. ``configure`` makes psycopg read every
``timestamptz`` back as exactly that text, so the PostgreSQL repositories hand the services the
same strings as the SQLite ones. Writing needs nothing: psycopg sends a ``str`` parameter with
no type, and PostgreSQL parses ISO text into the column's type.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.abc import AdaptContext, Buffer
from psycopg.adapt import Loader
from psycopg.pq import Format
from psycopg.types.datetime import TimestamptzBinaryLoader, TimestamptzLoader

from central_ingest.core.clock import iso

# pg_advisory_xact_lock keys (a bigint each): one total order for ledger appends across hosts
# (deploy/SCALING.md, section 7), and one migration at a time.
LEDGER_LOCK = 0x45524150_4C454447  # "ERAPLEDG"
MIGRATION_LOCK = 0x45524150_4D494752  # "ERAPMIGR"


class IsoTimestamptzLoader(Loader):
    """psycopg's own ``timestamptz`` parsing, then ``core.clock.iso``."""

    parser: type[Loader] = TimestamptzLoader

    def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
        super().__init__(oid, context)
        self._parser = self.parser(oid, context)

    def load(self, data: Buffer) -> str:
        return iso(self._parser.load(data))


class IsoTimestamptzBinaryLoader(IsoTimestamptzLoader):
    format = Format.BINARY
    parser = TimestamptzBinaryLoader


def configure(conn: psycopg.Connection[Any]) -> None:
    """UTC for the session, and ``timestamptz`` read as ``core.clock.iso`` text. For a fresh
    connection (a pool's ``configure`` callback): it leaves the connection idle."""
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    conn.execute("SET TIME ZONE 'UTC'")
    if idle and not conn.autocommit:
        conn.commit()
    conn.adapters.register_loader("timestamptz", IsoTimestamptzLoader)
    conn.adapters.register_loader("timestamptz", IsoTimestamptzBinaryLoader)
