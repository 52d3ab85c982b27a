"""Audit errors, each with a stable machine code."""

from __future__ import annotations


class AuditError(Exception):
    """An audit operation that cannot be carried out; ``code`` is stable for machines."""

    code = "audit_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TreeHeadRefused(AuditError):
    code = "tree_head_inconsistent"


class UnknownCase(AuditError):
    code = "unknown_case"


class RegistryKeyError(AuditError):
    code = "registry_key_unusable"
