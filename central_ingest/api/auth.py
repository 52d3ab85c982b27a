"""Who is calling, and may they? Operators present a session token either as
``Authorization: Bearer <token>`` (scripts, the bailiffs' system) or as the HttpOnly,
SameSite=Strict session cookie set at login (the browser console). Roles are checked here, on
the server, for every route: a hidden button is not a permission.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Response
from fastapi.security import APIKeyCookie, OAuth2PasswordBearer

from central_ingest.api.deps import OperatorsDep
from central_ingest.api.errors import ApiError
from central_ingest.core.labels import ROLES, label_text
from central_ingest.operators import Operator, Role, Session
from i18n import Message, Text

SESSION_COOKIE = "erap_session"
TOKEN_URL = "/v1/auth/token"

_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False, scheme_name="bearer")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="session_cookie")

# Who may do what. Decisions stay with the roles that carry them; the prosecutor reads
# everything but decides nothing; the bailiffs' system account reads only its feed.
REVIEW_ROLES = (Role.REVIEWER, Role.SUPERVISOR)
CASE_READER_ROLES = (Role.REVIEWER, Role.SUPERVISOR, Role.PROSECUTOR)
SUPERVISOR_ROLES = (Role.SUPERVISOR,)
OVERSIGHT_ROLES = (Role.SUPERVISOR, Role.PROSECUTOR)
AUDIT_ROLES = (Role.PROSECUTOR,)
BAILIFF_ROLES = (Role.BAILIFF,)
ADMIN_ROLES = (Role.ADMIN,)
METRICS_ROLES = (Role.SUPERVISOR, Role.PROSECUTOR, Role.ADMIN)


def presented_token(
    bearer: Annotated[str | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> str | None:
    """The bearer token if one was sent, else the session cookie."""
    return bearer or cookie


def current_session(
    token: Annotated[str | None, Depends(presented_token)],
    operators: OperatorsDep,
) -> Session:
    if token is None:
        raise ApiError(
            401,
            "not_authenticated",
            Text("Sign in first: send a bearer token or the session cookie."),
            {"WWW-Authenticate": "Bearer"},
        )
    session = operators.authenticate(token)
    if session is None:
        raise ApiError(
            401,
            "session_invalid",
            Text("The session has expired or has been ended; sign in again."),
            {"WWW-Authenticate": "Bearer"},
        )
    return session


def require_role(*roles: Role) -> Callable[[Session], Operator]:
    """A dependency that returns the signed-in operator if their role is one of ``roles``."""
    allowed = frozenset(roles)
    names = role_list(allowed)

    def operator_with_role(session: Annotated[Session, Depends(current_session)]) -> Operator:
        operator = session.operator
        if operator.role not in allowed:
            raise ApiError(
                403,
                "forbidden_for_role",
                Text(
                    "The role “%(role)s” may not do this; it is reserved to: %(roles)s.",
                    role=label_text(operator.role, ROLES),
                    roles=names,
                ),
            )
        return operator

    return operator_with_role


def role_list(roles: Iterable[Role]) -> Message:
    """Role names as a list in the reader's language ("reviewing officer, supervisor")."""
    names = [label_text(role, ROLES) for role in sorted(roles)]
    listed = names[0]
    for name in names[1:]:
        # TRANSLATORS: one more item of a list: "reviewing officer, supervisor".
        listed = Text("%(items)s, %(item)s", items=listed, item=name)
    return listed


CurrentSession = Annotated[Session, Depends(current_session)]
ReviewOfficer = Annotated[Operator, Depends(require_role(*REVIEW_ROLES))]
CaseReader = Annotated[Operator, Depends(require_role(*CASE_READER_ROLES))]
Supervisor = Annotated[Operator, Depends(require_role(*SUPERVISOR_ROLES))]
Overseer = Annotated[Operator, Depends(require_role(*OVERSIGHT_ROLES))]
Auditor = Annotated[Operator, Depends(require_role(*AUDIT_ROLES))]
BailiffSystem = Annotated[Operator, Depends(require_role(*BAILIFF_ROLES))]
Admin = Annotated[Operator, Depends(require_role(*ADMIN_ROLES))]


def set_session_cookie(
    response: Response, token: str, lifetime: timedelta, *, secure: bool
) -> None:
    # Max-Age rather than Expires: a browser whose clock is off still keeps it as long as the
    # server does.
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="strict"
    )
