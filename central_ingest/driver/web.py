"""Rendering the driver's pages: the ``driver`` catalog, the language the reader gets, and the
headers every page carries.

Which language: the one chosen on the page (``?lang=kk``, then kept in the ``erap_lang``
cookie the console uses too), else the one the vehicle register records for the case's owner
(the language the notice came in), else the browser's Accept-Language, else the registry's
default. The Jinja2 gettext wiring and formatting filters are the console's
(``console.language.install``): they read the translator each render puts in its context, so
the console's words for statuses and ledger actions are shared through the catalog chain
driver -> console -> registry.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from central_ingest.console.language import (
    LANGUAGE_COOKIE,
    LANGUAGE_COOKIE_SECONDS,
    NOTHING,
    registry_language,
)
from central_ingest.console.language import install as install_language
from i18n import LANGUAGE_NAMES, LANGUAGES, Language, Translator, language_or_none, negotiate
from i18n import translator as make_translator

DOMAIN = "driver"
TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/driver/static"

SECURITY_HEADERS = {
    # No script at all on these pages; images and the style sheet from here only.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # The page's address holds the token: never sent to another site.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}


@lru_cache(maxsize=4096)
def _money(language: Language, minor: int) -> str:
    return make_translator(DOMAIN, language).money(minor)


@pass_context
def _tenge(context: Context, minor: int | None) -> str:
    """The console's ``tenge``, remembered: a page shows five amounts, and the fines are a
    few dozen figures in all (CLDR's formatting is most of what an amount costs)."""
    return NOTHING if minor is None else _money(context["language"], minor)


TEMPLATES = Jinja2Templates(directory=TEMPLATES_DIR)
install_language(TEMPLATES.env)
TEMPLATES.env.filters["tenge"] = _tenge
TEMPLATES.env.globals.update(STATIC_PATH=STATIC_PATH)


def driver_translator(language: Language) -> Translator:
    return make_translator(DOMAIN, language)


def chosen_language(request: Request, owner_language: str | None = None) -> Language:
    asked = language_or_none(request.query_params.get("lang"))
    if asked is not None:
        return asked
    kept = language_or_none(request.cookies.get(LANGUAGE_COOKIE))
    if kept is not None:
        return kept
    owners = language_or_none(owner_language)
    if owners is not None:
        return owners
    return negotiate(request.headers.get("accept-language"), registry_language(request))


def render(
    request: Request,
    name: str,
    language: Language,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "translator": driver_translator(language),
            "language": language,
            "LANGUAGES": LANGUAGES,
            "LANGUAGE_NAMES": LANGUAGE_NAMES,
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )
    if request.query_params.get("lang") == language:
        # A choice made on the page is kept; it names a language and nothing else.
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=LANGUAGE_COOKIE_SECONDS,
            httponly=True,
            samesite="lax",
        )
    return response
