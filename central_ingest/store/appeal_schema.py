"""Appeals in the SQLite schema (store/schema.py takes these into its DDL and MIGRATIONS; the
PostgreSQL twin is store/postgres/appeal_rules.py).

An open appeal suspends the resolution, and the database says so whatever code writes: a case
under appeal is not moved to ``sent_to_bailiffs`` nor handed over, and its entry into force
(with the voluntary deadline and the limitation counted from it) does not move while the
appeal is open. A decision is final; the appeal and its attachments are never deleted.
A case is cancelled on an approved cancellation request or on an appeal decided so.
"""

from __future__ import annotations

APPEALS = """CREATE TABLE IF NOT EXISTS appeals (
    appeal_id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_number TEXT NOT NULL UNIQUE REFERENCES cases(case_number),
    filed_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('driver_page', 'office')),
    text TEXT NOT NULL CHECK (length(trim(text)) > 0),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'decided')),
    decided_at TEXT,
    decided_by TEXT REFERENCES operators(username),
    decided_as TEXT CHECK (decided_as IN ('supervisor', 'court')),
    court_reference TEXT,
    decision TEXT CHECK (decision IN ('upheld', 'cancelled', 'amended')),
    decision_note TEXT,
    amended_article TEXT,
    amended_part TEXT,
    amended_fine_minor INTEGER,
    CHECK (filed_at <= due_at),
    CHECK (status = 'open' OR (decision IS NOT NULL AND decided_by IS NOT NULL
                               AND decided_at IS NOT NULL AND decided_as IS NOT NULL)),
    CHECK (status = 'decided' OR decision IS NULL),
    CHECK (decided_as IS NOT 'court' OR court_reference IS NOT NULL),
    CHECK (decision IS 'amended' OR amended_article IS NULL),
    CHECK (decision IS NOT 'amended' OR (amended_article IS NOT NULL
                                        AND amended_part IS NOT NULL AND amended_fine_minor > 0))
)"""

APPEAL_ATTACHMENTS = """CREATE TABLE IF NOT EXISTS appeal_attachments (
    appeal_id INTEGER NOT NULL REFERENCES appeals(appeal_id),
    position INTEGER NOT NULL CHECK (position BETWEEN 1 AND 5),
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL
        CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    size_bytes INTEGER NOT NULL CHECK (size_bytes > 0),
    stored_at TEXT NOT NULL,
    PRIMARY KEY (appeal_id, position)
)"""

APPEALS_OPEN_INDEX = "CREATE INDEX IF NOT EXISTS appeals_status ON appeals(status, filed_at)"

_OPEN_APPEAL = (
    "EXISTS (SELECT 1 FROM appeals WHERE case_number = NEW.case_number AND status = 'open')"
)
UNDER_APPEAL_HANDOVER = "an appeal is open: the case is not handed to bailiffs until it is decided"
UNDER_APPEAL_FORCE = (
    "an appeal is open: the resolution does not enter into force until it is decided"
)

APPEAL_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS handover_never_under_appeal BEFORE INSERT ON bailiff_handovers"
    f" WHEN NEW.kind = 'handover' AND {_OPEN_APPEAL}"
    f" BEGIN SELECT RAISE(ABORT, '{UNDER_APPEAL_HANDOVER}'); END",
    "CREATE TRIGGER IF NOT EXISTS case_bailiffs_never_under_appeal BEFORE UPDATE OF status ON cases"
    f" WHEN NEW.status = 'sent_to_bailiffs' AND {_OPEN_APPEAL}"
    f" BEGIN SELECT RAISE(ABORT, '{UNDER_APPEAL_HANDOVER}'); END",
    "CREATE TRIGGER IF NOT EXISTS case_force_suspended_by_appeal"
    " BEFORE UPDATE OF entry_into_force, voluntary_deadline, limitation_at ON cases"
    " WHEN (NEW.entry_into_force IS NOT OLD.entry_into_force"
    " OR NEW.voluntary_deadline IS NOT OLD.voluntary_deadline"
    f" OR NEW.limitation_at IS NOT OLD.limitation_at) AND {_OPEN_APPEAL}"
    f" BEGIN SELECT RAISE(ABORT, '{UNDER_APPEAL_FORCE}'); END",
    "CREATE TRIGGER IF NOT EXISTS appeal_decided_once BEFORE UPDATE ON appeals"
    " WHEN OLD.status != 'open'"
    " BEGIN SELECT RAISE(ABORT, 'an appeal is decided once: the decision is final'); END",
    "CREATE TRIGGER IF NOT EXISTS appeals_no_delete BEFORE DELETE ON appeals"
    " BEGIN SELECT RAISE(ABORT, 'an appeal is never deleted'); END",
    "CREATE TRIGGER IF NOT EXISTS appeal_attachments_no_update BEFORE UPDATE ON appeal_attachments"
    " BEGIN SELECT RAISE(ABORT, 'an appeal''s attachments are kept as filed'); END",
    "CREATE TRIGGER IF NOT EXISTS appeal_attachments_no_delete BEFORE DELETE ON appeal_attachments"
    " BEGIN SELECT RAISE(ABORT, 'an appeal''s attachments are kept as filed'); END",
)

# The cancellation rule, widened: an appeal decided "cancelled" cancels the case too. The DDL
# holds this text; the migration drops the narrower trigger of earlier versions first.
CASE_CANCELLED_NEEDS_APPROVAL = """CREATE TRIGGER IF NOT EXISTS case_cancelled_needs_approval
BEFORE UPDATE OF status ON cases
WHEN NEW.status = 'cancelled' AND OLD.status != 'cancelled'
 AND NOT EXISTS (SELECT 1 FROM cancellation_requests
                 WHERE case_number = NEW.case_number AND status = 'approved')
 AND NOT EXISTS (SELECT 1 FROM appeals WHERE case_number = NEW.case_number
                 AND status = 'decided' AND decision = 'cancelled')
BEGIN SELECT RAISE(ABORT,
    'a case is cancelled only on an approved cancellation request or an appeal decided so');
END"""

# The step from the previous version, and the same objects for a new database's DDL.
APPEALS_MIGRATION = (
    APPEALS,
    APPEAL_ATTACHMENTS,
    APPEALS_OPEN_INDEX,
    *APPEAL_TRIGGERS,
    "DROP TRIGGER IF EXISTS case_cancelled_needs_approval",
    CASE_CANCELLED_NEEDS_APPROVAL,
)
APPEALS_DDL = "".join(f"{statement};\n" for statement in APPEALS_MIGRATION[:-2])

# The triggers above, for store/postgres/rules.py's list of SQLite triggers it repeats.
APPEAL_TRIGGER_NAMES = (
    "handover_never_under_appeal",
    "case_bailiffs_never_under_appeal",
    "case_force_suspended_by_appeal",
    "appeal_decided_once",
    "appeals_no_delete",
    "appeal_attachments_no_update",
    "appeal_attachments_no_delete",
)
