-- A registry database at schema version 3 as the main branch of 2026-12-07 (6ef4d66) made it,
-- before the PostgreSQL store existed: 0/1 flags as boolean, no casefold(). Generated from that
-- commit's central_ingest/store/postgres/{tables,rules,roles}.py; run as the superuser on a
-- database made by deploy/postgresql/database.sql. tests/integration/test_postgres_migrations.py
-- brings it forward with today's migrations.
BEGIN;
SET LOCAL ROLE erap_owner;

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
    active boolean NOT NULL DEFAULT true,
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
    retryable boolean NOT NULL DEFAULT false,
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
    agrees boolean,
    seconds_spent double precision,
    reviewed_at timestamptz,
    cancellation_request_id bigint REFERENCES cancellation_requests(request_id),
    CHECK (second_officer IS NULL OR second_officer <> first_officer),
    CHECK (status = 'pending' OR (second_officer IS NOT NULL AND verdict IS NOT NULL))
);
CREATE INDEX double_reviews_queue ON double_reviews(status, sampled_at);
CREATE INDEX double_reviews_first ON double_reviews(first_officer, status);


-- The sentence is the trigger's first argument; 23000 makes it an integrity violation.
CREATE FUNCTION erap_refuse() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_ARGV[0], ERRCODE = '23000';
END
$$;

-- Locks the case a payment is matched to, so that a hand-over of that case in another
-- transaction waits for this one and then sees the payment.
CREATE FUNCTION erap_payment_locks_case() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM 1 FROM cases WHERE case_number = NEW.matched_case FOR UPDATE;
    RETURN NEW;
END
$$;

CREATE FUNCTION erap_handover_never_paid() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM 1 FROM cases WHERE case_number = NEW.case_number FOR UPDATE;
    IF EXISTS (SELECT 1 FROM payments WHERE matched_case = NEW.case_number) THEN
        RAISE EXCEPTION USING ERRCODE = '23000',
            MESSAGE = 'case has a payment: it is never handed to bailiffs';
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION erap_handover_needs_unpaid_case_sent() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM 1 FROM cases WHERE case_number = NEW.case_number FOR UPDATE;
    IF NOT EXISTS (SELECT 1 FROM cases WHERE case_number = NEW.case_number
                   AND status = 'sent_to_bailiffs' AND paid_minor = 0) THEN
        RAISE EXCEPTION USING ERRCODE = '23000',
            MESSAGE = 'only an unpaid case moved to sent_to_bailiffs is handed over';
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION erap_recall_needs_handover() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bailiff_handovers
                   WHERE case_number = NEW.case_number AND kind = 'handover') THEN
        RAISE EXCEPTION USING ERRCODE = '23000',
            MESSAGE = 'only a case handed to bailiffs can be recalled';
    END IF;
    RETURN NEW;
END
$$;

-- The UPDATE holds the case's row lock: a payment matched to it meanwhile has committed.
CREATE FUNCTION erap_case_bailiffs_never_paid() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF OLD.status <> 'open'
       OR EXISTS (SELECT 1 FROM payments WHERE matched_case = NEW.case_number) THEN
        RAISE EXCEPTION USING ERRCODE = '23000',
            MESSAGE = 'case has a payment or is not open: it is never handed to bailiffs';
    END IF;
    RETURN NEW;
END
$$;

-- A confirmed fixation stays confirmed (fixation_decided_once): no lock needed.
CREATE FUNCTION erap_case_needs_confirmed_fixation() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM fixations
                   WHERE fixation_id = NEW.fixation_id AND status = 'confirmed') THEN
        RAISE EXCEPTION USING ERRCODE = '23000',
            MESSAGE = 'a case is opened only from a fixation an officer confirmed';
    END IF;
    RETURN NEW;
END
$$;

-- An approved request stays approved (cancellation_decided_once): no lock needed.
CREATE FUNCTION erap_case_cancelled_needs_approval() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM cancellation_requests
                   WHERE case_number = NEW.case_number AND status = 'approved') THEN
        RAISE EXCEPTION USING ERRCODE = '23000',
            MESSAGE = 'a case is cancelled only on an approved cancellation request';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger FOR EACH ROW EXECUTE FUNCTION erap_refuse('the audit ledger is append-only');
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger FOR EACH ROW EXECUTE FUNCTION erap_refuse('the audit ledger is append-only');
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger FOR EACH STATEMENT EXECUTE FUNCTION erap_refuse('the audit ledger is append-only');
CREATE TRIGGER merkle_no_update BEFORE UPDATE ON merkle_nodes FOR EACH ROW EXECUTE FUNCTION erap_refuse('the Merkle tree is append-only');
CREATE TRIGGER merkle_no_delete BEFORE DELETE ON merkle_nodes FOR EACH ROW EXECUTE FUNCTION erap_refuse('the Merkle tree is append-only');
CREATE TRIGGER merkle_no_truncate BEFORE TRUNCATE ON merkle_nodes FOR EACH STATEMENT EXECUTE FUNCTION erap_refuse('the Merkle tree is append-only');
CREATE TRIGGER tree_heads_no_update BEFORE UPDATE ON tree_heads FOR EACH ROW EXECUTE FUNCTION erap_refuse('signed tree heads are append-only');
CREATE TRIGGER tree_heads_no_delete BEFORE DELETE ON tree_heads FOR EACH ROW EXECUTE FUNCTION erap_refuse('signed tree heads are append-only');
CREATE TRIGGER tree_heads_no_truncate BEFORE TRUNCATE ON tree_heads FOR EACH STATEMENT EXECUTE FUNCTION erap_refuse('signed tree heads are append-only');
CREATE TRIGGER messages_no_update BEFORE UPDATE ON messages FOR EACH ROW EXECUTE FUNCTION erap_refuse('received messages are kept verbatim');
CREATE TRIGGER handover_never_paid BEFORE INSERT ON bailiff_handovers FOR EACH ROW WHEN (NEW.kind = 'handover') EXECUTE FUNCTION erap_handover_never_paid();
CREATE TRIGGER case_bailiffs_never_paid BEFORE UPDATE OF status ON cases FOR EACH ROW WHEN (NEW.status = 'sent_to_bailiffs') EXECUTE FUNCTION erap_case_bailiffs_never_paid();
CREATE TRIGGER case_needs_confirmed_fixation BEFORE INSERT ON cases FOR EACH ROW EXECUTE FUNCTION erap_case_needs_confirmed_fixation();
CREATE TRIGGER fixation_decided_once BEFORE UPDATE ON fixations FOR EACH ROW WHEN (OLD.status <> 'awaiting_review') EXECUTE FUNCTION erap_refuse('a fixation is decided once: the decision is final');
CREATE TRIGGER case_born_before_bailiffs BEFORE INSERT ON cases FOR EACH ROW WHEN (NEW.status = 'sent_to_bailiffs') EXECUTE FUNCTION erap_refuse('a case reaches the bailiffs only from open, never on insert');
CREATE TRIGGER case_bailiffs_never_paid_minor BEFORE UPDATE ON cases FOR EACH ROW WHEN (NEW.status = 'sent_to_bailiffs' AND (NEW.paid_minor <> 0 OR OLD.paid_minor <> 0)) EXECUTE FUNCTION erap_refuse('case has a payment: it is never handed to bailiffs');
CREATE TRIGGER handover_needs_unpaid_case_sent BEFORE INSERT ON bailiff_handovers FOR EACH ROW WHEN (NEW.kind = 'handover') EXECUTE FUNCTION erap_handover_needs_unpaid_case_sent();
CREATE TRIGGER recall_needs_handover BEFORE INSERT ON bailiff_handovers FOR EACH ROW WHEN (NEW.kind = 'recall') EXECUTE FUNCTION erap_recall_needs_handover();
CREATE TRIGGER bailiff_handovers_no_update BEFORE UPDATE ON bailiff_handovers FOR EACH ROW EXECUTE FUNCTION erap_refuse('bailiff hand-overs and recalls are append-only');
CREATE TRIGGER bailiff_handovers_no_delete BEFORE DELETE ON bailiff_handovers FOR EACH ROW EXECUTE FUNCTION erap_refuse('bailiff hand-overs and recalls are append-only');
CREATE TRIGGER bailiff_handovers_no_truncate BEFORE TRUNCATE ON bailiff_handovers FOR EACH STATEMENT EXECUTE FUNCTION erap_refuse('bailiff hand-overs and recalls are append-only');
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments FOR EACH ROW EXECUTE FUNCTION erap_refuse('payments are never deleted');
CREATE TRIGGER payments_no_truncate BEFORE TRUNCATE ON payments FOR EACH STATEMENT EXECUTE FUNCTION erap_refuse('payments are never deleted');
CREATE TRIGGER payments_facts_fixed BEFORE UPDATE OF payment_id, message_id, device_id, case_number, amount_minor, currency, paid_at, received_at, channel ON payments FOR EACH ROW EXECUTE FUNCTION erap_refuse('a recorded payment is never altered');
CREATE TRIGGER payments_match_kept BEFORE UPDATE OF matched_case ON payments FOR EACH ROW WHEN (OLD.matched_case IS NOT NULL AND NEW.matched_case IS DISTINCT FROM OLD.matched_case) EXECUTE FUNCTION erap_refuse('a payment matched to a case stays matched to it');
CREATE TRIGGER payments_lock_case BEFORE INSERT OR UPDATE OF matched_case ON payments FOR EACH ROW WHEN (NEW.matched_case IS NOT NULL) EXECUTE FUNCTION erap_payment_locks_case();
CREATE TRIGGER case_closed_stays_closed BEFORE UPDATE OF status ON cases FOR EACH ROW WHEN (OLD.status IN ('paid', 'cancelled', 'expired') AND NEW.status <> OLD.status) EXECUTE FUNCTION erap_refuse('a paid, cancelled or expired case is closed for good');
CREATE TRIGGER case_cancelled_needs_approval BEFORE UPDATE OF status ON cases FOR EACH ROW WHEN (NEW.status = 'cancelled' AND OLD.status <> 'cancelled') EXECUTE FUNCTION erap_case_cancelled_needs_approval();
CREATE TRIGGER cancellation_decided_once BEFORE UPDATE ON cancellation_requests FOR EACH ROW WHEN (OLD.status <> 'pending') EXECUTE FUNCTION erap_refuse('a cancellation request is decided once');
CREATE TRIGGER double_review_decided_once BEFORE UPDATE ON double_reviews FOR EACH ROW WHEN (OLD.status <> 'pending') EXECUTE FUNCTION erap_refuse('a double review is decided once');

ALTER TABLE dead_letters ADD COLUMN source text;
ALTER TABLE dead_letters ADD COLUMN payload_sha256 text;
ALTER TABLE dead_letters ADD COLUMN payload_size bigint;
ALTER TABLE dead_letters ADD COLUMN signed boolean NOT NULL DEFAULT false;

REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO erap_app, erap_reader;
REVOKE ALL ON meta, devices, operators, sessions, login_failures, evidence, messages, fixations, fixation_evidence, device_status, vehicles, case_numbers, cases, payments, cancellation_requests, bailiff_handovers, notifications, dead_letters, ledger, merkle_nodes, tree_heads, double_reviews FROM PUBLIC, erap_app, erap_reader;
GRANT SELECT ON meta TO erap_app;
GRANT SELECT ON meta TO erap_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON devices TO erap_app;
GRANT SELECT ON devices TO erap_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON operators TO erap_app;
GRANT SELECT (username, display_name, role, active, created_at, language) ON operators TO erap_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions TO erap_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON login_failures TO erap_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON evidence TO erap_app;
GRANT SELECT ON evidence TO erap_reader;
GRANT SELECT, INSERT ON messages TO erap_app;
GRANT SELECT ON messages TO erap_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON fixations TO erap_app;
GRANT SELECT ON fixations TO erap_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON fixation_evidence TO erap_app;
GRANT SELECT ON fixation_evidence TO erap_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON device_status TO erap_app;
GRANT SELECT ON device_status TO erap_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON vehicles TO erap_app;
GRANT SELECT ON vehicles TO erap_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON case_numbers TO erap_app;
GRANT SELECT ON case_numbers TO erap_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON cases TO erap_app;
GRANT SELECT ON cases TO erap_reader;
GRANT SELECT, INSERT ON payments TO erap_app;
GRANT SELECT ON payments TO erap_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON cancellation_requests TO erap_app;
GRANT SELECT ON cancellation_requests TO erap_reader;
GRANT SELECT, INSERT ON bailiff_handovers TO erap_app;
GRANT SELECT ON bailiff_handovers TO erap_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON notifications TO erap_app;
GRANT SELECT ON notifications TO erap_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON dead_letters TO erap_app;
GRANT SELECT ON dead_letters TO erap_reader;
GRANT SELECT, INSERT ON ledger TO erap_app;
GRANT SELECT ON ledger TO erap_reader;
GRANT SELECT, INSERT ON merkle_nodes TO erap_app;
GRANT SELECT ON merkle_nodes TO erap_reader;
GRANT SELECT, INSERT ON tree_heads TO erap_app;
GRANT SELECT ON tree_heads TO erap_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON double_reviews TO erap_app;
GRANT SELECT ON double_reviews TO erap_reader;
INSERT INTO meta (key, value) VALUES ('schema_version', '3');
COMMIT;
