"""The feed the bailiffs' system polls: hand-over and recall documents as JSON lines.

The client keeps the ``seq`` of the last line it processed and asks for what comes after it;
documents are numbered in commit order, so nothing is skipped or seen twice. A recall (the
case was paid, cancelled or expired after the hand-over) must stop enforcement at once.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from central_ingest.api.auth import BailiffSystem
from central_ingest.api.deps import MAX_SQLITE_INTEGER, RegistryDep
from central_ingest.api.errors import AUTH_RESPONSES
from central_ingest.cases import MAX_FEED_PAGE

router = APIRouter(prefix="/v1/bailiffs", tags=["bailiffs"], responses=AUTH_RESPONSES)

NDJSON = "application/x-ndjson"
NEXT_CURSOR_HEADER = "X-Next-After"


class FeedItem(BaseModel):
    """One line of the feed."""

    seq: int = Field(description="The cursor: pass the last one seen as ``after``.")
    kind: Literal["handover", "recall"]
    case_number: str
    amount_minor: int = Field(description="Amount to collect, in tiyn; 0 for a recall.")
    recorded_at: datetime
    document: dict[str, Any] = Field(
        description="The document as recorded; its canonical JSON's SHA-256 is in the ledger."
    )


@router.get(
    "/feed",
    response_class=Response,
    responses={
        200: {
            "description": f"One FeedItem per line, in seq order. The {NEXT_CURSOR_HEADER}"
            " header holds the cursor for the next request.",
            "content": {NDJSON: {"schema": FeedItem.model_json_schema()}},
        }
    },
    summary="Hand-over and recall documents after a cursor",
)
def feed(
    _: BailiffSystem,
    registry: RegistryDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_SQLITE_INTEGER, description="The last seq already processed.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE)] = 1000,
) -> Response:
    items = registry.bailiff_feed(after, limit)
    body = "".join(
        json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
        for item in items
    )
    next_after = int(items[-1]["seq"]) if items else after
    return Response(
        body,
        media_type=NDJSON,
        headers={NEXT_CURSOR_HEADER: str(next_after), "Cache-Control": "no-store"},
    )
