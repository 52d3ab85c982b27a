"""Payments made elsewhere in the PostgreSQL schema: the tables and rules of
store/inbound_payments_schema.py (SQLite), as one migration step. Trigger names and sentences
are SQLite's, word for word; refusals are SQLSTATE 23000 as in rules.py.

What PostgreSQL adds, as for ``payments`` (rules.py): TRUNCATE refused where DELETE is, and the
case's row lock taken when a payment is matched to it (``inbound_payments_lock_case``, with
rules.py's ``erap_payment_locks_case``), so that a hand-over of that case in another
transaction waits, then sees the payment.
"""

from __future__ import annotations

from central_ingest.store.inbound_payments_schema import FACTS, NEVER_TO_BAILIFFS, OUTCOMES

_SETTINGS = "LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp"

INBOUND_PAYMENTS = f"""
CREATE TABLE payment_statements (
    statement_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    institution text NOT NULL,
    message_id text NOT NULL,
    file_sha256 text NOT NULL CHECK (length(file_sha256) = 64),
    imported_at timestamptz NOT NULL,
    imported_by text NOT NULL,
    entries bigint NOT NULL CHECK (entries >= 0),
    new_payments bigint NOT NULL CHECK (new_payments >= 0),
    duplicates bigint NOT NULL CHECK (duplicates >= 0),
    UNIQUE (institution, message_id)
);

CREATE TABLE inbound_payments (
    inbound_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    institution text NOT NULL,
    reference text NOT NULL,
    channel text NOT NULL CHECK (channel IN ('bank', 'egov')),
    source text NOT NULL CHECK (source IN ('notification', 'statement')),
    statement_id bigint REFERENCES payment_statements(statement_id),
    case_number text NOT NULL,
    matched_case text REFERENCES cases(case_number),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency text NOT NULL CHECK (currency = 'KZT'),
    paid_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    due_minor bigint,
    outcome text NOT NULL CHECK (outcome IN ({OUTCOMES})),
    refund_minor bigint NOT NULL DEFAULT 0 CHECK (refund_minor >= 0),
    payload_sha256 text NOT NULL CHECK (length(payload_sha256) = 64),
    payload text NOT NULL,
    reported_again bigint NOT NULL DEFAULT 0 CHECK (reported_again >= 0),
    statement_confirmed_at timestamptz,
    discrepancy text,
    CHECK (source = 'notification' OR statement_id IS NOT NULL),
    UNIQUE (institution, reference)
);

CREATE TABLE payment_nonces (
    institution text NOT NULL,
    nonce text NOT NULL,
    body_sha256 text NOT NULL,
    seen_at timestamptz NOT NULL,
    PRIMARY KEY (institution, nonce)
);

CREATE INDEX inbound_payments_case ON inbound_payments(matched_case);
CREATE INDEX inbound_payments_outcome ON inbound_payments(outcome, received_at);
CREATE INDEX payment_nonces_seen ON payment_nonces(seen_at);

-- Takes the case's row lock first: a payment matched to it meanwhile has committed.
CREATE FUNCTION erap_never_paid_elsewhere() RETURNS trigger {_SETTINGS} AS $$
BEGIN
    PERFORM 1 FROM cases WHERE case_number = NEW.case_number FOR UPDATE;
    IF EXISTS (SELECT 1 FROM inbound_payments WHERE matched_case = NEW.case_number) THEN
        RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = '{NEVER_TO_BAILIFFS}';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER inbound_payments_no_delete BEFORE DELETE ON inbound_payments FOR EACH ROW
    EXECUTE FUNCTION erap_refuse('payments are never deleted');
CREATE TRIGGER inbound_payments_no_truncate BEFORE TRUNCATE ON inbound_payments
    FOR EACH STATEMENT EXECUTE FUNCTION erap_refuse('payments are never deleted');
CREATE TRIGGER inbound_payments_facts_fixed BEFORE UPDATE OF {FACTS} ON inbound_payments
    FOR EACH ROW EXECUTE FUNCTION erap_refuse('a recorded payment is never altered');
CREATE TRIGGER inbound_payments_lock_case BEFORE INSERT ON inbound_payments FOR EACH ROW
    WHEN (NEW.matched_case IS NOT NULL) EXECUTE FUNCTION erap_payment_locks_case();
CREATE TRIGGER payment_statements_no_update BEFORE UPDATE ON payment_statements FOR EACH ROW
    EXECUTE FUNCTION erap_refuse('imported statements are append-only');
CREATE TRIGGER payment_statements_no_delete BEFORE DELETE ON payment_statements FOR EACH ROW
    EXECUTE FUNCTION erap_refuse('imported statements are append-only');
CREATE TRIGGER payment_statements_no_truncate BEFORE TRUNCATE ON payment_statements
    FOR EACH STATEMENT EXECUTE FUNCTION erap_refuse('imported statements are append-only');
CREATE TRIGGER handover_never_paid_elsewhere BEFORE INSERT ON bailiff_handovers FOR EACH ROW
    WHEN (NEW.kind = 'handover') EXECUTE FUNCTION erap_never_paid_elsewhere();
CREATE TRIGGER case_bailiffs_never_paid_elsewhere BEFORE UPDATE OF status ON cases FOR EACH ROW
    WHEN (NEW.status = 'sent_to_bailiffs') EXECUTE FUNCTION erap_never_paid_elsewhere();
"""

# What PostgreSQL has beyond SQLite's triggers (tests/.../postgres/test_schema.py).
POSTGRES_ONLY_TRIGGERS = (
    "inbound_payments_no_truncate",
    "payment_statements_no_truncate",
    "inbound_payments_lock_case",
)

# The application role: payments are updated only in what later reports said of them (the
# facts are guarded by the trigger); statements are appended; nonces expire.
INBOUND_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "payment_statements": ("SELECT", "INSERT"),
    "inbound_payments": ("SELECT", "INSERT", "UPDATE"),
    "payment_nonces": ("SELECT", "INSERT", "UPDATE", "DELETE"),
}
