"""Signing in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from central_ingest.api.auth import (
    CurrentSession,
    clear_session_cookie,
    presented_token,
    set_session_cookie,
)
from central_ingest.api.deps import ApiSettingsDep, OperatorsDep
from central_ingest.api.errors import ErrorBody, refusal
from central_ingest.core.sign_in_throttle import source_of
from central_ingest.operators import Role
from i18n import Language

router = APIRouter(prefix="/v1", tags=["authentication"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    role: Role


class MeResponse(BaseModel):
    username: str
    display_name: str
    role: Role
    language: Language | None = Field(
        description="The language of the operator's screens; null: the registry's default."
    )
    session_expires_at: datetime


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses={
        401: {"model": ErrorBody, "description": "Wrong user name or password."},
        429: refusal(
            "Too many failed sign-ins for this user name from this address, or from this"
            " address: wait for the Retry-After seconds.",
            retry_after=True,
        ),
    },
    summary="Sign in with a user name and password",
)
def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    response: Response,
    operators: OperatorsDep,
    settings: ApiSettingsDep,
) -> TokenResponse:
    """Returns a bearer token and also sets it as an HttpOnly, SameSite=Strict cookie for the
    browser console. The same answer is given for an unknown user, a wrong password and a
    disabled account. Failed sign-ins are slowed down per user name and client address and
    per client address: 429 with Retry-After."""
    source = source_of(request.client.host if request.client else None)
    issued = operators.login(form.username, form.password, source=source)
    set_session_cookie(
        response, issued.token, operators.session_lifetime, secure=settings.secure_cookies
    )
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(
        access_token=issued.token,
        expires_at=issued.session.expires_at,
        role=issued.session.operator.role,
    )


@router.post(
    "/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End the current session"
)
def logout(
    token: Annotated[str | None, Depends(presented_token)],
    operators: OperatorsDep,
    settings: ApiSettingsDep,
) -> Response:
    """Ends the session the request carries (if any) and clears the cookie. Idempotent."""
    if token is not None:
        operators.logout(token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, secure=settings.secure_cookies)
    return response


@router.get(
    "/me",
    response_model=MeResponse,
    responses={401: {"model": ErrorBody, "description": "No valid session."}},
    summary="The signed-in operator",
)
def me(session: CurrentSession) -> MeResponse:
    operator = session.operator
    return MeResponse(
        username=operator.username,
        display_name=operator.display_name,
        role=operator.role,
        language=operator.language,
        session_expires_at=session.expires_at,
    )
