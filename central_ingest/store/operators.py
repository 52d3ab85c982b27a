"""Operator accounts, their login sessions and failed sign-ins, over SQLite.

Functions that write run inside the caller's write transaction (``Store.transaction``); the
readers take any handle. Passwords arrive here already hashed and session tokens as their
SHA-256: nothing secret is stored. The rules (who may do what, throttling, hashing) live in
``central_ingest.operators``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from central_ingest.core.errors import Forbidden, NotFound
from central_ingest.store.db import Database
from central_ingest.store.errors import translated_errors
from i18n.text import Text

_OPERATOR_COLUMNS = "username, display_name, role, active, created_at, language"


class OperatorRow(NamedTuple):
    username: str
    display_name: str
    role: str
    active: int
    created_at: str
    language: str | None


# --- accounts --------------------------------------------------------------------------------


def require_operator(db: Database, username: str) -> None:
    """Decisions are recorded against a known, active operator account."""
    row = db.conn.execute("SELECT active FROM operators WHERE username = ?", (username,)).fetchone()
    if row is None:
        raise NotFound(
            "operator_not_found", Text("There is no operator named %(name)s.", name=username)
        )
    if not row[0]:
        raise Forbidden(
            "operator_inactive", Text("Operator %(name)s is deactivated.", name=username)
        )


def operator_exists(db: Database, username: str) -> bool:
    with translated_errors():
        row = db.conn.execute("SELECT 1 FROM operators WHERE username = ?", (username,)).fetchone()
    return row is not None


def operator_row(db: Database, username: str) -> OperatorRow | None:
    with translated_errors():
        row = db.conn.execute(
            f"SELECT {_OPERATOR_COLUMNS} FROM operators WHERE username = ?", (username,)
        ).fetchone()
    return None if row is None else OperatorRow(*row)


def operator_rows(db: Database) -> list[OperatorRow]:
    """Every account, by user name."""
    with translated_errors():
        rows = db.conn.execute(
            f"SELECT {_OPERATOR_COLUMNS} FROM operators ORDER BY username"
        ).fetchall()
    return [OperatorRow(*row) for row in rows]


def credentials(db: Database, username: str) -> tuple[OperatorRow, str] | None:
    """The account and its password hash, or None if there is no such account."""
    with translated_errors():
        row = db.conn.execute(
            f"SELECT {_OPERATOR_COLUMNS}, password_hash FROM operators WHERE username = ?",
            (username,),
        ).fetchone()
    return None if row is None else (OperatorRow(*row[:6]), row[6])


def insert_operator(
    db: Database,
    *,
    username: str,
    display_name: str,
    role: str,
    password_hash: str,
    created_at: str,
) -> None:
    """A new, active account."""
    with translated_errors():
        db.conn.execute(
            "INSERT INTO operators (username, display_name, role, password_hash, active,"
            " created_at) VALUES (?, ?, ?, ?, 1, ?)",
            (username, display_name, role, password_hash, created_at),
        )


def set_password_hash(db: Database, username: str, password_hash: str) -> bool:
    """Replace the account's password hash; False if there is no such account."""
    with translated_errors():
        cursor = db.conn.execute(
            "UPDATE operators SET password_hash = ? WHERE username = ?",
            (password_hash, username),
        )
    return bool(cursor.rowcount != 0)


def set_operator_language(db: Database, username: str, language: str | None) -> bool:
    """The language of the operator's screens (None: the registry's default); False if there
    is no such account."""
    with translated_errors():
        cursor = db.conn.execute(
            "UPDATE operators SET language = ? WHERE username = ?", (language, username)
        )
    return bool(cursor.rowcount != 0)


def set_operator_active(db: Database, username: str, active: bool) -> None:
    with translated_errors():
        db.conn.execute(
            "UPDATE operators SET active = ? WHERE username = ?", (int(active), username)
        )


# --- sessions --------------------------------------------------------------------------------


def insert_session(
    db: Database, *, token_hash: str, username: str, created_at: str, expires_at: str
) -> None:
    with translated_errors():
        db.conn.execute(
            "INSERT INTO sessions (token_hash, username, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (token_hash, username, created_at, expires_at),
        )


def session_row(db: Database, token_hash: str) -> tuple[OperatorRow, str] | None:
    """The account a session token (by its hash) belongs to, and when the session expires;
    None if no session has that token."""
    with translated_errors():
        row = db.conn.execute(
            "SELECT o.username, o.display_name, o.role, o.active, o.created_at, o.language,"
            " s.expires_at"
            " FROM sessions s JOIN operators o ON o.username = s.username"
            " WHERE s.token_hash = ?",
            (token_hash,),
        ).fetchone()
    return None if row is None else (OperatorRow(*row[:6]), row[6])


def delete_session(db: Database, token_hash: str) -> None:
    with translated_errors():
        db.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))


def delete_sessions_of(db: Database, username: str) -> None:
    """End every session of the account."""
    with translated_errors():
        db.conn.execute("DELETE FROM sessions WHERE username = ?", (username,))


def delete_expired_sessions(db: Database, now: str) -> None:
    with translated_errors():
        db.conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))


# --- failed sign-ins -------------------------------------------------------------------------
# ``username`` holds the throttle's key (``central_ingest.sign_in_throttle``), not only a name.


def failures_since(db: Database, key: str, since: str) -> tuple[int, str | None]:
    """How many failed sign-ins the key has after ``since``, and the latest one's time."""
    with translated_errors():
        count, latest = db.conn.execute(
            "SELECT count(*), max(failed_at) FROM login_failures"
            " WHERE username = ? AND failed_at > ?",
            (key, since),
        ).fetchone()
    return int(count), latest


def record_failures(
    db: Database, keys: Iterable[str], failed_at: str, *, forget_until: str
) -> None:
    """Record one failed sign-in under each key, first forgetting every failure at or before
    ``forget_until`` (of any key: they no longer count)."""
    with translated_errors():
        db.conn.execute("DELETE FROM login_failures WHERE failed_at <= ?", (forget_until,))
        db.conn.executemany(
            "INSERT INTO login_failures (username, failed_at) VALUES (?, ?)",
            [(key, failed_at) for key in keys],
        )


def clear_failures(db: Database, key: str) -> int:
    """Forget the failures counted under ``key``; how many."""
    with translated_errors():
        cursor = db.conn.execute("DELETE FROM login_failures WHERE username = ?", (key,))
    return int(cursor.rowcount)


def clear_failures_with_prefix(db: Database, prefix: str) -> int:
    """Forget the failures of every key that starts with ``prefix``; how many. Compared with
    substr, not LIKE: '_' in a user name is not a wildcard."""
    with translated_errors():
        cursor = db.conn.execute(
            "DELETE FROM login_failures WHERE substr(username, 1, ?) = ?", (len(prefix), prefix)
        )
    return int(cursor.rowcount)
