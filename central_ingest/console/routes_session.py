"""Signing in and out of the console."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from central_ingest.api.auth import SESSION_COOKIE, clear_session_cookie, set_session_cookie
from central_ingest.api.deps import ApiSettingsDep, OperatorsDep
from central_ingest.console.web import (
    HOME_OF_ROLE,
    ConsoleUser,
    RequestRefused,
    form_action_for,
    render,
    same_origin,
    signed_in,
)
from central_ingest.operators import AuthenticationFailed, Role

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
    try:
        issued = operators.login(username, password)
    except AuthenticationFailed as failure:
        return render(request, "login.html", None, status_code=401, next=safe_next_path(next) or "",
                      message=failure.message, username=username)
    role = issued.session.operator.role
    if role not in CONSOLE_ROLES:
        operators.logout(issued.token)
        return render(
            request, "login.html", None, status_code=403, next="", username=username,
            message=f"The console is for reviewers, supervisors and prosecutors; the {role.value}"
            " account uses the API.",
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
