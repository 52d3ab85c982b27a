"""The registry's tables in PostgreSQL 15: schema version 2, the tables of
``central_ingest/store/schema.py`` (SQLite's ``DDL`` at ``SCHEMA_VERSION`` 2) and
``store/double_reviews.py``, column for column and in the same order.

What changes from SQLite (deploy/SCALING.md, section 7):

- ``INTEGER PRIMARY KEY AUTOINCREMENT`` -> ``bigint GENERATED ALWAYS AS IDENTITY``: ids are
  never reused, and never chosen by the caller (``INSERT ... RETURNING`` gives them back).
- ``INTEGER`` amounts, counters, sequences -> ``bigint``: a fine in tiyn passes 2^31 at
  21.5 million tenge.
- ``INTEGER`` 0/1 flags (``active``, ``retryable``, ``agrees``, ``signed``) -> ``smallint``
  checked to 0 or 1: the statements both stores share compare them with 1 and 0, and the
  services read 0/1 from either store (``boolean`` would need every statement twice).
- ``REAL`` -> ``double precision`` (the same IEEE double); ``BLOB`` -> ``bytea``.
- TEXT ISO-8601 timestamps -> ``timestamptz``: a malformed time is refused, months can be range
  partitions, and date arithmetic is the server's. ``connection.configure`` reads them back as
  the very text ``core.clock.iso`` wrote, so the services see what the SQLite store gives them.
- Kept ``text``: ``ledger.recorded_at`` and ``ledger.payload`` (hashed into the chain as
  written), ``tree_heads.signed_at`` (the signature covers it as written), and the verbatim
  JSON of ``messages.envelope`` and ``device_status.body`` (``jsonb`` would reorder its keys).
- ``WITHOUT ROWID`` (merkle_nodes) -> an ordinary table with its primary key.
- ``CREATE ... IF NOT EXISTS`` at every start -> created once by migration 2
  (``schema.migrate``).

Partitioning by month (SCALING.md) changes primary keys and comes as its own migration.
"""

from __future__ import annotations

TABLES = """
CREATE TABLE meta (
    key text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE devices (
    device_id text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('camera', 'terminal', 'bank')),
    public_key text NOT NULL,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    description text NOT NULL DEFAULT '',
    registered_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_reason text
);

CREATE TABLE operators (
    username text PRIMARY KEY,
    display_name text NOT NULL,
    role text NOT NULL CHECK (role IN ('reviewer', 'supervisor', 'prosecutor', 'bailiff', 'admin')),
    password_hash text NOT NULL,
    active smallint NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at timestamptz NOT NULL,
    language text CHECK (language IN ('kk', 'ru', 'en'))
);

CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    username text NOT NULL REFERENCES operators(username),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

-- Failed sign-ins in the recent window, to pause password guessing per user name.
CREATE TABLE login_failures (
    username text NOT NULL,
    failed_at timestamptz NOT NULL
);
CREATE INDEX login_failures_user ON login_failures(username, failed_at);

CREATE TABLE evidence (
    sha256 text PRIMARY KEY,
    size_bytes bigint NOT NULL,
    content_type text NOT NULL,
    width integer,
    height integer,
    uploaded_by text NOT NULL,
    stored_at timestamptz NOT NULL
);

-- Every accepted signed envelope, verbatim, for non-repudiation.
CREATE TABLE messages (
    message_id text PRIMARY KEY,
    device_id text NOT NULL REFERENCES devices(device_id),
    kind text NOT NULL,
    channel text NOT NULL CHECK (channel IN ('mqtt', 'http')),
    received_at timestamptz NOT NULL,
    envelope_sha256 text NOT NULL,
    envelope text NOT NULL
);

CREATE TABLE fixations (
    fixation_id text PRIMARY KEY,
    message_id text NOT NULL UNIQUE REFERENCES messages(message_id),
    device_id text NOT NULL REFERENCES devices(device_id),
    sequence bigint NOT NULL,
    captured_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    violation text NOT NULL,
    plate_text text NOT NULL,
    plate_confidence double precision NOT NULL,
    plate_format text NOT NULL,
    speed_kmh double precision,
    limit_kmh integer,
    light_phase text,
    zone text NOT NULL,
    lat double precision,
    lon double precision,
    status text NOT NULL DEFAULT 'awaiting_review'
        CHECK (status IN ('awaiting_review', 'confirmed', 'rejected')),
    decided_at timestamptz,
    decided_by text REFERENCES operators(username),
    reject_reason text,
    decision_note text,
    seconds_spent double precision,
    corrected_plate text,
    correction_reason text,
    CHECK (status = 'awaiting_review' OR (decided_by IS NOT NULL AND decided_at IS NOT NULL)),
    CHECK (status <> 'rejected' OR reject_reason IS NOT NULL)
);
-- The review queue: oldest first, the id breaking ties so the order is total.
CREATE INDEX fixations_review_queue ON fixations(status, received_at, fixation_id);
CREATE INDEX fixations_plate ON fixations(plate_text);
CREATE INDEX fixations_device_seq ON fixations(device_id, sequence);

CREATE TABLE fixation_evidence (
    fixation_id text NOT NULL REFERENCES fixations(fixation_id),
    sha256 text NOT NULL REFERENCES evidence(sha256),
    role text NOT NULL,
    PRIMARY KEY (fixation_id, sha256)
);

CREATE TABLE device_status (
    device_id text PRIMARY KEY REFERENCES devices(device_id),
    message_id text NOT NULL,
    reported_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    body text NOT NULL
);

-- The vehicle register adapter's cache (the embedded default's seeded table).
CREATE TABLE vehicles (
    plate text PRIMARY KEY,
    owner_id text NOT NULL,
    owner_kind text NOT NULL CHECK (owner_kind IN ('person', 'organisation')),
    owner_name text NOT NULL,
    phone text,
    email text,
    make text,
    model text,
    colour text,
    language text CHECK (language IN ('kk', 'ru', 'en'))
);

CREATE TABLE case_numbers (
    year integer PRIMARY KEY,
    last bigint NOT NULL
);

CREATE TABLE cases (
    case_number text PRIMARY KEY,
    fixation_id text NOT NULL UNIQUE REFERENCES fixations(fixation_id),
    plate text NOT NULL,
    owner_id text,
    owner_name text,
    owner_phone text,
    owner_email text,
    violation text NOT NULL,
    article text NOT NULL,
    part text NOT NULL,
    offence_at timestamptz NOT NULL,
    mrp_kzt bigint NOT NULL,
    fine_mrp bigint NOT NULL,
    fine_minor bigint NOT NULL CHECK (fine_minor > 0),
    discount_percent integer NOT NULL,
    resolution_at timestamptz NOT NULL,
    resolved_by text NOT NULL REFERENCES operators(username),
    discount_deadline timestamptz NOT NULL,
    entry_into_force timestamptz NOT NULL,
    voluntary_deadline timestamptz NOT NULL,
    limitation_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'paid', 'underpaid', 'sent_to_bailiffs', 'cancelled', 'expired')),
    paid_minor bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL,
    owner_language text CHECK (owner_language IN ('kk', 'ru', 'en'))
);
CREATE INDEX cases_status ON cases(status, voluntary_deadline);
CREATE INDEX cases_plate ON cases(plate);
CREATE INDEX cases_owner ON cases(owner_id);
CREATE INDEX cases_limitation ON cases(status, limitation_at);

CREATE TABLE payments (
    payment_id text PRIMARY KEY,
    message_id text NOT NULL UNIQUE REFERENCES messages(message_id),
    device_id text NOT NULL REFERENCES devices(device_id),
    case_number text NOT NULL,
    matched_case text REFERENCES cases(case_number),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency text NOT NULL CHECK (currency = 'KZT'),
    paid_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    channel text NOT NULL,
    masked_pan text,
    scheme text,
    aid text,
    approval_code text,
    rrn text,
    stan text,
    due_minor bigint,
    match_status text NOT NULL
        CHECK (match_status IN ('settled', 'underpaid', 'overpaid', 'unknown_case',
                                'case_closed', 'after_handover'))
);
CREATE INDEX payments_case ON payments(matched_case);

CREATE TABLE cancellation_requests (
    request_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_number text NOT NULL REFERENCES cases(case_number),
    requested_by text NOT NULL REFERENCES operators(username),
    requested_at timestamptz NOT NULL,
    reason text NOT NULL CHECK (length(trim(reason)) > 0),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
    decided_by text REFERENCES operators(username),
    decided_at timestamptz,
    decision_note text,
    CHECK (decided_by IS NULL OR decided_by <> requested_by),
    CHECK (status = 'pending' OR decided_by IS NOT NULL)
);
CREATE UNIQUE INDEX cancellation_one_pending
    ON cancellation_requests(case_number) WHERE status = 'pending';

CREATE TABLE bailiff_handovers (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_number text NOT NULL REFERENCES cases(case_number),
    kind text NOT NULL CHECK (kind IN ('handover', 'recall')),
    amount_minor bigint NOT NULL,
    recorded_at timestamptz NOT NULL,
    document text NOT NULL,
    UNIQUE (case_number, kind)
);
CREATE INDEX bailiff_handovers_case ON bailiff_handovers(case_number);

CREATE TABLE notifications (
    notification_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_number text NOT NULL REFERENCES cases(case_number),
    channel text NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient text NOT NULL,
    subject text,
    body text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    sent_at timestamptz,
    last_error text,
    language text NOT NULL DEFAULT 'en' CHECK (language IN ('kk', 'ru', 'en', 'kk,ru'))
);
CREATE INDEX notifications_due ON notifications(status, next_attempt_at);

CREATE TABLE dead_letters (
    dead_letter_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at timestamptz NOT NULL,
    channel text NOT NULL,
    topic text,
    device_id text,
    message_id text,
    reason text NOT NULL,
    detail text NOT NULL,
    retryable smallint NOT NULL DEFAULT 0 CHECK (retryable IN (0, 1)),
    payload bytea NOT NULL
);
CREATE INDEX dead_letters_reason ON dead_letters(reason);

-- The audit ledger: one row per change of state, hash-chained; leaf_hash feeds the Merkle tree.
-- recorded_at and payload stay text: they are hashed as written.
CREATE TABLE ledger (
    seq bigint PRIMARY KEY,
    recorded_at text NOT NULL,
    entity_type text NOT NULL,
    entity_id text NOT NULL,
    action text NOT NULL,
    actor text NOT NULL,
    payload text NOT NULL,
    prev_hash text NOT NULL,
    entry_hash text NOT NULL UNIQUE,
    leaf_hash text NOT NULL
);
CREATE INDEX ledger_entity ON ledger(entity_type, entity_id);

-- Hashes of the perfect subtrees of the Merkle tree over ledger leaves (level 0 = leaves).
CREATE TABLE merkle_nodes (
    level integer NOT NULL,
    idx bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (level, idx)
);

-- signed_at stays text: the signature covers it as written.
CREATE TABLE tree_heads (
    tree_size bigint PRIMARY KEY,
    root_hash text NOT NULL,
    signed_at text NOT NULL,
    key_id text NOT NULL,
    signature text NOT NULL
);

-- store/double_reviews.py: a sample of confirmations reviewed a second time, blind.
CREATE TABLE double_reviews (
    fixation_id text PRIMARY KEY REFERENCES fixations(fixation_id),
    case_number text NOT NULL REFERENCES cases(case_number),
    first_officer text NOT NULL REFERENCES operators(username),
    first_plate text NOT NULL,
    sampled_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    second_officer text REFERENCES operators(username),
    verdict text CHECK (verdict IN ('confirmed', 'rejected')),
    second_plate text,
    reject_reason text,
    note text,
    agrees smallint CHECK (agrees IN (0, 1)),
    seconds_spent double precision,
    reviewed_at timestamptz,
    cancellation_request_id bigint REFERENCES cancellation_requests(request_id),
    CHECK (second_officer IS NULL OR second_officer <> first_officer),
    CHECK (status = 'pending' OR (second_officer IS NOT NULL AND verdict IS NOT NULL))
);
CREATE INDEX double_reviews_queue ON double_reviews(status, sampled_at);
CREATE INDEX double_reviews_first ON double_reviews(first_officer, status);
"""


# Version 3 (SQLite's MIGRATIONS[3]): a refusal from before the signature check keeps only the
# digest, the size and the first bytes of what came, and where it came from.
DEAD_LETTER_DIGESTS = """
ALTER TABLE dead_letters ADD COLUMN source text;
ALTER TABLE dead_letters ADD COLUMN payload_sha256 text;
ALTER TABLE dead_letters ADD COLUMN payload_size bigint;
ALTER TABLE dead_letters ADD COLUMN signed smallint NOT NULL DEFAULT 0
    CHECK (signed IN (0, 1));
"""


# Version 4 (SQLite's MIGRATIONS[4]): a plate's history read newest first, stopping at the limit.
# PostgreSQL only, for a database made by a version 2 or 3 of before the PostgreSQL store (main
# of 2026-12-07, tests/support/registry-postgres-v3.sql): its 0/1 flags were boolean, which the
# statements both stores share cannot compare with 1, and it had no casefold(). Both are made as
# today's version 2 makes them; a database that has them already is left as it is.
PLATE_HISTORY_INDEXES = """
DO $$
DECLARE
    flag record;
BEGIN
    FOR flag IN
        SELECT c.table_name, c.column_name, c.is_nullable, c.column_default
        FROM information_schema.columns AS c
        WHERE c.table_schema = 'public' AND c.data_type = 'boolean'
          AND (c.table_name, c.column_name) IN (('operators', 'active'),
              ('dead_letters', 'retryable'), ('dead_letters', 'signed'),
              ('double_reviews', 'agrees'))
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I DROP DEFAULT', flag.table_name,
            flag.column_name);
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE smallint USING %I::integer',
            flag.table_name, flag.column_name, flag.column_name);
        IF flag.column_default IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET DEFAULT %s', flag.table_name,
                flag.column_name, CASE WHEN flag.column_default = 'true' THEN 1 ELSE 0 END);
        END IF;
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%I IN (0, 1))',
            flag.table_name, flag.table_name || '_' || flag.column_name || '_check',
            flag.column_name);
    END LOOP;
END
$$;
CREATE OR REPLACE FUNCTION casefold(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN lower(normalize(value, NFC) COLLATE "und-x-icu");
DROP INDEX fixations_plate;
CREATE INDEX fixations_plate_time ON fixations(plate_text, captured_at, fixation_id);
DROP INDEX cases_plate;
CREATE INDEX cases_plate_time ON cases(plate, offence_at, fixation_id);
"""


# Version 5 (SQLite's MIGRATIONS[5]): what became of each notice after it left: the operator's
# message id of each SMS part (or the e-mail's Message-ID), matched by the delivery receipts.
NOTIFICATION_DELIVERY = """
ALTER TABLE notifications ADD COLUMN delivered_at timestamptz;
CREATE TABLE notification_messages (
    provider text NOT NULL CHECK (provider IN ('smpp', 'smtp')),
    provider_message_id text NOT NULL,
    notification_id bigint NOT NULL REFERENCES notifications(notification_id),
    part integer NOT NULL CHECK (part >= 1),
    status text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'delivered', 'undelivered')),
    receipt_at timestamptz,
    receipt text,
    PRIMARY KEY (provider, provider_message_id)
);
CREATE INDEX notification_messages_notice ON notification_messages(notification_id, part);
"""

# Version 6: the driver's case page (store/schema.py CASE_LINKS): its links' tokens as
# SHA-256, and the case's notices found by case number.
CASE_LINKS = """
CREATE TABLE case_links (
    token_hash text PRIMARY KEY,
    case_number text NOT NULL REFERENCES cases(case_number),
    purpose text NOT NULL CHECK (purpose IN ('notice', 'lookup')),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX case_links_case ON case_links(case_number);
CREATE INDEX case_links_expiry ON case_links(expires_at);
CREATE INDEX notifications_case ON notifications(case_number, notification_id);
"""
