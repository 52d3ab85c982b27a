"""The touch UI's pages: Jinja2 templates whose words go through the ``terminal`` catalog
(the i18n extension's new-style gettext, bound to each render's translator), the language
the officer chose, and the headers every page carries."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from i18n import LANGUAGE_NAMES, LANGUAGES, Language, Message, Translator, translator

DOMAIN = "terminal"
TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
NOTHING = "—"

SECURITY_HEADERS = {
    # Everything is shipped with the terminal: no other origin, no inline script; the drawn
    # signature is shown back as a data: image.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer Chromium posts forms with "Origin: null",
    # and the Origin is what tells this server's own forms from another page's.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _translator(context: Context) -> Translator:
    found = context.get("translator")
    return found if isinstance(found, Translator) else translator(DOMAIN, "en")


@pass_context
def _gettext(context: Context, message: str, **variables: Any) -> str:
    text = _translator(context).gettext(message)
    return text % variables if variables else text


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int, **variables: Any) -> str:
    text = _translator(context).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


@pass_context
def _pgettext(context: Context, ctx: str, message: str, **variables: Any) -> str:
    text = _translator(context).pgettext(ctx, message)
    return text % variables if variables else text


@pass_context
def _tenge(context: Context, minor: int | None) -> str:
    return NOTHING if minor is None else _translator(context).money(minor)


@pass_context
def _local_time(context: Context, moment: datetime | None) -> str:
    return NOTHING if moment is None else _translator(context).date_time(moment)


@pass_context
def _say(context: Context, message: Message | str | None) -> str:
    """A sentence from the desk or the token (a ``Text``), in the officer's language."""
    return "" if message is None else _translator(context).text(message)


def _install(environment: Environment) -> None:
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, newstyle=True
    )
    environment.filters.update(tenge=_tenge, local_time=_local_time, say=_say)


TEMPLATES = Jinja2Templates(directory=TEMPLATES_DIR)
_install(TEMPLATES.env)


def render(
    request: Request,
    name: str,
    language: Language,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "translator": translator(DOMAIN, language),
            "language": language,
            "LANGUAGES": LANGUAGES,
            "LANGUAGE_NAMES": LANGUAGE_NAMES,
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
        headers=SECURITY_HEADERS,
    )
