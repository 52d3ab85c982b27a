"""A gettext catalog over two dictionaries, for unit tests of lazy sentences (no file read):
the plural form is chosen by Russian's rule (one, few, many), the hardest of the three."""

from __future__ import annotations


class RussianCatalog:
    """gettext's two lookups; an unknown message comes back as it is, as gettext does."""

    def __init__(
        self, singular: dict[str, str], plural: dict[str, tuple[str, str, str]] | None = None
    ) -> None:
        self._singular, self._plural = singular, plural or {}

    def gettext(self, message: str, /) -> str:
        return self._singular.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        forms = self._plural.get(singular)
        if forms is None:
            return singular if n == 1 else plural
        if n % 10 == 1 and n % 100 != 11:
            return forms[0]
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return forms[1]
        return forms[2]
