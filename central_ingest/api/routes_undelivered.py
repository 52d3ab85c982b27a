"""The supervisor's list of undelivered cases: overdue cases held from the bailiffs because the
driver was not told of the resolution (no delivered notice, nor yet the failed attempts the
Code's rule requires, ``[bailiffs]``). Nothing on it goes to the bailiffs by itself: a
delivered notice, or the last failed round the rule requires, releases a case to the next
hand-over; the rest is the supervisor's to follow up (a new address from the vehicle register,
service by post)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from central_ingest.api.auth import Supervisor
from central_ingest.api.deps import RegistryDep
from central_ingest.api.errors import AUTH_RESPONSES
from central_ingest.cases import MAX_FEED_PAGE
from central_ingest.core.undelivered import HeldCaseView

router = APIRouter(prefix="/v1/supervisor", tags=["bailiffs"], responses=AUTH_RESPONSES)


@router.get(
    "/undelivered",
    summary="Overdue cases held from the bailiffs because the driver was not told",
)
def undelivered(
    _: Supervisor,
    registry: RegistryDep,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE)] = 200,
) -> list[HeldCaseView]:
    return registry.undelivered_cases(limit)
