"""The supervisor's page of undelivered cases: overdue cases the hand-over holds back because
the driver was not told of the resolution (``GET /v1/supervisor/undelivered`` as a page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from central_ingest.api.auth import SUPERVISOR_ROLES
from central_ingest.api.deps import RegistryDep
from central_ingest.console.web import ConsoleUser, page_for, render

router = APIRouter(prefix="/console", include_in_schema=False)

PAGE_ROWS = 500


@router.get("/undelivered")
def undelivered_cases(
    request: Request,
    user: Annotated[ConsoleUser, Depends(page_for(*SUPERVISOR_ROLES))],
    registry: RegistryDep,
) -> Response:
    return render(request, "undelivered.html", user, held=registry.undelivered_cases(PAGE_ROWS))
