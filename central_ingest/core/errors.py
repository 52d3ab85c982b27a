"""The refusals of the registry's rules: a stable code for machines and a sentence for people.

Every layer raises these (the core's rules, the stores' lookups, the services); the API maps
each kind to an HTTP status (``central_ingest.api.errors``).
"""

from __future__ import annotations

from i18n.text import Message, as_text

__all__ = ["Conflict", "DomainError", "Forbidden", "InvalidInput", "NotFound"]


class DomainError(Exception):
    """A request the registry refuses under its rules. ``code`` is stable for machines;
    ``text`` is the sentence for people, rendered later in the reader's language (the API in
    the request's, the console in the officer's); ``message`` is that sentence in English, for
    logs and the command line. A plain string is accepted from code that predates ``Text``."""

    def __init__(self, code: str, message: str | Message) -> None:
        text = as_text(message)
        english = text.render(None)
        super().__init__(english)
        self.code = code
        self.message = english
        self.text: Message = text


class NotFound(DomainError):
    """The fixation, case, request or operator named does not exist."""


class Conflict(DomainError):
    """The entity is not in a state that allows the request (e.g. already decided)."""


class Forbidden(DomainError):
    """The request breaks a rule about who may do it (e.g. the two-person rule)."""


class InvalidInput(DomainError):
    """The request itself is incomplete or contradictory."""
