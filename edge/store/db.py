"""The camera box's local SQLite database: outbox, evidence index, evictions, dead letters.

WAL lets the recorder and the sender work side by side. ``synchronous`` is chosen per
connection: FULL where a fixation is recorded (a violation must survive a power cut the moment
it is accepted), NORMAL where acknowledged rows are deleted (a delete lost in a power cut only
causes a resend, which the registry drops as a duplicate).
"""

from __future__ import annotations

import sqlite3
from enum import StrEnum
from pathlib import Path

from localdb import open_sqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS sequences (
    device_id TEXT PRIMARY KEY,
    last_sequence INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    device_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    envelope BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_evidence (
    message_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (message_id, sha256)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outbox_evidence_by_file ON outbox_evidence(sha256);
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    stored_at TEXT NOT NULL,
    uploaded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS files_by_age ON files(category, stored_at);
CREATE TABLE IF NOT EXISTS evictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    evicted_at TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    category TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    name TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    raised_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    message_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    envelope BLOB NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT,
    failed_at TEXT NOT NULL
);
"""


class Durability(StrEnum):
    FULL = "FULL"
    NORMAL = "NORMAL"


def open_database(path: Path, durability: Durability) -> sqlite3.Connection:
    """Open (creating if needed) the box database. Transactions are explicit (BEGIN/COMMIT)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = open_sqlite(path, synchronous=durability.value)
    conn.executescript(SCHEMA)
    return conn
