"""The registry's SQLite schema. Rules that must hold whatever code writes to the file are
enforced here, by constraints and triggers, not only in Python:

- the ledger and the Merkle nodes are append-only;
- a case with a payment is never handed to bailiffs;
- a case goes to bailiffs only after its driver was told of the resolution
  (store/notice_schema.py);
- a cancellation is decided by someone other than who asked for it.
"""

from __future__ import annotations

from central_ingest.store.appeal_schema import (
    APPEALS_DDL,
    APPEALS_MIGRATION,
    CASE_CANCELLED_NEEDS_APPROVAL,
)
from central_ingest.store.inbound_payments_schema import INBOUND_DDL, INBOUND_MIGRATION
from central_ingest.store.notice_schema import NOTICE_DDL, NOTICE_MIGRATION
from central_ingest.store.roadside_schema import CASES_TABLE, MIGRATION_8, ROADSIDE_DDL

SCHEMA_VERSION = 10

# Forward steps from the version a database file records to the next: each a list of
# statements run in one transaction by ``Store.migrate``. A new database is created at
# ``SCHEMA_VERSION`` by ``DDL`` and runs none of them.
PLATE_HISTORY_INDEXES = (
    "DROP INDEX IF EXISTS fixations_plate",
    "CREATE INDEX IF NOT EXISTS fixations_plate_time"
    " ON fixations(plate_text, captured_at, fixation_id)",
    "DROP INDEX IF EXISTS cases_plate",
    "CREATE INDEX IF NOT EXISTS cases_plate_time ON cases(plate, offence_at, fixation_id)",
)

NOTIFICATION_MESSAGES = """CREATE TABLE IF NOT EXISTS notification_messages (
    provider TEXT NOT NULL CHECK (provider IN ('smpp', 'smtp')),
    provider_message_id TEXT NOT NULL,
    notification_id INTEGER NOT NULL REFERENCES notifications(notification_id),
    part INTEGER NOT NULL CHECK (part >= 1),
    status TEXT NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'delivered', 'undelivered')),
    receipt_at TEXT,
    receipt TEXT,
    PRIMARY KEY (provider, provider_message_id)
)"""
NOTIFICATION_MESSAGES_INDEX = (
    "CREATE INDEX IF NOT EXISTS notification_messages_notice"
    " ON notification_messages(notification_id, part)"
)

# The driver's case page (central_ingest/driver): each link a notice carries, or a case number
# and plate looked up, is a random token kept only as its SHA-256 (like the officers'
# sessions), with the case it opens and when it stops opening it. The page reads the case's
# notices by case number: indexed, as every query of the page is.
CASE_LINKS = """CREATE TABLE IF NOT EXISTS case_links (
    token_hash TEXT PRIMARY KEY,
    case_number TEXT NOT NULL REFERENCES cases(case_number),
    purpose TEXT NOT NULL CHECK (purpose IN ('notice', 'lookup')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
)"""
CASE_LINKS_INDEXES = (
    "CREATE INDEX IF NOT EXISTS case_links_case ON case_links(case_number)",
    "CREATE INDEX IF NOT EXISTS case_links_expiry ON case_links(expires_at)",
    "CREATE INDEX IF NOT EXISTS notifications_case ON notifications(case_number, notification_id)",
)

MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 1 -> 2: the language of the operator's screens, and of a vehicle owner's notices
    # (NULL: unknown, so notices go out in Kazakh and Russian).
    2: (
        "ALTER TABLE operators ADD COLUMN language TEXT CHECK (language IN ('kk', 'ru', 'en'))",
        "ALTER TABLE vehicles ADD COLUMN language TEXT CHECK (language IN ('kk', 'ru', 'en'))",
        "ALTER TABLE cases ADD COLUMN owner_language TEXT"
        " CHECK (owner_language IN ('kk', 'ru', 'en'))",
        # The language each notice went out in ('kk,ru': one e-mail holding both texts); the
        # notices queued before this version were all in English.
        "ALTER TABLE notifications ADD COLUMN language TEXT NOT NULL DEFAULT 'en'"
        " CHECK (language IN ('kk', 'ru', 'en', 'kk,ru'))",
    ),
    # 2 -> 3: a refusal from before the signature check keeps only the digest, the size and
    # the first bytes of what came (anyone may send it), with where it came from; a signed
    # refusal keeps the whole message. Rows written before this version count as unsigned.
    3: (
        "ALTER TABLE dead_letters ADD COLUMN source TEXT",
        "ALTER TABLE dead_letters ADD COLUMN payload_sha256 TEXT",
        "ALTER TABLE dead_letters ADD COLUMN payload_size INTEGER",
        "ALTER TABLE dead_letters ADD COLUMN signed INTEGER NOT NULL DEFAULT 0",
    ),
    # 3 -> 4: a plate's history (the review page, the roadside check) reads its newest
    # fixations and cases first: ordered by time within the plate, it stops at the limit
    # instead of sorting every fixation a busy plate ever had.
    4: PLATE_HISTORY_INDEXES,
    # 4 -> 5: what became of each notice after it left: the operator's message id of each SMS
    # part (or the e-mail's Message-ID), matched by the delivery receipts, and when the notice
    # was delivered. A receipt saying a part could not be delivered fails the notice.
    5: (
        "ALTER TABLE notifications ADD COLUMN delivered_at TEXT",
        NOTIFICATION_MESSAGES,
        NOTIFICATION_MESSAGES_INDEX,
    ),
    # 5 -> 6: the driver's case page: its links, and the case's notices found by case number.
    6: (CASE_LINKS, *CASE_LINKS_INDEXES),
    # 6 -> 7: appeals and their attachments; an open appeal suspends the resolution (no
    # hand-over, no entry into force), and an appeal decided "cancelled" cancels the case
    # (store/appeal_schema.py).
    7: APPEALS_MIGRATION,
    # 7 -> 8: roadside protocols (store/roadside_schema.py): the officers' IIN and unit, the
    # terminals' blocks of protocol numbers, the protocols, and cases opened from them (a
    # source, no fixation, the status 'warned'), which rebuilds the cases table.
    8: MIGRATION_8,
    # 8 -> 9: payments made in banks and through eGov: each once by the institution's
    # reference, with its reconciliation; the statement files imported; the notifications'
    # nonces. A case such a payment names never goes to bailiffs
    # (store/inbound_payments_schema.py).
    9: INBOUND_MIGRATION,
    # 9 -> 10: each notice's kind and its round of attempts to tell the driver of the
    # resolution; a case reaches the bailiffs only after that (store/notice_schema.py).
    10: NOTICE_MIGRATION,
}

DDL = (
    """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('camera', 'terminal', 'bank')),
    public_key TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    description TEXT NOT NULL DEFAULT '',
    registered_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_reason TEXT
);

CREATE TABLE IF NOT EXISTS operators (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reviewer', 'supervisor', 'prosecutor', 'bailiff', 'admin')),
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    language TEXT CHECK (language IN ('kk', 'ru', 'en')),
    iin TEXT,
    unit TEXT
);

CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES operators(username),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- Failed sign-ins in the recent window, to pause password guessing per user name.
CREATE TABLE IF NOT EXISTS login_failures (
    username TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_user ON login_failures(username, failed_at);

CREATE TABLE IF NOT EXISTS evidence (
    sha256 TEXT PRIMARY KEY,
    size_bytes INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    uploaded_by TEXT NOT NULL,
    stored_at TEXT NOT NULL
);

-- Every accepted signed envelope, verbatim, for non-repudiation.
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(device_id),
    kind TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('mqtt', 'http')),
    received_at TEXT NOT NULL,
    envelope_sha256 TEXT NOT NULL,
    envelope TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS fixations (
    fixation_id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE REFERENCES messages(message_id),
    device_id TEXT NOT NULL REFERENCES devices(device_id),
    sequence INTEGER NOT NULL,
    captured_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    violation TEXT NOT NULL,
    plate_text TEXT NOT NULL,
    plate_confidence REAL NOT NULL,
    plate_format TEXT NOT NULL,
    speed_kmh REAL,
    limit_kmh INTEGER,
    light_phase TEXT,
    zone TEXT NOT NULL,
    lat REAL,
    lon REAL,
    status TEXT NOT NULL DEFAULT 'awaiting_review'
        CHECK (status IN ('awaiting_review', 'confirmed', 'rejected')),
    decided_at TEXT,
    decided_by TEXT REFERENCES operators(username),
    reject_reason TEXT,
    decision_note TEXT,
    seconds_spent REAL,
    corrected_plate TEXT,
    correction_reason TEXT,
    CHECK (status = 'awaiting_review' OR (decided_by IS NOT NULL AND decided_at IS NOT NULL)),
    CHECK (status != 'rejected' OR reject_reason IS NOT NULL)
);
-- The review queue: oldest first, the id breaking ties so the order is total.
CREATE INDEX IF NOT EXISTS fixations_review_queue ON fixations(status, received_at, fixation_id);
CREATE INDEX IF NOT EXISTS fixations_plate_time ON fixations(plate_text, captured_at, fixation_id);
CREATE INDEX IF NOT EXISTS fixations_device_seq ON fixations(device_id, sequence);

CREATE TABLE IF NOT EXISTS fixation_evidence (
    fixation_id TEXT NOT NULL REFERENCES fixations(fixation_id),
    sha256 TEXT NOT NULL REFERENCES evidence(sha256),
    role TEXT NOT NULL,
    PRIMARY KEY (fixation_id, sha256)
);

CREATE TABLE IF NOT EXISTS device_status (
    device_id TEXT PRIMARY KEY REFERENCES devices(device_id),
    message_id TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body TEXT NOT NULL
);

-- The vehicle register adapter's embedded default: a local table seeded for the demo.
CREATE TABLE IF NOT EXISTS vehicles (
    plate TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('person', 'organisation')),
    owner_name TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    make TEXT,
    model TEXT,
    colour TEXT,
    language TEXT CHECK (language IN ('kk', 'ru', 'en'))
);

CREATE TABLE IF NOT EXISTS case_numbers (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

"""
    + f"{CASES_TABLE};\n"
    + """CREATE INDEX IF NOT EXISTS cases_status ON cases(status, voluntary_deadline);
CREATE INDEX IF NOT EXISTS cases_plate_time ON cases(plate, offence_at, fixation_id);
CREATE INDEX IF NOT EXISTS cases_owner ON cases(owner_id);

CREATE TABLE IF NOT EXISTS payments (
    payment_id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE REFERENCES messages(message_id),
    device_id TEXT NOT NULL REFERENCES devices(device_id),
    case_number TEXT NOT NULL,
    matched_case TEXT REFERENCES cases(case_number),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL CHECK (currency = 'KZT'),
    paid_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    channel TEXT NOT NULL,
    masked_pan TEXT,
    scheme TEXT,
    aid TEXT,
    approval_code TEXT,
    rrn TEXT,
    stan TEXT,
    due_minor INTEGER,
    match_status TEXT NOT NULL
        CHECK (match_status IN ('settled', 'underpaid', 'overpaid', 'unknown_case',
                                'case_closed', 'after_handover'))
);
CREATE INDEX IF NOT EXISTS payments_case ON payments(matched_case);

CREATE TABLE IF NOT EXISTS cancellation_requests (
    request_id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_number TEXT NOT NULL REFERENCES cases(case_number),
    requested_by TEXT NOT NULL REFERENCES operators(username),
    requested_at TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
    decided_by TEXT REFERENCES operators(username),
    decided_at TEXT,
    decision_note TEXT,
    CHECK (decided_by IS NULL OR decided_by != requested_by),
    CHECK (status = 'pending' OR decided_by IS NOT NULL)
);

CREATE TABLE IF NOT EXISTS bailiff_handovers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    case_number TEXT NOT NULL REFERENCES cases(case_number),
    kind TEXT NOT NULL CHECK (kind IN ('handover', 'recall')),
    amount_minor INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    document TEXT NOT NULL,
    UNIQUE (case_number, kind)
);

CREATE TABLE IF NOT EXISTS notifications (
    notification_id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_number TEXT NOT NULL REFERENCES cases(case_number),
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    sent_at TEXT,
    last_error TEXT,
    language TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('kk', 'ru', 'en', 'kk,ru')),
    delivered_at TEXT,
    kind TEXT NOT NULL DEFAULT 'case_opened' CHECK (kind IN (
        'case_opened', 'discount_ending', 'payment_received', 'entered_into_force',
        'appeal_received', 'appeal_decided', 'handed_to_bailiffs')),
    attempt_round INTEGER NOT NULL DEFAULT 1 CHECK (attempt_round >= 1)
);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications(status, next_attempt_at);

CREATE TABLE IF NOT EXISTS dead_letters (
    dead_letter_id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    channel TEXT NOT NULL,
    topic TEXT,
    device_id TEXT,
    message_id TEXT,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    retryable INTEGER NOT NULL DEFAULT 0,
    payload BLOB NOT NULL,
    source TEXT,
    payload_sha256 TEXT,
    payload_size INTEGER,
    signed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS dead_letters_reason ON dead_letters(reason);

-- The audit ledger: one row per change of state, hash-chained; leaf_hash feeds the Merkle tree.
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL UNIQUE,
    leaf_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_entity ON ledger(entity_type, entity_id);

-- Hashes of the perfect subtrees of the Merkle tree over ledger leaves (level 0 = leaves), so
-- roots and proofs cost O(log n) look-ups instead of rehashing the whole ledger.
CREATE TABLE IF NOT EXISTS merkle_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS tree_heads (
    tree_size INTEGER PRIMARY KEY,
    root_hash TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);

CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS merkle_no_update BEFORE UPDATE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only'); END;
CREATE TRIGGER IF NOT EXISTS merkle_no_delete BEFORE DELETE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only'); END;
CREATE TRIGGER IF NOT EXISTS tree_heads_no_update BEFORE UPDATE ON tree_heads
BEGIN SELECT RAISE(ABORT, 'signed tree heads are append-only'); END;
CREATE TRIGGER IF NOT EXISTS tree_heads_no_delete BEFORE DELETE ON tree_heads
BEGIN SELECT RAISE(ABORT, 'signed tree heads are append-only'); END;
CREATE TRIGGER IF NOT EXISTS messages_no_update BEFORE UPDATE ON messages
BEGIN SELECT RAISE(ABORT, 'received messages are kept verbatim'); END;

-- Paid is never sent to bailiffs, whatever code path tries.
CREATE TRIGGER IF NOT EXISTS handover_never_paid BEFORE INSERT ON bailiff_handovers
WHEN NEW.kind = 'handover'
 AND EXISTS (SELECT 1 FROM payments WHERE matched_case = NEW.case_number)
BEGIN SELECT RAISE(ABORT, 'case has a payment: it is never handed to bailiffs'); END;
CREATE TRIGGER IF NOT EXISTS case_bailiffs_never_paid BEFORE UPDATE OF status ON cases
WHEN NEW.status = 'sent_to_bailiffs'
 AND (OLD.status != 'open'
      OR EXISTS (SELECT 1 FROM payments WHERE matched_case = NEW.case_number))
BEGIN SELECT RAISE(ABORT, 'case has a payment or is not open: it is never handed to bailiffs'); END;

-- ---------------------------------------------------------------------------------------------
-- Case lifecycle guards (registry and case lifecycle). They repeat the state machine's rules
-- in the database, so that a script or a hand-typed UPDATE cannot break them either.
-- ---------------------------------------------------------------------------------------------

-- Nothing becomes a case without an officer's decision, and a decision is final.
-- A roadside case has no fixation: its officer's protocol of the same number stands for it.
CREATE TRIGGER IF NOT EXISTS case_needs_confirmed_fixation BEFORE INSERT ON cases
WHEN (NEW.fixation_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM fixations
                      WHERE fixation_id = NEW.fixation_id AND status = 'confirmed'))
  OR (NEW.fixation_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM roadside_protocols WHERE case_number = NEW.case_number))
BEGIN SELECT RAISE(ABORT,
    'a case is opened only from a fixation an officer confirmed or a protocol he signed'); END;
CREATE TRIGGER IF NOT EXISTS fixation_decided_once BEFORE UPDATE ON fixations
WHEN OLD.status != 'awaiting_review'
BEGIN SELECT RAISE(ABORT, 'a fixation is decided once: the decision is final'); END;

-- A case reaches the bailiffs only from open (case_bailiffs_never_paid), never by being
-- inserted that way, and never with money recorded on it.
CREATE TRIGGER IF NOT EXISTS case_born_before_bailiffs BEFORE INSERT ON cases
WHEN NEW.status = 'sent_to_bailiffs'
BEGIN SELECT RAISE(ABORT, 'a case reaches the bailiffs only from open, never on insert'); END;
CREATE TRIGGER IF NOT EXISTS case_bailiffs_never_paid_minor BEFORE UPDATE ON cases
WHEN NEW.status = 'sent_to_bailiffs' AND (NEW.paid_minor != 0 OR OLD.paid_minor != 0)
BEGIN SELECT RAISE(ABORT, 'case has a payment: it is never handed to bailiffs'); END;
CREATE TRIGGER IF NOT EXISTS handover_needs_unpaid_case_sent BEFORE INSERT ON bailiff_handovers
WHEN NEW.kind = 'handover'
 AND NOT EXISTS (SELECT 1 FROM cases WHERE case_number = NEW.case_number
                 AND status = 'sent_to_bailiffs' AND paid_minor = 0)
BEGIN SELECT RAISE(ABORT, 'only an unpaid case moved to sent_to_bailiffs is handed over'); END;
CREATE TRIGGER IF NOT EXISTS recall_needs_handover BEFORE INSERT ON bailiff_handovers
WHEN NEW.kind = 'recall'
 AND NOT EXISTS (SELECT 1 FROM bailiff_handovers
                 WHERE case_number = NEW.case_number AND kind = 'handover')
BEGIN SELECT RAISE(ABORT, 'only a case handed to bailiffs can be recalled'); END;
-- What the bailiffs were sent is what they were sent.
CREATE TRIGGER IF NOT EXISTS bailiff_handovers_no_update BEFORE UPDATE ON bailiff_handovers
BEGIN SELECT RAISE(ABORT, 'bailiff hand-overs and recalls are append-only'); END;
CREATE TRIGGER IF NOT EXISTS bailiff_handovers_no_delete BEFORE DELETE ON bailiff_handovers
BEGIN SELECT RAISE(ABORT, 'bailiff hand-overs and recalls are append-only'); END;

-- Money is never dropped: a payment row stays, its facts stay, and once matched to a case it
-- stays matched (deleting it would otherwise reopen the way to the bailiffs).
CREATE TRIGGER IF NOT EXISTS payments_no_delete BEFORE DELETE ON payments
BEGIN SELECT RAISE(ABORT, 'payments are never deleted'); END;
CREATE TRIGGER IF NOT EXISTS payments_facts_fixed
BEFORE UPDATE OF payment_id, message_id, device_id, case_number, amount_minor, currency, paid_at,
                 received_at, channel ON payments
BEGIN SELECT RAISE(ABORT, 'a recorded payment is never altered'); END;
CREATE TRIGGER IF NOT EXISTS payments_match_kept BEFORE UPDATE OF matched_case ON payments
WHEN OLD.matched_case IS NOT NULL AND NEW.matched_case IS NOT OLD.matched_case
BEGIN SELECT RAISE(ABORT, 'a payment matched to a case stays matched to it'); END;

-- Paid, cancelled and expired are final; a cancellation needs a second officer's approval.
CREATE TRIGGER IF NOT EXISTS case_closed_stays_closed BEFORE UPDATE OF status ON cases
WHEN OLD.status IN ('paid', 'cancelled', 'expired', 'warned') AND NEW.status != OLD.status
BEGIN SELECT RAISE(ABORT, 'a paid, cancelled, expired or warned case is closed for good'); END;
-- case_cancelled_needs_approval: with the appeals, at the end (store/appeal_schema.py).
CREATE UNIQUE INDEX IF NOT EXISTS cancellation_one_pending
    ON cancellation_requests(case_number) WHERE status = 'pending';
CREATE TRIGGER IF NOT EXISTS cancellation_decided_once BEFORE UPDATE ON cancellation_requests
WHEN OLD.status != 'pending'
BEGIN SELECT RAISE(ABORT, 'a cancellation request is decided once'); END;
CREATE INDEX IF NOT EXISTS bailiff_handovers_case ON bailiff_handovers(case_number);
CREATE INDEX IF NOT EXISTS cases_limitation ON cases(status, limitation_at);
"""
)
DDL += f"{NOTIFICATION_MESSAGES};\n{NOTIFICATION_MESSAGES_INDEX};\n"
DDL += f"{CASE_LINKS};\n" + "".join(f"{index};\n" for index in CASE_LINKS_INDEXES)
DDL += APPEALS_DDL + f"{CASE_CANCELLED_NEEDS_APPROVAL};\n"
DDL += ROADSIDE_DDL
DDL += INBOUND_DDL
DDL += NOTICE_DDL
