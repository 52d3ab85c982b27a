"""A sentence for a person, kept untranslated until it is shown.

The rules that refuse a request (the registry's core, the terminal's protocol code) do not know
who will read the refusal: the API answers in the language of the request's Accept-Language, the
console in the officer's, a log in English. So they raise a ``Text``: the English message id
and its named parameters. Whoever shows it renders it with the reader's catalog.

``Text(...)`` and ``PluralText(...)`` are gettext keywords: ``pybabel extract`` (see
``i18n.domains``) collects their first arguments into the catalogs. Parameters use Python's
``%(name)s`` form, which Babel checks between the message id and every translation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


class Catalog(Protocol):
    """What rendering needs of a catalog: gettext's two lookups."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


def _format(template: str, params: Mapping[str, object], catalog: Catalog | None) -> str:
    if not params:
        return template
    values = {
        name: value.render(catalog) if isinstance(value, Text | PluralText) else value
        for name, value in params.items()
    }
    return template % values


@dataclass(frozen=True, slots=True, init=False)
class Text:
    """``Text("There is no case %(case)s.", case=number)``."""

    message: str
    params: Mapping[str, object] = field(default_factory=dict)

    def __init__(self, message: str, /, **params: object) -> None:
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "params", params)

    def render(self, catalog: Catalog | None = None) -> str:
        """In the catalog's language; in English (the message id) without one."""
        template = catalog.gettext(self.message) if catalog is not None else self.message
        return _format(template, self.params, catalog)

    def __str__(self) -> str:
        return self.render(None)


@dataclass(frozen=True, slots=True, init=False)
class PluralText:
    """``PluralText("%(n)s fixation waits.", "%(n)s fixations wait.", count, n=count)``: the
    form is chosen by ``count`` under the language's plural rule (Russian has three)."""

    singular: str
    plural: str
    count: int
    params: Mapping[str, object] = field(default_factory=dict)

    def __init__(self, singular: str, plural: str, count: int, /, **params: object) -> None:
        object.__setattr__(self, "singular", singular)
        object.__setattr__(self, "plural", plural)
        object.__setattr__(self, "count", count)
        object.__setattr__(self, "params", params)

    def render(self, catalog: Catalog | None = None) -> str:
        if catalog is None:
            template = self.singular if self.count == 1 else self.plural
        else:
            template = catalog.ngettext(self.singular, self.plural, self.count)
        return _format(template, self.params, catalog)

    def __str__(self) -> str:
        return self.render(None)


Message = Text | PluralText
# A label table's value: the English text, marked for extraction with ``N_``.
Label = str


def N_(message: str) -> str:
    """Marks a constant for extraction without translating it here (labels in tables)."""
    return message


def as_text(message: str | Message) -> Message:
    """Strings from code that predates ``Text`` are shown as they are (they still extract if
    marked)."""
    return Text(message) if isinstance(message, str) else message


Renderer = Callable[[Message], str]
