"""What every console page shares: the signed-in officer, role checks on the server, the
protection of cookie-authenticated POSTs against cross-site request forgery, and rendering.

CSRF: the session cookie is HttpOnly and SameSite=Strict, so a browser does not send it with a
request started by another site. SameSite does not cover a sibling host of the same site (a
compromised host under the same registrable domain counts as "same site"), so every POST also
carries a token that only our own pages know: HMAC-SHA256 of a fixed label keyed with the
session token. It needs no server-side state, changes with every login, and cannot be derived
from the database (which keeps only a SHA-256 of the session token). It travels in a form
field or in the X-CSRF-Token header (the page's JavaScript reads it from a meta tag). POSTs
must also come from our own origin (Origin, or Referer when a browser sends no Origin): that
covers the login form too, which has no session yet.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from central_ingest.api.auth import SESSION_COOKIE
from central_ingest.api.deps import OperatorsDep
from central_ingest.api.errors import ApiError
from central_ingest.console.language import (
    NOTHING,
    console_translator,
    context_for,
    request_language,
)
from central_ingest.console.language import install as install_language
from central_ingest.console.terms import term
from central_ingest.operators import Operator, Role
from i18n import Language, Text, Translator

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
_CSRF_LABEL = b"erap-console-csrf-v1"

SECURITY_HEADERS = {
    # No inline script or style anywhere: everything comes from /console/static.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
        " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

HOME_OF_ROLE = {
    Role.REVIEWER: "/console/review",
    Role.SUPERVISOR: "/console/supervisor",
    Role.PROSECUTOR: "/console/prosecutor",
}


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode("utf-8"), _CSRF_LABEL, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ConsoleUser:
    operator: Operator
    csrf: str

    @property
    def role(self) -> Role:
        return self.operator.role


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page."""


class NotPermitted(Exception):
    """A signed-in operator whose role may not see this page or do this."""

    def __init__(self, operator: Operator, allowed: frozenset[Role]) -> None:
        names = ", ".join(sorted(role.value for role in allowed))
        super().__init__(f"The {operator.role.value} role may not open this; it is for: {names}.")
        self.operator = operator
        self.allowed = allowed

    def sentence(self, translate: Translator) -> str:
        roles = ", ".join(sorted(translate.gettext(term(role, "role")) for role in self.allowed))
        return translate.text(
            Text(
                "This page is not for the role %(role)s; it is for: %(roles)s.",
                role=translate.gettext(term(self.operator.role, "role")),
                roles=roles,
            )
        )


class RequestRefused(Exception):
    """A POST that did not come from the console's own pages (CSRF)."""


# --- templates -------------------------------------------------------------------------------


def _plate(text: str | None) -> str:
    """123ABC01 as written on the plate: 123 ABC 01."""
    if not text:
        return NOTHING
    if len(text) == 8 and text[:3].isdigit() and text[3:6].isalpha() and text[6:].isdigit():
        return f"{text[:3]} {text[3:6]} {text[6:]}"
    if len(text) == 7 and text[:3].isdigit() and text[3:5].isalpha() and text[5:].isdigit():
        return f"{text[:3]} {text[3:5]} {text[5:]}"
    return text


TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
install_language(TEMPLATES.env)
TEMPLATES.env.filters.update(plate=_plate)
TEMPLATES.env.globals.update(CSRF_FIELD=CSRF_FIELD, HOME_OF_ROLE=HOME_OF_ROLE, Role=Role)


def _here(request: Request) -> str:
    """The page to come back to after choosing a language. A page answering a POST has no
    address to come back to: empty, and the switcher leads to the reader's home page."""
    if request.method != "GET":
        return ""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def render(
    request: Request,
    name: str,
    user: ConsoleUser | None,
    status_code: int = 200,
    *,
    language: Language | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page in the reader's language (``language`` overrides the usual choice, for pages
    about a session that is not shown as signed in)."""
    chosen = language or request_language(request, user.operator if user else None)
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {"user": user, "here": _here(request), **context_for(chosen), **context},
        status_code=status_code,
        headers=SECURITY_HEADERS,
    )


def fragment(name: str, language: Language, **context: Any) -> str:
    """Part of a page, for the review script to insert."""
    return TEMPLATES.get_template(name).render(**context_for(language), **context)


def user_translator(request: Request, user: ConsoleUser | None) -> Translator:
    return console_translator(request_language(request, user.operator if user else None))


# --- who is asking ---------------------------------------------------------------------------


def session_user(request: Request, operators: OperatorsDep) -> ConsoleUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    session = operators.authenticate(token)
    if session is None:
        return None
    return ConsoleUser(session.operator, csrf_token(token))


def signed_in(request: Request, operators: OperatorsDep) -> ConsoleUser:
    user = session_user(request, operators)
    if user is None:
        raise LoginRequired()
    return user


def page_for(*roles: Role) -> Callable[[ConsoleUser], ConsoleUser]:
    """A page dependency: the signed-in officer, if their role is one of ``roles``."""
    allowed = frozenset(roles)

    def check(user: Annotated[ConsoleUser, Depends(signed_in)]) -> ConsoleUser:
        if user.role not in allowed:
            raise NotPermitted(user.operator, allowed)
        return user

    return check


def same_origin(request: Request) -> bool:
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return False
    return urlsplit(claimed).netloc == request.headers.get("host")


def csrf_matches(user: ConsoleUser, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(submitted, user.csrf)


def form_action_for(*roles: Role) -> Callable[..., Awaitable[ConsoleUser]]:
    """A form POST dependency: role check, same origin and the CSRF token in the form."""
    page = page_for(*roles)

    async def check(
        request: Request, user: Annotated[ConsoleUser, Depends(signed_in)]
    ) -> ConsoleUser:
        form = await request.form()
        submitted = form.get(CSRF_FIELD)
        if not same_origin(request) or not csrf_matches(
            user, submitted if isinstance(submitted, str) else None
        ):
            raise RequestRefused()
        return page(user)

    return check


def api_action_for(*roles: Role) -> Callable[..., ConsoleUser]:
    """A JSON POST dependency for the page's script: errors are JSON, the token a header."""
    allowed = frozenset(roles)

    def check(request: Request, operators: OperatorsDep) -> ConsoleUser:
        user = session_user(request, operators)
        # The sentence in the reader's language: the page's script sends its lang as
        # Accept-Language, which is what a signed-out reader is answered in.
        translate = user_translator(request, user)
        if user is None:
            raise ApiError(
                401,
                "session_invalid",
                translate.text(Text("The session has ended; sign in again.")),
            )
        if request.method != "GET" and (
            not same_origin(request) or not csrf_matches(user, request.headers.get(CSRF_HEADER))
        ):
            raise ApiError(
                403,
                "csrf_refused",
                translate.text(
                    Text(
                        "The request did not come from the console page; reload the page and retry."
                    )
                ),
            )
        if user.role not in allowed:
            raise ApiError(
                403,
                "forbidden_for_role",
                translate.text(
                    Text(
                        "The role %(role)s may not do this.",
                        role=translate.gettext(term(user.role, "role")),
                    )
                ),
            )
        return user

    return check


# --- error pages -----------------------------------------------------------------------------


async def _login_required(request: Request, _: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/login?next={quote(target, safe='')}", status_code=303)


async def _not_permitted(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotPermitted)
    user = session_user(request, request.app.state.operators)
    translate = user_translator(request, user)
    return render(
        request,
        "error.html",
        user,
        status_code=403,
        title=translate.text(Text("Not for your role")),
        message=exc.sentence(translate),
    )


async def _request_refused(request: Request, _: Exception) -> Response:
    # Not shown as signed in (the refused request may not be the operator's own), but in the
    # operator's language when there is a session.
    user = session_user(request, request.app.state.operators)
    translate = user_translator(request, user)
    return render(
        request,
        "error.html",
        None,
        status_code=403,
        language=translate.language,
        title=translate.text(Text("Request refused")),
        message=translate.text(
            Text(
                "This form was not sent from the console's own page, or the page is too old."
                " Open the page again and repeat the action."
            )
        ),
    )


EXCEPTION_HANDLERS: dict[type[Exception], Callable[[Request, Exception], Awaitable[Response]]] = {
    LoginRequired: _login_required,
    NotPermitted: _not_permitted,
    RequestRefused: _request_refused,
}
