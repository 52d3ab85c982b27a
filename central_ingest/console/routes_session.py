"""Signing in and out of the console, and choosing its language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from central_ingest.api.auth import SESSION_COOKIE, clear_session_cookie, set_session_cookie
from central_ingest.api.deps import ApiSettingsDep, OperatorsDep
from central_ingest.console.language import (
    LANGUAGE_COOKIE,
    LANGUAGE_COOKIE_SECONDS,
)
from central_ingest.console.terms import term
from central_ingest.console.web import (
    CSRF_FIELD,
    HOME_OF_ROLE,
    ConsoleUser,
    RequestRefused,
    csrf_matches,
    form_action_for,
    render,
    same_origin,
    session_user,
    signed_in,
    user_translator,
)
from central_ingest.core.sign_in_throttle import source_of
from central_ingest.operators import AuthenticationFailed, Role, TooManyAttempts
from i18n import Text, language_or_none

router = APIRouter(prefix="/console", include_in_schema=False)

CONSOLE_ROLES = tuple(HOME_OF_ROLE)


def safe_next_path(target: str | None) -> str | None:
    """Only a path inside the console: never an open redirect to another site."""
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return None


@router.get("")
@router.get("/")
def home(user: Annotated[ConsoleUser, Depends(signed_in)]) -> Response:
    return RedirectResponse(HOME_OF_ROLE.get(user.role, "/console/login"), status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", None, next=safe_next_path(next) or "", message=None)


@router.post("/login")
def login(
    request: Request,
    operators: OperatorsDep,
    settings: ApiSettingsDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if not same_origin(request):
        raise RequestRefused()
    translate = user_translator(request, None)
    try:
        issued = operators.login(
            username, password, source=source_of(request.client.host if request.client else None)
        )
    except AuthenticationFailed as failure:
        return render(
            request,
            "login.html",
            None,
            status_code=401,
            next=safe_next_path(next) or "",
            message=translate.text(failure.text),
            username=username,
        )
    except TooManyAttempts as paused:
        # The sign-in page again, saying how long to wait: a person reads this, not a program.
        page = render(
            request,
            "login.html",
            None,
            status_code=429,
            next=safe_next_path(next) or "",
            message=translate.text(paused.text),
            username=username,
        )
        page.headers["Retry-After"] = str(paused.retry_after_seconds)
        return page
    role = issued.session.operator.role
    if role not in CONSOLE_ROLES:
        operators.logout(issued.token)
        return render(
            request,
            "login.html",
            None,
            status_code=403,
            next="",
            username=username,
            message=translate.text(
                Text(
                    "The console is for reviewing officers, supervisors and prosecutors; the"
                    " account of the role %(role)s uses the API.",
                    role=translate.gettext(term(role, "role")),
                )
            ),
        )
    target = safe_next_path(next) or HOME_OF_ROLE[Role(role)]
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(
        response, issued.token, operators.session_lifetime, secure=settings.secure_cookies
    )
    return response


@router.post("/logout")
def logout(
    request: Request,
    _: Annotated[ConsoleUser, Depends(form_action_for(*CONSOLE_ROLES))],
    operators: OperatorsDep,
    settings: ApiSettingsDep,
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        operators.logout(token)
    response = RedirectResponse("/console/login", status_code=303)
    clear_session_cookie(response, secure=settings.secure_cookies)
    return response


@router.post("/language")
async def choose_language(
    request: Request,
    operators: OperatorsDep,
    settings: ApiSettingsDep,
    language: Annotated[str, Form(max_length=8)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The header's switcher and the choice on /console/me. Signed in: the operator's profile
    (empty: the registry's default). Either way a cookie, so that the sign-in page after
    signing out stays in the language the person reads."""
    chosen = language_or_none(language)
    if not same_origin(request) or (language and chosen is None):
        # Our pages offer only the languages there are: anything else was not sent by them.
        raise RequestRefused()
    user = session_user(request, operators)
    if user is not None:
        form = await request.form()
        submitted = form.get(CSRF_FIELD)
        if not csrf_matches(user, submitted if isinstance(submitted, str) else None):
            raise RequestRefused()
        operators.set_language(user.operator.username, chosen, actor=user.operator.actor)
    target = safe_next_path(next) or (
        HOME_OF_ROLE.get(user.role, "/console/login") if user else "/console/login"
    )
    response = RedirectResponse(target, status_code=303)
    if chosen is None:
        response.delete_cookie(LANGUAGE_COOKIE, path="/console")
    else:
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=LANGUAGE_COOKIE_SECONDS,
            path="/console",
            secure=settings.secure_cookies,
            httponly=True,
            samesite="lax",
        )
    return response
