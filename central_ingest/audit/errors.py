"""Audit errors, each with a stable machine code."""

from __future__ import annotations

from i18n.text import Message, as_text


class AuditError(Exception):
    """An audit operation that cannot be carried out; ``code`` is stable for machines, ``text``
    the sentence for the prosecutor (rendered in the reader's language), ``message`` the same
    in English for logs and the command line."""

    code = "audit_error"

    def __init__(self, message: str | Message) -> None:
        text = as_text(message)
        english = text.render(None)
        super().__init__(english)
        self.message = english
        self.text: Message = text


class TreeHeadRefused(AuditError):
    code = "tree_head_inconsistent"


class UnknownCase(AuditError):
    code = "unknown_case"


class RegistryKeyError(AuditError):
    code = "registry_key_unusable"
