"""The language a console request is answered in, and the Jinja2 wiring that renders every
template with that request's catalog and CLDR formats.

Which language: the signed-in operator's own choice (``Operator.language``), else the registry's
default (``RegistryConfig.language``). Before sign-in there is no profile: the language picked
with the header's switcher (the ``erap_lang`` cookie), else the browser's Accept-Language, else
the registry's default.

The translator travels in each template's context (``render``/``fragment`` put it there), not
in a global: two requests in two languages render at the same time in one process. The
gettext callables and the formatting filters are ``pass_context`` functions that read it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from starlette.requests import Request

from central_ingest.console.terms import term
from central_ingest.operators import Operator
from i18n import (
    FALLBACK_LANGUAGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    Language,
    Message,
    Translator,
    language_or_none,
    negotiate,
    translator,
)

DOMAIN = "console"
LANGUAGE_COOKIE = "erap_lang"
# A preference, kept for a year; it names a language and nothing else.
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
NOTHING = "—"


def registry_language(request: Request) -> Language:
    """The registry's default (its config, on the application built by ``create_app``)."""
    config = getattr(request.app.state, "config", None)
    language = getattr(config, "language", None)
    return language_or_none(language) or FALLBACK_LANGUAGE


def request_language(request: Request, operator: Operator | None) -> Language:
    default = registry_language(request)
    if operator is not None:
        return operator.language or default
    chosen = language_or_none(request.cookies.get(LANGUAGE_COOKIE))
    if chosen is not None:
        return chosen
    return negotiate(request.headers.get("accept-language"), default)


def console_translator(language: Language) -> Translator:
    return translator(DOMAIN, language)


def context_for(language: Language) -> dict[str, Any]:
    """What every template needs to speak ``language``."""
    return {
        "translator": console_translator(language),
        "language": language,
        "LANGUAGES": LANGUAGES,
        "LANGUAGE_NAMES": LANGUAGE_NAMES,
    }


# --- Jinja2 ----------------------------------------------------------------------------------


def _translator(context: Context) -> Translator:
    found = context.get("translator")
    if not isinstance(found, Translator):
        # A template rendered without render()/fragment(): fail loudly, never in a default.
        raise RuntimeError("a console template was rendered without a translator in context")
    return found


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _translator(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return _translator(context).ngettext(singular, plural, count)


@pass_context
def _pgettext(context: Context, message_context: str, message: str) -> str:
    return _translator(context).pgettext(message_context, message)


def _moment(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@pass_context
def _local_time(context: Context, moment: datetime | str | None, seconds: bool = True) -> str:
    """Astana local time as the reader's language writes it."""
    if moment is None or moment == "":
        return NOTHING
    return _translator(context).date_time(_moment(moment), seconds=seconds)


@pass_context
def _day(context: Context, moment: datetime | str | None) -> str:
    if moment is None or moment == "":
        return NOTHING
    return _translator(context).day(_moment(moment))


@pass_context
def _tenge(context: Context, minor: int | None) -> str:
    """Tiyn -> ``21 625,00 ₸`` (CLDR)."""
    return NOTHING if minor is None else _translator(context).money(minor)


@pass_context
def _percent(context: Context, rate: float | None, decimals: int = 1) -> str:
    return NOTHING if rate is None else _translator(context).percent(rate, decimals)


@pass_context
def _number(context: Context, value: float | None, decimals: int | None = None) -> str:
    if value is None:
        return NOTHING
    return _translator(context).number(round(value, decimals) if decimals is not None else value)


@pass_context
def _label(context: Context, code: object, table: str | None = None) -> str:
    """A code (status, reason, role, ledger action...) in the reader's words."""
    if code is None or code == "":
        return NOTHING
    return _translator(context).gettext(term(code, table))


@pass_context
def _say(context: Context, message: Message | str) -> str:
    """A sentence from the registry (a ``Text``, or a string its catalog may hold)."""
    return _translator(context).text(message)


def install(environment: Environment) -> None:
    """Jinja2's i18n extension with new-style gettext (``_("%(n)s cases", n=3)``; a literal
    percent sign in a message is written ``%%``), bound to each render's translator."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, newstyle=True
    )
    environment.filters.update(
        local_time=_local_time,
        day=_day,
        tenge=_tenge,
        percent=_percent,
        number=_number,
        label=_label,
        say=_say,
    )
