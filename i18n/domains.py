"""The gettext domains: which sources each catalog is extracted from.

One domain per audience, so that each catalog is one translator's job and ships with the part
that shows it (the terminal carries no console strings):

- ``console``: the operators' console pages, their script's messages and error pages;
- ``registry``: the registry's refusals (API errors), state and reason labels, shared by the
  console and the notices;
- ``notices``: SMS and e-mail to vehicle owners;
- ``driver``: the driver's case page (its statuses and history words come from ``console``);
- ``terminal``: the patrol car's terminal, its commands and the printed receipt.

Paths are relative to the repository root. ``ignore`` names folders skipped inside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
BABEL_CFG = ROOT / "babel.cfg"

# Extraction keywords beyond Babel's defaults (_, gettext, ngettext, pgettext, N_ ...).
KEYWORDS = ("Text", "PluralText:1,2")


@dataclass(frozen=True)
class Domain:
    name: str
    sources: tuple[str, ...]
    ignore: tuple[str, ...] = ()
    # Catalogs consulted after this one, for labels shared with another audience.
    fallbacks: tuple[str, ...] = ()


DOMAINS: dict[str, Domain] = {
    domain.name: domain
    for domain in (
        Domain("console", ("central_ingest/console",), fallbacks=("registry",)),
        Domain("registry", ("central_ingest",), ignore=("console", "notify", "driver")),
        Domain("notices", ("central_ingest/notify",), fallbacks=("registry",)),
        Domain("driver", ("central_ingest/driver",), fallbacks=("console",)),
        Domain("terminal", ("terminal",), ignore=("sim",)),
    )
}


def po_path(domain: str, language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"


def mo_path(domain: str, language: str) -> Path:
    return po_path(domain, language).with_suffix(".mo")


def pot_path(domain: str) -> Path:
    return LOCALE_DIR / f"{domain}.pot"
