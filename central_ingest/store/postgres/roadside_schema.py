"""Version 8 in PostgreSQL: roadside protocols (``store/roadside_schema.py`` is SQLite's twin).

PostgreSQL changes ``cases`` in place (its CHECK constraints are named ``cases_<column>_check``
when written on a column), where SQLite rebuilds the table. The rule that a case needs a
confirmed fixation now admits, instead, a roadside protocol of the same number; the rule that a
closed case stays closed counts a warning as closed.
"""

from __future__ import annotations

# As every function of rules.py: a session may not shadow a table with a temporary one.
_SETTINGS = "LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp"

ROADSIDE = f"""
ALTER TABLE operators ADD COLUMN iin text, ADD COLUMN unit text;
CREATE UNIQUE INDEX operators_iin ON operators(iin);

ALTER TABLE cases ALTER COLUMN fixation_id DROP NOT NULL;
ALTER TABLE cases ADD COLUMN source text NOT NULL DEFAULT 'camera'
    CHECK (source IN ('camera', 'roadside'));
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
    CHECK (status IN ('open', 'paid', 'underpaid', 'sent_to_bailiffs', 'cancelled', 'expired',
                      'warned'));
ALTER TABLE cases DROP CONSTRAINT cases_fine_minor_check;
ALTER TABLE cases ADD CONSTRAINT cases_fine_minor_check CHECK (fine_minor >= 0);
ALTER TABLE cases ADD CONSTRAINT cases_warning_has_no_fine
    CHECK ((status = 'warned') = (fine_minor = 0));
ALTER TABLE cases ADD CONSTRAINT cases_warning_is_roadside
    CHECK (status <> 'warned' OR source = 'roadside');
ALTER TABLE cases ADD CONSTRAINT cases_roadside_has_no_fixation
    CHECK ((fixation_id IS NULL) = (source = 'roadside'));

CREATE TABLE protocol_number_sequence (
    prefix text PRIMARY KEY,
    last bigint NOT NULL CHECK (last >= 0)
);
CREATE TABLE protocol_number_blocks (
    block_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id text NOT NULL REFERENCES devices(device_id),
    prefix text NOT NULL,
    first_number bigint NOT NULL CHECK (first_number >= 1),
    last_number bigint NOT NULL,
    issued_at timestamptz NOT NULL,
    CHECK (last_number >= first_number),
    UNIQUE (prefix, first_number)
);
CREATE INDEX protocol_number_blocks_device
    ON protocol_number_blocks(device_id, prefix, first_number);
CREATE TABLE roadside_protocols (
    protocol_id text PRIMARY KEY,
    message_id text NOT NULL UNIQUE REFERENCES messages(message_id),
    protocol_number text NOT NULL UNIQUE,
    case_number text NOT NULL UNIQUE,
    block_id bigint NOT NULL REFERENCES protocol_number_blocks(block_id),
    device_id text NOT NULL REFERENCES devices(device_id),
    officer_iin text NOT NULL,
    officer text NOT NULL REFERENCES operators(username),
    officer_unit text,
    plate text NOT NULL,
    person_iin text,
    outcome text NOT NULL CHECK (outcome IN ('warning', 'fine')),
    article text NOT NULL,
    part text NOT NULL,
    amount_minor bigint CHECK (amount_minor > 0),
    lat double precision,
    lon double precision,
    address text,
    place_manual smallint NOT NULL CHECK (place_manual IN (0, 1)),
    drawn_up_at timestamptz NOT NULL,
    driver_signature text NOT NULL CHECK (driver_signature IN ('signed', 'refused')),
    driver_signature_sha256 text,
    officer_cms bytea NOT NULL,
    certificate_serial text NOT NULL,
    received_at timestamptz NOT NULL,
    CHECK ((outcome = 'fine') = (amount_minor IS NOT NULL)),
    CHECK (case_number = protocol_number)
);
CREATE INDEX roadside_protocols_officer ON roadside_protocols(officer, drawn_up_at);
CREATE TABLE roadside_protocol_photos (
    protocol_id text NOT NULL REFERENCES roadside_protocols(protocol_id),
    sha256 text NOT NULL REFERENCES evidence(sha256),
    position integer NOT NULL CHECK (position >= 0),
    PRIMARY KEY (protocol_id, sha256)
);

-- A roadside protocol stays as received: its row is written once, in the case's transaction.
CREATE OR REPLACE FUNCTION erap_case_needs_confirmed_fixation() RETURNS trigger {_SETTINGS} AS $$
BEGIN
    IF NEW.fixation_id IS NULL THEN
        IF NOT EXISTS (SELECT 1 FROM roadside_protocols
                       WHERE case_number = NEW.case_number) THEN
            RAISE EXCEPTION USING ERRCODE = '23000',
                MESSAGE = 'a case is opened only from a fixation an officer confirmed'
                          ' or a protocol he signed';
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM fixations
                      WHERE fixation_id = NEW.fixation_id AND status = 'confirmed') THEN
        RAISE EXCEPTION USING ERRCODE = '23000',
            MESSAGE = 'a case is opened only from a fixation an officer confirmed'
                      ' or a protocol he signed';
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER case_closed_stays_closed ON cases;
CREATE TRIGGER case_closed_stays_closed BEFORE UPDATE OF status ON cases FOR EACH ROW
    WHEN (OLD.status IN ('paid', 'cancelled', 'expired', 'warned') AND NEW.status <> OLD.status)
    EXECUTE FUNCTION erap_refuse('a paid, cancelled, expired or warned case is closed for good');
"""
