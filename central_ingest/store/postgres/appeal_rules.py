"""Appeals in the PostgreSQL schema: the tables and rules of store/appeal_schema.py (SQLite),
as one migration step. Trigger names and sentences are SQLite's, word for word; refusals are
SQLSTATE 23000 as in rules.py.

Concurrency: filing an appeal first updates its case's row (store/appeals.py), so a hand-over
of that case in another transaction waits for the row lock and its trigger then sees the
appeal; a hand-over that came first has moved the case out of ``open`` and the filing is
refused by the rules.
"""

from __future__ import annotations

from central_ingest.store.appeal_schema import UNDER_APPEAL_FORCE, UNDER_APPEAL_HANDOVER

_SETTINGS = "LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp"

APPEALS = f"""
CREATE TABLE appeals (
    appeal_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_number text NOT NULL UNIQUE REFERENCES cases(case_number),
    filed_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    channel text NOT NULL CHECK (channel IN ('driver_page', 'office')),
    text text NOT NULL CHECK (length(trim(text)) > 0),
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'decided')),
    decided_at timestamptz,
    decided_by text REFERENCES operators(username),
    decided_as text CHECK (decided_as IN ('supervisor', 'court')),
    court_reference text,
    decision text CHECK (decision IN ('upheld', 'cancelled', 'amended')),
    decision_note text,
    amended_article text,
    amended_part text,
    amended_fine_minor bigint,
    CHECK (filed_at <= due_at),
    CHECK (status = 'open' OR (decision IS NOT NULL AND decided_by IS NOT NULL
                               AND decided_at IS NOT NULL AND decided_as IS NOT NULL)),
    CHECK (status = 'decided' OR decision IS NULL),
    CHECK (decided_as IS DISTINCT FROM 'court' OR court_reference IS NOT NULL),
    CHECK (decision IS NOT DISTINCT FROM 'amended' OR amended_article IS NULL),
    CHECK (decision IS DISTINCT FROM 'amended' OR (amended_article IS NOT NULL
                                        AND amended_part IS NOT NULL AND amended_fine_minor > 0))
);
CREATE INDEX appeals_status ON appeals(status, filed_at);
CREATE TABLE appeal_attachments (
    appeal_id bigint NOT NULL REFERENCES appeals(appeal_id),
    position integer NOT NULL CHECK (position BETWEEN 1 AND 5),
    sha256 text NOT NULL CHECK (length(sha256) = 64),
    file_name text NOT NULL,
    content_type text NOT NULL
        CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    size_bytes bigint NOT NULL CHECK (size_bytes > 0),
    stored_at timestamptz NOT NULL,
    PRIMARY KEY (appeal_id, position)
);

-- The sentence is the trigger's first argument, as erap_refuse's.
CREATE FUNCTION erap_refuse_under_appeal() RETURNS trigger {_SETTINGS} AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM appeals WHERE case_number = NEW.case_number AND status = 'open')
    THEN
        RAISE EXCEPTION USING MESSAGE = TG_ARGV[0], ERRCODE = '23000';
    END IF;
    RETURN NEW;
END
$$;

-- Widened: an appeal decided "cancelled" cancels the case as an approved request does.
CREATE OR REPLACE FUNCTION erap_case_cancelled_needs_approval() RETURNS trigger {_SETTINGS} AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM cancellation_requests
                   WHERE case_number = NEW.case_number AND status = 'approved')
       AND NOT EXISTS (SELECT 1 FROM appeals WHERE case_number = NEW.case_number
                       AND status = 'decided' AND decision = 'cancelled') THEN
        RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE =
            'a case is cancelled only on an approved cancellation request or an appeal decided so';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER handover_never_under_appeal BEFORE INSERT ON bailiff_handovers FOR EACH ROW
    WHEN (NEW.kind = 'handover')
    EXECUTE FUNCTION erap_refuse_under_appeal('{UNDER_APPEAL_HANDOVER}');
CREATE TRIGGER case_bailiffs_never_under_appeal BEFORE UPDATE OF status ON cases FOR EACH ROW
    WHEN (NEW.status = 'sent_to_bailiffs')
    EXECUTE FUNCTION erap_refuse_under_appeal('{UNDER_APPEAL_HANDOVER}');
CREATE TRIGGER case_force_suspended_by_appeal
    BEFORE UPDATE OF entry_into_force, voluntary_deadline, limitation_at ON cases FOR EACH ROW
    WHEN (NEW.entry_into_force IS DISTINCT FROM OLD.entry_into_force
          OR NEW.voluntary_deadline IS DISTINCT FROM OLD.voluntary_deadline
          OR NEW.limitation_at IS DISTINCT FROM OLD.limitation_at)
    EXECUTE FUNCTION erap_refuse_under_appeal('{UNDER_APPEAL_FORCE}');
CREATE TRIGGER appeal_decided_once BEFORE UPDATE ON appeals FOR EACH ROW
    WHEN (OLD.status <> 'open')
    EXECUTE FUNCTION erap_refuse('an appeal is decided once: the decision is final');
CREATE TRIGGER appeals_no_delete BEFORE DELETE ON appeals FOR EACH ROW
    EXECUTE FUNCTION erap_refuse('an appeal is never deleted');
CREATE TRIGGER appeal_attachments_no_update BEFORE UPDATE ON appeal_attachments FOR EACH ROW
    EXECUTE FUNCTION erap_refuse('an appeal''s attachments are kept as filed');
CREATE TRIGGER appeal_attachments_no_delete BEFORE DELETE ON appeal_attachments FOR EACH ROW
    EXECUTE FUNCTION erap_refuse('an appeal''s attachments are kept as filed');
"""

# What the application role may do: file and decide appeals, add attachments; never delete
# (TRUNCATE is the owner's alone, as for every table).
APPEALS_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "appeals": ("SELECT", "INSERT", "UPDATE"),
    "appeal_attachments": ("SELECT", "INSERT"),
}
