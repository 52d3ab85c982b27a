"""The links that open a driver's case page: unguessable, expiring, kept only as a hash.

A token is 104 random bits in 18 URL-safe characters, as long as a case number
(``KZ-GP-2026-0000001``), so that the link takes the room in the two-part SMS the case number's
link took (notify/texts.py), and cannot be guessed: 2^104 tokens against the few million links
that exist, each try a request to this server. The database keeps SHA-256 of it, as it does
for the officers' sessions. A notice's link is made in the same transaction that queues the
notice (``notice_link``), and opens the case for ``[driver_page] link_days``; a case found by
number and plate gets a link of its own for ``lookup_minutes``. Every link opens one case and
nothing else.

This module is a service (no web framework): the notices import it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from central_ingest.config import RegistryConfig
from central_ingest.core.clock import iso, parse_iso
from central_ingest.store.case_links import LinkPurpose, find_link, insert_link
from central_ingest.store.db import Database

TOKEN_BYTES = 13
# token_urlsafe(13) is 18 characters; anything else in the address is no token of ours.
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{18}$"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue_token(
    db: Database,
    case_number: str,
    *,
    purpose: LinkPurpose,
    now: datetime,
    lifetime: timedelta,
) -> str:
    """A new token for ``case_number``, stored (hashed) inside the caller's transaction."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    insert_link(
        db,
        token_hash=token_hash(token),
        case_number=case_number,
        purpose=purpose,
        created_at=iso(now),
        expires_at=iso(now + lifetime),
    )
    return token


def page_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/{token}"


def notice_link(db: Database, case_number: str, config: RegistryConfig, now: datetime) -> str:
    """The address a notice about ``case_number`` carries: a fresh link, valid for
    ``link_days``, made inside the transaction that queues the notice."""
    token = issue_token(
        db,
        case_number,
        purpose="notice",
        now=now,
        lifetime=timedelta(days=config.driver_page.link_days),
    )
    return page_url(config.case_link_base_url, token)


class LinkState(StrEnum):
    OPEN = "open"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class OpenedLink:
    state: LinkState
    case_number: str | None = None
    expires_at: datetime | None = None


def open_link(db: Database, token: str, now: datetime) -> OpenedLink:
    """What ``token`` opens at ``now``: its case, or why it opens nothing (an expired link
    says when it expired; an unknown one says nothing, having nothing to say)."""
    if len(token) > 64 or not token.isascii():
        return OpenedLink(LinkState.UNKNOWN)
    found = find_link(db, token_hash(token))
    if found is None:
        return OpenedLink(LinkState.UNKNOWN)
    expires_at = parse_iso(found.expires_at)
    if expires_at <= now:
        return OpenedLink(LinkState.EXPIRED, found.case_number, expires_at)
    return OpenedLink(LinkState.OPEN, found.case_number, expires_at)
