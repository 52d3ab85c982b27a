"""The officer's session in the touch UI, and the CSRF tokens of its forms.

The session is the signed-in token: the cookie holds a random id that maps to the open
``OfficerSession`` (the PKCS#11 session on his token), so signing out, or the token pulled out,
ends both. Only one officer signs on a terminal at a time: a new sign-in closes the sessions
before it.

The UI listens on the loopback interface, but any page the car's browser opens could still
post a form to it: every POST carries a CSRF token (the session's; before sign-in a random one
kept in a cookie and repeated in the form), and the Host and Origin headers must name this
server (a DNS name rebound to 127.0.0.1 is refused).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from uuid import UUID

from terminal.officer_token import OfficerSession
from terminal.ui.drafts import DraftState

SESSION_COOKIE = "erap_terminal_session"
PRE_CSRF_COOKIE = "erap_terminal_csrf"  # the sign-in form's, before any session exists
LANGUAGE_COOKIE = "erap_terminal_lang"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def same_secret(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and secrets.compare_digest(str(given), str(expected))


@dataclass
class Visit:
    """One officer signed in: his token's session, the CSRF token, the protocols he is
    drafting (by protocol id) and what the last action said."""

    officer: OfficerSession
    csrf: str = field(default_factory=new_secret)
    drafts: dict[UUID, DraftState] = field(default_factory=dict)


class Sessions:
    def __init__(self) -> None:
        self._visits: dict[str, Visit] = {}
        self._lock = threading.Lock()

    def open(self, officer: OfficerSession) -> str:
        with self._lock:
            for visit in self._visits.values():
                visit.officer.close()
            self._visits.clear()
            session_id = new_secret()
            self._visits[session_id] = Visit(officer)
            return session_id

    def get(self, session_id: str | None) -> Visit | None:
        if not session_id:
            return None
        with self._lock:
            return self._visits.get(session_id)

    def close(self, session_id: str | None) -> None:
        with self._lock:
            visit = self._visits.pop(session_id or "", None)
        if visit is not None:
            visit.officer.close()

    def close_all(self) -> None:
        with self._lock:
            visits = list(self._visits.values())
            self._visits.clear()
        for visit in visits:
            visit.officer.close()


def allowed_host(host: str | None, port: int) -> bool:
    """The Host header a browser on this machine sends to this server, and nothing else."""
    return host in {f"127.0.0.1:{port}", f"localhost:{port}"}


def allowed_origin(origin: str | None, port: int) -> bool:
    """No Origin (a plain navigation) or this server's own."""
    if origin is None:
        return True
    return origin in {f"http://127.0.0.1:{port}", f"http://localhost:{port}"}
