"""The registry's database roles and what each may do to each table.

- ``erap_owner`` owns every table, trigger and function, and runs the migrations. Nothing else
  connects as it.
- ``erap_app`` is what the registry's processes (API, ingest workers, jobs) connect as: it reads
  and writes, but the append-only tables take INSERT only (no UPDATE, DELETE or TRUNCATE, so a
  compromised process cannot rewrite history even with the triggers out of the way), and
  ``meta`` is read-only to it.
- ``erap_reader`` is the prosecutor's reports and the read replicas: SELECT only, never on the
  officers' sessions, failed sign-ins or password hashes; ``deploy/postgresql/roles.sql`` also
  makes its transactions read-only.

The roles are cluster-wide and created once by the database administrator
(``deploy/postgresql/roles.sql``); each migration grants these privileges afresh
(``grant_statements``), and refuses to run while a table has no entry in ``APP_PRIVILEGES``.
"""

from __future__ import annotations

from collections.abc import Collection

from central_ingest.store.postgres.appeal_rules import APPEALS_PRIVILEGES
from central_ingest.store.postgres.inbound_payment_rules import INBOUND_PRIVILEGES
from central_ingest.store.postgres.notice_rules import NOTICE_PRIVILEGES

OWNER = "erap_owner"
APP = "erap_app"
READER = "erap_reader"

READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
APPEND_ONLY = ("SELECT", "INSERT")
READ_ONLY = ("SELECT",)

# Every table of the schema, with the application role's privileges on it.
APP_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "meta": READ_ONLY,
    "devices": READ_WRITE,
    "operators": READ_WRITE,
    "sessions": READ_WRITE,
    "login_failures": READ_WRITE,
    "evidence": READ_WRITE,
    "messages": APPEND_ONLY,
    "fixations": READ_WRITE,
    "fixation_evidence": READ_WRITE,
    "device_status": READ_WRITE,
    "vehicles": READ_WRITE,
    "case_numbers": READ_WRITE,
    "cases": READ_WRITE,
    "payments": APPEND_ONLY,
    "cancellation_requests": READ_WRITE,
    "bailiff_handovers": APPEND_ONLY,
    "notifications": READ_WRITE,
    "notification_messages": READ_WRITE,
    "dead_letters": READ_WRITE,
    "ledger": APPEND_ONLY,
    "merkle_nodes": APPEND_ONLY,
    "tree_heads": APPEND_ONLY,
    "double_reviews": READ_WRITE,
    "case_links": READ_WRITE,
    "protocol_number_sequence": READ_WRITE,
    "protocol_number_blocks": APPEND_ONLY,
    "roadside_protocols": APPEND_ONLY,
    "roadside_protocol_photos": APPEND_ONLY,
    # Filed and decided, never deleted (store/postgres/appeal_rules.py).
    **APPEALS_PRIVILEGES,
    # Payments made elsewhere (store/postgres/inbound_payment_rules.py).
    **INBOUND_PRIVILEGES,
    **NOTICE_PRIVILEGES,
}

# What the read-only role may not read at all, and the tables it reads only some columns of.
READER_HIDDEN = ("sessions", "login_failures", "case_links")
READER_COLUMNS: dict[str, tuple[str, ...]] = {
    "operators": ("username", "display_name", "role", "active", "created_at", "language"),
}


def grant_statements(existing: Collection[str] | None = None) -> list[str]:
    """The whole set of grants, from nothing: run by the owner at the end of each migration
    step, so that a table added by the step is covered and nothing granted by hand survives.
    ``existing``: the tables there are at that step (a later step's are not there yet)."""
    granted = {
        table: privileges
        for table, privileges in APP_PRIVILEGES.items()
        if existing is None or table in existing
    }
    tables = ", ".join(granted)
    statements = [
        # No one else creates objects in the registry's schema.
        "REVOKE ALL ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA public TO {APP}, {READER}",
        f"REVOKE ALL ON {tables} FROM PUBLIC, {APP}, {READER}",
    ]
    for table, privileges in granted.items():
        statements.append(f"GRANT {', '.join(privileges)} ON {table} TO {APP}")
        if table in READER_COLUMNS:
            columns = ", ".join(READER_COLUMNS[table])
            statements.append(f"GRANT SELECT ({columns}) ON {table} TO {READER}")
        elif table not in READER_HIDDEN:
            statements.append(f"GRANT SELECT ON {table} TO {READER}")
    return statements
