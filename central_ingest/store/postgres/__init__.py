"""The registry's PostgreSQL 15 foundation: schema, rules (PL/pgSQL triggers), database roles
and numbered migrations (``schema.migrate``), for the national registry (deploy/SCALING.md,
section 7). The PostgreSQL repositories beside the SQLite ones come next; nothing here is used
by the running registry yet."""
