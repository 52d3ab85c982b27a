"""The catalogs against the code: every message the sources hold (Python and Jinja2, through
``pybabel``'s extractors and ``babel.cfg``) is translated, and not fuzzy, in Kazakh and Russian;
the committed ``.mo`` files are the compilation of the ``.po`` files; and the compiled catalogs
are the ones the product loads."""

from __future__ import annotations

import re

import pytest

from i18n import LANGUAGES, translator
from i18n.domains import DOMAINS, po_path
from i18n.maintenance import extracted, problems


def test_every_message_is_translated_in_kazakh_and_russian_and_compiled() -> None:
    found = [str(problem) for problem in problems()]
    assert not found, "catalog problems (run `python -m i18n update`, then translate):\n" + (
        "\n".join(found)
    )


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_extraction_finds_the_messages_of_each_domain(domain: str) -> None:
    """The check above is not vacuous: each domain's sources yield messages, and each catalog
    holds them."""
    messages = extracted(DOMAINS[domain])
    assert len(messages) >= 10, (domain, len(messages))
    for language in LANGUAGES:
        assert po_path(domain, language).exists()


def test_the_loaded_catalogs_translate_and_fall_back_to_the_registry_labels() -> None:
    # "speeding" lives in the registry catalog; the console and notices reach it by fallback.
    for domain in ("registry", "console", "notices"):
        assert translator(domain, "ru").gettext("speeding") == (
            "превышение установленной скорости движения"
        )
        assert translator(domain, "kk").gettext("speeding") == "белгіленген жылдамдықты асыру"
        assert translator(domain, "en").gettext("speeding") == "speeding"


def test_russian_catalogs_declare_three_plural_forms_and_kazakh_two() -> None:
    for domain in DOMAINS:
        ru = po_path(domain, "ru").read_text(encoding="utf-8")
        kk = po_path(domain, "kk").read_text(encoding="utf-8")
        assert re.search(r"Plural-Forms: nplurals=3;", ru), domain
        assert re.search(r"Plural-Forms: nplurals=2;", kk), domain
