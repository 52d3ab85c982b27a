"""One translation mechanism for every part: gettext catalogs managed with Babel, locales
``kk``, ``ru`` and ``en``, and CLDR formats for amounts, dates and durations.

- Code that refuses or reports raises or returns a ``Text`` (``i18n.text``), rendered later in
  the reader's language.
- Code that shows something takes a ``Translator`` (``translator(domain, language)``): gettext
  lookups plus ``money``, ``date_time``, ``day``, ``duration``.
- ``python -m i18n update`` extracts every message (``pybabel extract`` with ``babel.cfg``),
  updates the ``.po`` catalogs and compiles them; ``python -m i18n check`` fails on a message
  missing or fuzzy in Kazakh or Russian.
"""

from i18n.catalogs import Translator, translator
from i18n.languages import (
    BOTH_OFFICIAL,
    FALLBACK_LANGUAGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    Language,
    language_or_none,
    negotiate,
    parse_language,
)
from i18n.text import N_, Message, PluralText, Text, as_text

__all__ = [
    "BOTH_OFFICIAL",
    "FALLBACK_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "N_",
    "Language",
    "Message",
    "PluralText",
    "Text",
    "Translator",
    "as_text",
    "language_or_none",
    "negotiate",
    "parse_language",
    "translator",
]
