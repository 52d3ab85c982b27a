"""Who may see a case on the driver's page: the holder of a link that opens it.

``opened_case`` is the dependency every route under ``/cases/{token}`` uses (the page, its
photos, the appeal form's POST): it answers with the case the token opens, or raises
``LinkRefused``, which renders a page that says why (expired: when, and how to find the case
again; unknown: that the link is not valid) and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from central_ingest.cases import CaseService
from central_ingest.driver.links import TOKEN_PATTERN, LinkState, open_link
from central_ingest.store.db import Store

Token = Annotated[str, Path(max_length=64)]
_TOKEN = re.compile(TOKEN_PATTERN)


@dataclass(frozen=True, slots=True)
class OpenedCase:
    token: str
    case_number: str
    now: datetime


class LinkRefused(Exception):
    def __init__(self, state: LinkState, expires_at: datetime | None = None) -> None:
        super().__init__(f"the link opens nothing: {state.value}")
        self.state = state
        self.expires_at = expires_at


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def registry_of(request: Request) -> CaseService:
    registry: CaseService = request.app.state.registry
    return registry


def app_state(request: Request, name: str) -> Any:
    return getattr(request.app.state, name)


def opened_case(request: Request, token: Token) -> OpenedCase:
    registry = registry_of(request)
    now = registry.now()
    if _TOKEN.fullmatch(token) is None:
        raise LinkRefused(LinkState.UNKNOWN)
    opened = open_link(store_of(request).db, token, now)
    if opened.state is not LinkState.OPEN or opened.case_number is None:
        raise LinkRefused(opened.state, opened.expires_at)
    return OpenedCase(token, opened.case_number, now)


CaseOpened = Annotated[OpenedCase, Depends(opened_case)]
