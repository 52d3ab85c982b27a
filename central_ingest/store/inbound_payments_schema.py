"""Payments made elsewhere (banks, eGov) in the SQLite schema: store/schema.py takes these into
its DDL and MIGRATIONS; the PostgreSQL twin is store/postgres/inbound_payment_rules.py.

- ``payment_statements``: each camt.054 file imported, once per institution and message id;
  append-only.
- ``inbound_payments``: each payment once per institution and reference (the notification and
  the statement line of one payment are one row), with its reconciliation. Never deleted; its
  facts and outcome never change, only what later reports said of it.
- ``payment_nonces``: the notifications' nonces within the replay window.

A case an inbound payment was matched to is never handed to bailiffs, whatever became of the
payment (a wrong amount, a payment held while an appeal is open): the same rule as
``handover_never_paid`` and ``case_bailiffs_never_paid`` for the terminals' payments.
"""

from __future__ import annotations

PAYMENT_STATEMENTS = """CREATE TABLE IF NOT EXISTS payment_statements (
    statement_id INTEGER PRIMARY KEY AUTOINCREMENT,
    institution TEXT NOT NULL,
    message_id TEXT NOT NULL,
    file_sha256 TEXT NOT NULL CHECK (length(file_sha256) = 64),
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    entries INTEGER NOT NULL CHECK (entries >= 0),
    new_payments INTEGER NOT NULL CHECK (new_payments >= 0),
    duplicates INTEGER NOT NULL CHECK (duplicates >= 0),
    UNIQUE (institution, message_id)
)"""

OUTCOMES = (
    "'matched', 'wrong_amount', 'unknown_case', 'case_closed', 'case_cancelled', 'case_appealed'"
)

INBOUND_PAYMENTS = f"""CREATE TABLE IF NOT EXISTS inbound_payments (
    inbound_id INTEGER PRIMARY KEY AUTOINCREMENT,
    institution TEXT NOT NULL,
    reference TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('bank', 'egov')),
    source TEXT NOT NULL CHECK (source IN ('notification', 'statement')),
    statement_id INTEGER REFERENCES payment_statements(statement_id),
    case_number TEXT NOT NULL,
    matched_case TEXT REFERENCES cases(case_number),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL CHECK (currency = 'KZT'),
    paid_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    due_minor INTEGER,
    outcome TEXT NOT NULL CHECK (outcome IN ({OUTCOMES})),
    refund_minor INTEGER NOT NULL DEFAULT 0 CHECK (refund_minor >= 0),
    payload_sha256 TEXT NOT NULL CHECK (length(payload_sha256) = 64),
    payload TEXT NOT NULL,
    reported_again INTEGER NOT NULL DEFAULT 0 CHECK (reported_again >= 0),
    statement_confirmed_at TEXT,
    discrepancy TEXT,
    CHECK (source = 'notification' OR statement_id IS NOT NULL),
    UNIQUE (institution, reference)
)"""

PAYMENT_NONCES = """CREATE TABLE IF NOT EXISTS payment_nonces (
    institution TEXT NOT NULL,
    nonce TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (institution, nonce)
)"""

INDEXES = (
    "CREATE INDEX IF NOT EXISTS inbound_payments_case ON inbound_payments(matched_case)",
    "CREATE INDEX IF NOT EXISTS inbound_payments_outcome ON inbound_payments(outcome, received_at)",
    "CREATE INDEX IF NOT EXISTS payment_nonces_seen ON payment_nonces(seen_at)",
)

# The columns of an inbound payment that what came later may not change.
FACTS = (
    "inbound_id, institution, reference, channel, source, statement_id, case_number,"
    " matched_case, amount_minor, currency, paid_at, received_at, due_minor, outcome,"
    " refund_minor, payload_sha256, payload"
)
NEVER_TO_BAILIFFS = "case has a payment made elsewhere: it is never handed to bailiffs"
_MATCHED = "EXISTS (SELECT 1 FROM inbound_payments WHERE matched_case = NEW.case_number)"

TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS inbound_payments_no_delete BEFORE DELETE ON inbound_payments"
    " BEGIN SELECT RAISE(ABORT, 'payments are never deleted'); END",
    f"CREATE TRIGGER IF NOT EXISTS inbound_payments_facts_fixed BEFORE UPDATE OF {FACTS}"
    " ON inbound_payments"
    " BEGIN SELECT RAISE(ABORT, 'a recorded payment is never altered'); END",
    "CREATE TRIGGER IF NOT EXISTS payment_statements_no_update BEFORE UPDATE ON payment_statements"
    " BEGIN SELECT RAISE(ABORT, 'imported statements are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS payment_statements_no_delete BEFORE DELETE ON payment_statements"
    " BEGIN SELECT RAISE(ABORT, 'imported statements are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS handover_never_paid_elsewhere BEFORE INSERT ON bailiff_handovers"
    f" WHEN NEW.kind = 'handover' AND {_MATCHED}"
    f" BEGIN SELECT RAISE(ABORT, '{NEVER_TO_BAILIFFS}'); END",
    "CREATE TRIGGER IF NOT EXISTS case_bailiffs_never_paid_elsewhere"
    " BEFORE UPDATE OF status ON cases"
    f" WHEN NEW.status = 'sent_to_bailiffs' AND {_MATCHED}"
    f" BEGIN SELECT RAISE(ABORT, '{NEVER_TO_BAILIFFS}'); END",
)

TRIGGER_NAMES = (
    "inbound_payments_no_delete",
    "inbound_payments_facts_fixed",
    "payment_statements_no_update",
    "payment_statements_no_delete",
    "handover_never_paid_elsewhere",
    "case_bailiffs_never_paid_elsewhere",
)

INBOUND_MIGRATION = (PAYMENT_STATEMENTS, INBOUND_PAYMENTS, PAYMENT_NONCES, *INDEXES, *TRIGGERS)
INBOUND_DDL = "".join(f"{statement};\n" for statement in INBOUND_MIGRATION)
