"""Slowing down password guessing without handing strangers a way to lock officers out: the
rules, over counts the accounts service reads from ``login_failures``.

Failed sign-ins are counted twice: for the pair (user name, source address) and for the source
address alone. A pair that fails too often waits; a source that fails too often across user
names waits. Neither stops the real officer signing in from another source (his own
workstation), which a pause per user name alone did: five wrong passwords typed anywhere
locked the account everywhere, renewable forever.

The wait doubles with each further failure and is capped, and attempts refused while waiting
are not counted and do not check the password, so hammering during a pause neither extends it
nor tests guesses. Failures older than the window are forgotten.

The counts are rows of ``login_failures`` whose ``username`` column holds a composite key:
``user:<name>@<source>`` for a pair and ``source:<address>`` for a source (a typed name can
never produce a key starting with ``source:``).

The source is the client address as the application sees it. Behind the reverse proxy on the
registry host that is the proxy's X-Forwarded-For: uvicorn replaces the peer address with it
only when the peer is one of its ``forwarded_allow_ips`` (environment ``FORWARDED_ALLOW_IPS``,
by default 127.0.0.1 and ::1), taking the right-most address the proxies did not write
themselves, so a client cannot choose its own source by sending the header.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from central_ingest.core.errors import DomainError
from i18n import PluralText

# How long a failure counts.
FAILED_LOGIN_WINDOW = timedelta(hours=1)
# Failures of one user name from one source before that pair waits; an officer mistyping at
# his own desk gets this many tries before the first, one-minute pause.
FAILED_LOGIN_LIMIT = 5
# Failures from one source across all user names before the source waits: a guesser trying
# many names, or a shared workstation whose users mistype a lot between them.
SOURCE_FAILURE_LIMIT = 25
FIRST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(minutes=15)
# Where a sign-in comes from when it does not come over the network (tools and tests on the
# registry host), and when the server cannot name the peer.
LOCAL_SOURCE = "local"
UNKNOWN_SOURCE = "unknown"
# Stored keys stay short whatever is typed as a user name.
_MAX_NAME_IN_KEY = 64


class TooManyAttempts(DomainError):
    """Sign-ins are paused for a user name from one source, or for a source. Applies to
    unknown names as well, so it reveals nothing about which accounts exist."""

    def __init__(
        self, minutes: int, *, seconds: int | None = None, from_source: bool = False
    ) -> None:
        self.retry_after_seconds = seconds if seconds is not None else minutes * 60
        text = (
            PluralText(
                "Too many failed sign-ins from this computer: try again in %(minutes)s minute.",
                "Too many failed sign-ins from this computer: try again in %(minutes)s minutes.",
                minutes,
                minutes=minutes,
            )
            if from_source
            else PluralText(
                "Too many failed sign-ins for this user name from this computer: try again in"
                " %(minutes)s minute or ask an administrator.",
                "Too many failed sign-ins for this user name from this computer: try again in"
                " %(minutes)s minutes or ask an administrator.",
                minutes,
                minutes=minutes,
            )
        )
        super().__init__("too_many_attempts", text)


def source_of(client_host: str | None) -> str:
    """The source of a request from the address the server reports for its client."""
    return client_host or UNKNOWN_SOURCE


def pair_key(username: str, source: str) -> str:
    return f"{user_key_prefix(username)}{source}"


def source_key(source: str) -> str:
    return f"source:{source}"


def user_key_prefix(username: str) -> str:
    """What the keys of every pair of the user name start with."""
    return f"user:{username[:_MAX_NAME_IN_KEY]}@"


def pause_after(failures: int, limit: int) -> timedelta | None:
    """How long to wait after the latest of ``failures`` recent failures (None: no pause)."""
    if failures < limit:
        return None
    doublings = min(failures - limit, 10)  # 2**10 minutes is far beyond the cap already
    return min(FIRST_PAUSE * (1 << doublings), LONGEST_PAUSE)


def refuse_if_paused(
    failures: int, latest: datetime | None, *, limit: int, from_source: bool, now: datetime
) -> None:
    """Raise TooManyAttempts if a key with ``failures`` recent failures, the latest at
    ``latest``, is still waiting at ``now``."""
    pause = pause_after(failures, limit)
    if pause is None or latest is None:
        return
    remaining = latest + pause - now
    if remaining > timedelta(0):
        seconds = math.ceil(remaining.total_seconds())
        raise TooManyAttempts(
            max(1, math.ceil(seconds / 60)), seconds=seconds, from_source=from_source
        )
