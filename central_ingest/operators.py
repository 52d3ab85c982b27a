"""Operator accounts and their login sessions.

Passwords are kept only as argon2id hashes (argon2-cffi). A session is an opaque random token
handed to the client once; the database keeps only its SHA-256, so a copy of the database does
not let anyone act as an operator. Every change to an account is an audit ledger entry; logins
and logouts are not changes of an audited entity and are only logged.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from central_ingest.core.clock import iso, parse_iso
from central_ingest.core.errors import Conflict, DomainError, InvalidInput, NotFound

# The limits and the refusal are re-exported: they are part of signing in.
from central_ingest.core.sign_in_throttle import FAILED_LOGIN_LIMIT as FAILED_LOGIN_LIMIT
from central_ingest.core.sign_in_throttle import FAILED_LOGIN_WINDOW as FAILED_LOGIN_WINDOW
from central_ingest.core.sign_in_throttle import (
    LOCAL_SOURCE,
    SOURCE_FAILURE_LIMIT,
    pair_key,
    refuse_if_paused,
    source_key,
    user_key_prefix,
)
from central_ingest.core.sign_in_throttle import TooManyAttempts as TooManyAttempts
from central_ingest.store import operators as repo
from central_ingest.store.db import Store
from central_ingest.store.ledger import append_entry
from contract import now_utc
from i18n import Language, PluralText, Text, language_or_none

# The longest address a sign-in records (an IPv6 address with a zone fits easily).
MAX_SOURCE_LENGTH = 255

log = logging.getLogger(__name__)

USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")
MAX_DISPLAY_NAME_LENGTH = 120
MIN_PASSWORD_LENGTH = 12
# argon2 hashes whatever it is given; a cap keeps one request from buying minutes of CPU.
MAX_PASSWORD_LENGTH = 256
_TOKEN_BYTES = 32
_MAX_TOKEN_LENGTH = 128


class Role(StrEnum):
    REVIEWER = "reviewer"
    SUPERVISOR = "supervisor"
    PROSECUTOR = "prosecutor"
    BAILIFF = "bailiff"
    ADMIN = "admin"


class AuthenticationFailed(DomainError):
    """Deliberately says nothing about which part was wrong: no user enumeration."""

    def __init__(self) -> None:
        super().__init__(
            "authentication_failed",
            Text("The user name or password is incorrect, or the account is disabled."),
        )


def unknown_operator(username: str) -> NotFound:
    return NotFound("unknown_operator", Text("There is no operator named %(name)s.", name=username))


@dataclass(frozen=True)
class Operator:
    username: str
    display_name: str
    role: Role
    active: bool
    created_at: datetime
    # The language of the operator's screens; None: the registry's default.
    language: Language | None = None

    @property
    def actor(self) -> str:
        """How this operator is named in the audit ledger."""
        return f"officer:{self.username}"


@dataclass(frozen=True)
class Session:
    operator: Operator
    expires_at: datetime


@dataclass(frozen=True)
class IssuedSession:
    """The only moment the plain token exists outside the client."""

    token: str
    session: Session


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_source(source: str) -> str:
    """An address as sign-ins record it: an IP address in its canonical form (``::ffff:...``
    and leading zeros written the one way the server writes them), or a host name as given."""
    text = source.strip()
    if not text or len(text) > MAX_SOURCE_LENGTH or any(c.isspace() for c in text):
        raise InvalidInput(
            "invalid_source",
            Text("%(source)r is not an address that signs in: give an IP address.", source=source),
        )
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return text


def normalise_username(username: str) -> str:
    return username.strip().lower()


def default_password_hasher() -> PasswordHasher:
    """argon2id with the library's defaults (RFC 9106 low-memory profile)."""
    return PasswordHasher()


class Operators:
    """Accounts and sessions over the registry database."""

    def __init__(
        self,
        store: Store,
        *,
        session_hours: int,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self._store = store
        self._session_lifetime = timedelta(hours=session_hours)
        self._hasher = hasher or default_password_hasher()
        self._clock = clock
        # Verified against when the user does not exist, so that an unknown name costs as much
        # time as a wrong password.
        self._decoy_hash = self._hasher.hash(secrets.token_urlsafe(_TOKEN_BYTES))

    @property
    def session_lifetime(self) -> timedelta:
        return self._session_lifetime

    # -- accounts ---------------------------------------------------------------------------

    def create(
        self, username: str, *, display_name: str, role: Role, password: str, actor: str
    ) -> Operator:
        username = normalise_username(username)
        display_name = display_name.strip()
        if not USERNAME_PATTERN.fullmatch(username):
            raise InvalidInput(
                "invalid_username",
                Text(
                    "A user name is 3 to 32 characters: a Latin letter first, then Latin"
                    " letters, digits, '.', '_' or '-'."
                ),
            )
        if not 1 <= len(display_name) <= MAX_DISPLAY_NAME_LENGTH:
            raise InvalidInput(
                "invalid_display_name",
                PluralText(
                    "An operator needs a display name of at most %(most)s character.",
                    "An operator needs a display name of at most %(most)s characters.",
                    MAX_DISPLAY_NAME_LENGTH,
                    most=MAX_DISPLAY_NAME_LENGTH,
                ),
            )
        password_hash = self._hasher.hash(_checked_password(password))
        now = self._clock()
        with self._store.transaction() as db:
            if repo.operator_exists(db, username):
                raise Conflict(
                    "operator_exists",
                    Text("An operator named %(name)s already exists.", name=username),
                )
            repo.insert_operator(
                db,
                username=username,
                display_name=display_name,
                role=role.value,
                password_hash=password_hash,
                created_at=iso(now),
            )
            append_entry(
                db,
                recorded_at=iso(now),
                entity_type="operator",
                entity_id=username,
                action="created",
                actor=actor,
                payload={"display_name": display_name, "role": role.value, "active": True},
            )
        log.info("operator %s created with role %s by %s", username, role.value, actor)
        return Operator(username, display_name, role, True, now)

    def set_password(self, username: str, password: str, *, actor: str) -> None:
        """Replace the password and end every open session of the account."""
        username = normalise_username(username)
        password_hash = self._hasher.hash(_checked_password(password))
        now = self._clock()
        with self._store.transaction() as db:
            if not repo.set_password_hash(db, username, password_hash):
                raise unknown_operator(username)
            repo.delete_sessions_of(db, username)
            # A new password set by someone else is how a locked-out officer is helped: it
            # lifts the pauses of the account too.
            repo.clear_failures_with_prefix(db, user_key_prefix(username))
            append_entry(
                db,
                recorded_at=iso(now),
                entity_type="operator",
                entity_id=username,
                action="password_changed",
                actor=actor,
                payload={},
            )
        log.info("password of operator %s changed by %s", username, actor)

    def deactivate(self, username: str, *, actor: str) -> Operator:
        """Disable the account and end its sessions at once. Accounts are never deleted: the
        ledger and the decisions refer to them."""
        return self._set_active(username, False, actor=actor)

    def reactivate(self, username: str, *, actor: str) -> Operator:
        """Enable a deactivated account again (its old sessions stay ended), with its
        password as it was: an administrator sets a new one if the old may be known."""
        return self._set_active(username, True, actor=actor)

    def _set_active(self, username: str, active: bool, *, actor: str) -> Operator:
        username = normalise_username(username)
        now = self._clock()
        with self._store.transaction() as db:
            row = repo.operator_row(db, username)
            if row is None:
                raise unknown_operator(username)
            operator = _operator(row)
            if operator.active == active:
                raise Conflict(
                    "operator_active" if active else "operator_inactive",
                    Text("Operator %(name)s is already active.", name=username)
                    if active
                    else Text("Operator %(name)s is already deactivated.", name=username),
                )
            repo.set_operator_active(db, username, active)
            repo.delete_sessions_of(db, username)
            append_entry(
                db,
                recorded_at=iso(now),
                entity_type="operator",
                entity_id=username,
                action="reactivated" if active else "deactivated",
                actor=actor,
                payload={"role": operator.role.value, "active": active},
            )
        log.info(
            "operator %s %s by %s", username, "reactivated" if active else "deactivated", actor
        )
        return replace(operator, active=active)

    def lift_sign_in_pause(self, username: str, *, actor: str) -> Operator:
        """Forget the account's failed sign-ins from every source, so that its pauses end now.
        Not a change of anything audited: logged, not in the ledger."""
        username = normalise_username(username)
        with self._store.transaction() as db:
            row = repo.operator_row(db, username)
            if row is None:
                raise unknown_operator(username)
            forgotten = repo.clear_failures_with_prefix(db, user_key_prefix(username))
        log.info(
            "sign-in pauses of %s lifted by %s (%d failures forgotten)", username, actor, forgotten
        )
        return _operator(row)

    def lift_source_pause(self, source: str, *, actor: str) -> int:
        """Forget the failed sign-ins counted against one address across user names (a
        workstation a stranger used to guess passwords, now cleaned up), so that its pause ends
        now; returns how many were forgotten. The pauses of single accounts from that address
        stay (``lift_sign_in_pause``). Logged, not in the ledger, like the account's lift."""
        address = normalise_source(source)
        with self._store.transaction() as db:
            forgotten = repo.clear_failures(db, source_key(address))
        log.info(
            "sign-in pause of the address %s lifted by %s (%d failures forgotten)",
            address,
            actor,
            forgotten,
        )
        return forgotten

    def set_language(self, username: str, language: Language | None, *, actor: str) -> Operator:
        """The language of the operator's screens, set by the operator or an administrator
        (None: the registry's default). A preference, not a decision: logged, not in the
        ledger."""
        username = normalise_username(username)
        with self._store.transaction() as db:
            if not repo.set_operator_language(db, username, language):
                raise unknown_operator(username)
            row = repo.operator_row(db, username)
        assert row is not None
        log.info("language of operator %s set to %s by %s", username, language, actor)
        return _operator(row)

    def get(self, username: str) -> Operator | None:
        row = repo.operator_row(self._store.db, normalise_username(username))
        return None if row is None else _operator(row)

    def list(self) -> list[Operator]:
        return [_operator(row) for row in repo.operator_rows(self._store.db)]

    # -- sessions ---------------------------------------------------------------------------

    def login(self, username: str, password: str, *, source: str = LOCAL_SOURCE) -> IssuedSession:
        """``source``: the address the attempt comes from; failures are counted per user name
        and source and per source (``sign_in_throttle``)."""
        username = normalise_username(username)
        now = self._clock()
        try:
            self._refuse_if_paused(username, source, now)
        except TooManyAttempts:
            log.warning("sign-in of %r from %s refused: paused", username, source)
            raise
        found = repo.credentials(self._store.db, username)
        account, stored_hash = (
            found if found is not None and found[0].active else (None, self._decoy_hash)
        )
        password_ok = len(password) <= MAX_PASSWORD_LENGTH and self._verify(stored_hash, password)
        if account is None or not password_ok:
            log.warning("failed login for user name %r from %s", username, source)
            with self._store.transaction() as db:
                repo.record_failures(
                    db,
                    (pair_key(username, source), source_key(source)),
                    iso(now),
                    forget_until=iso(now - FAILED_LOGIN_WINDOW),
                )
            raise AuthenticationFailed()
        operator = _operator(account)
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        expires_at = now + self._session_lifetime
        with self._store.transaction() as db:
            if self._hasher.check_needs_rehash(stored_hash):
                # Parameters were raised since this hash was made: upgrade it while the plain
                # password is at hand. Not a change of anything audited, so no ledger entry.
                repo.set_password_hash(db, username, self._hasher.hash(password))
            repo.delete_expired_sessions(db, iso(now))
            # The pair starts afresh; the source's count stays (it is about other names too).
            repo.clear_failures(db, pair_key(username, source))
            repo.insert_session(
                db,
                token_hash=token_digest(token),
                username=username,
                created_at=iso(now),
                expires_at=iso(expires_at),
            )
        log.info("operator %s logged in", username)
        return IssuedSession(token, Session(operator, expires_at))

    def authenticate(self, token: str) -> Session | None:
        """The session a token belongs to, if it is current and its operator still active."""
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        found = repo.session_row(self._store.db, token_digest(token))
        if found is None or not found[0].active:
            return None
        account, expiry = found
        expires_at = parse_iso(expiry)
        if expires_at <= self._clock():
            return None
        return Session(_operator(account), expires_at)

    def logout(self, token: str) -> None:
        with self._store.transaction() as db:
            repo.delete_session(db, token_digest(token))

    def _refuse_if_paused(self, username: str, source: str, now: datetime) -> None:
        since = iso(now - FAILED_LOGIN_WINDOW)
        for key, limit, from_source in (
            (source_key(source), SOURCE_FAILURE_LIMIT, True),
            (pair_key(username, source), FAILED_LOGIN_LIMIT, False),
        ):
            count, latest = repo.failures_since(self._store.db, key, since)
            refuse_if_paused(
                count,
                None if latest is None else parse_iso(latest),
                limit=limit,
                from_source=from_source,
                now=now,
            )

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError):
            log.error("a stored password hash cannot be verified; the account needs a new one")
            return False


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password_too_short",
            PluralText(
                "A password needs at least %(least)s character.",
                "A password needs at least %(least)s characters.",
                MIN_PASSWORD_LENGTH,
                least=MIN_PASSWORD_LENGTH,
            ),
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            "password_too_long",
            PluralText(
                "A password may have at most %(most)s character.",
                "A password may have at most %(most)s characters.",
                MAX_PASSWORD_LENGTH,
                most=MAX_PASSWORD_LENGTH,
            ),
        )
    if not password.strip():
        raise InvalidInput("password_blank", Text("A password cannot be only spaces."))
    return password


def _operator(row: repo.OperatorRow) -> Operator:
    return Operator(
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        active=bool(row.active),
        created_at=parse_iso(row.created_at),
        language=language_or_none(row.language),
    )
