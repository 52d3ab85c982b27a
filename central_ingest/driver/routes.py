"""The driver's pages under ``/cases`` (``case_link_base_url`` points here): the lookup form,
the case page a link opens, and the case's photos served through that link only."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from central_ingest.core.clock import iso
from central_ingest.driver.access import (
    LinkRefused,
    Token,
    app_state,
    opened_case,
    registry_of,
    store_of,
)
from central_ingest.driver.links import LinkState, issue_token
from central_ingest.driver.page import DriverPage, driver_page
from central_ingest.driver.throttle import LookupThrottle
from central_ingest.driver.web import chosen_language, render
from central_ingest.notify.outbox import DOMAIN as NOTICES_DOMAIN
from central_ingest.notify.texts import CaseNotice, article_citation
from central_ingest.store.case_links import case_image, case_plate, purge_expired_lookups
from i18n import Language, translator

router = APIRouter(prefix="/cases", include_in_schema=False)

MAX_FIELD = 40
SHA256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]

# Cyrillic letters a Russian or Kazakh keyboard types for the Latin ones on a plate.
_LOOKALIKES = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")


def normal_plate(text: str) -> str:
    """``123 abc 01``, ``123-АВС-01`` -> ``123ABC01``."""
    kept = "".join(char for char in text.upper() if char.isalnum())
    return kept.translate(_LOOKALIKES)


def normal_case_number(text: str) -> str:
    return "".join(text.split()).upper()


@router.get("")
@router.get("/")
def lookup_form(request: Request) -> Response:
    # ``?case=`` fills the case number in: the link printed where no token can be made (the
    # roadside copy and receipt printed offline, the bailiffs' document) opens the form, and the
    # driver adds his plate. It opens nothing by itself, so it gives nothing to guess with.
    prefill = normal_case_number(request.query_params.get("case", ""))[:40]
    return render(request, "lookup.html", chosen_language(request), case_number=prefill)


@router.post("/lookup")
async def lookup(request: Request) -> Response:
    """Case number and plate: the case's page if they belong together. A wrong pair and a case
    number that does not exist get the same answer; either way nothing is written.

    No CSRF token: there is no session to ride on, and a forged POST only opens, in the
    forger's victim's browser, a case whose number and plate the forger already knows."""
    language = chosen_language(request)
    form = await request.form()
    raw_case, raw_plate = form.get("case_number"), form.get("plate")
    case_number = normal_case_number(raw_case if isinstance(raw_case, str) else "")[:MAX_FIELD]
    plate = normal_plate(raw_plate if isinstance(raw_plate, str) else "")[:MAX_FIELD]
    if not case_number or not plate:
        return render(
            request, "lookup.html", language, 400, problem="missing", case_number=case_number
        )
    throttle: LookupThrottle = app_state(request, "driver_throttle")
    host = request.client.host if request.client else None
    throttled = throttle.admit(host, case_number)
    if throttled is not None:
        return render(
            request,
            "lookup.html",
            language,
            429,
            headers={"Retry-After": str(throttled.retry_after_s)},
            problem="throttled",
            minutes=max(1, (throttled.retry_after_s + 59) // 60),
            case_number=case_number,
        )
    store = store_of(request)
    registered = case_plate(store.db, case_number)
    # Compared in constant time, and the same answer for a missing case: nothing to learn.
    if registered is None or not hmac.compare_digest(registered.encode(), plate.encode()):
        throttle.wrong_pair(case_number)
        return render(
            request, "lookup.html", language, 404, problem="wrong_pair", case_number=case_number
        )
    now = registry_of(request).now()
    minutes = request.app.state.config.driver_page.lookup_minutes
    with store.transaction() as db:
        purge_expired_lookups(db, iso(now))
        token = issue_token(
            db, case_number, purpose="lookup", now=now, lifetime=timedelta(minutes=minutes)
        )
    return RedirectResponse(f"/cases/{token}?lang={language}", status_code=303)


@router.get("/{token}")
def case_page(request: Request, token: Token) -> Response:
    # The link checked here rather than as a dependency: one worker thread per page, not two.
    opened = opened_case(request, token)
    store, registry = store_of(request), registry_of(request)
    page = driver_page(store, registry, opened.case_number, opened.now)
    language = chosen_language(request, page.case.owner_language)
    return render(
        request,
        "case.html",
        language,
        page=page,
        case=page.case,
        fixation=page.fixation,
        token=opened.token,
        base=f"/cases/{opened.token}",
        citation=citation(page, language),
    )


def citation(page: DriverPage, language: Language) -> str:
    """The article as the notices cite it (``ч. 1 ст. 592 КоАП РК``): the same words the
    driver read in the SMS, from the notices' catalog."""
    case = page.case
    notice = CaseNotice.from_case(
        {**case.model_dump(), "fine_minor": case.full_minor}, "", page.now
    )
    return article_citation(notice, translator(NOTICES_DOMAIN, language))


@router.get("/{token}/photos/{sha256}")
def photo(request: Request, token: Token, sha256: SHA256) -> Response:
    """One of the case's own images; any other hash is not found, whatever is stored. Read
    whole (a photo is a few hundred kilobytes) in the worker thread the route runs in."""
    opened = opened_case(request, token)
    if case_image(store_of(request).db, opened.case_number, sha256) is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    # Content-addressed: the bytes behind a hash never change, so the phone keeps them. Private:
    # the address holds the link's token; no shared cache keeps it.
    headers = {
        "Cache-Control": "private, max-age=86400, immutable",
        "ETag": f'"{sha256}"',
        "Referrer-Policy": "no-referrer",
    }
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    path = app_state(request, "device_ingest").evidence.path_for(sha256)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    return Response(data, media_type="image/jpeg", headers=headers)


async def link_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LinkRefused)
    language = chosen_language(request)
    expired = exc.state is LinkState.EXPIRED
    return render(
        request,
        "refused.html",
        language,
        410 if expired else 404,
        expired=expired,
        expires_at=exc.expires_at,
    )
