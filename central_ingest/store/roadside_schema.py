"""The SQLite schema of roadside protocols (schema version 8; ``store/schema.py`` runs it).

A roadside protocol opens its case at once, with no fixation behind it: ``cases`` gets a
``source`` ('camera' or 'roadside'), a NULL ``fixation_id`` for a roadside case, and the
status ``warned`` for a protocol that ends in a warning (no fine: ``fine_minor`` 0). SQLite
cannot change a table's CHECK constraints in place, so version 8 rebuilds ``cases``
(``CASES_REBUILD``): the old table is renamed aside with ``legacy_alter_table`` on, so that the
other tables' references keep naming ``cases``, the new one is created and filled, the old one
dropped; ``Store.migrate`` runs the steps with foreign keys off and checks them before the
commit, and the DDL that runs after every migration recreates the indexes and triggers of
``cases`` that went with the old table.

Protocol numbers come in blocks the registry sets aside for one terminal, taken from one
counter per agency prefix (``protocol_number_sequence``), so two blocks never overlap.
"""

from __future__ import annotations

# The columns of cases before version 8, in their order, copied across by the rebuild.
_CASE_COLUMNS_V6 = (
    "case_number, fixation_id, plate, owner_id, owner_name, owner_phone, owner_email,"
    " violation, article, part, offence_at, mrp_kzt, fine_mrp, fine_minor, discount_percent,"
    " resolution_at, resolved_by, discount_deadline, entry_into_force, voluntary_deadline,"
    " limitation_at, status, paid_minor, updated_at, owner_language"
)

CASES_TABLE = """CREATE TABLE IF NOT EXISTS cases (
    case_number TEXT PRIMARY KEY,
    -- NULL only for a case opened from a roadside protocol: no camera saw that offence.
    fixation_id TEXT UNIQUE REFERENCES fixations(fixation_id),
    plate TEXT NOT NULL,
    owner_id TEXT,
    owner_name TEXT,
    owner_phone TEXT,
    owner_email TEXT,
    violation TEXT NOT NULL,
    article TEXT NOT NULL,
    part TEXT NOT NULL,
    offence_at TEXT NOT NULL,
    mrp_kzt INTEGER NOT NULL,
    fine_mrp INTEGER NOT NULL,
    fine_minor INTEGER NOT NULL CHECK (fine_minor >= 0),
    discount_percent INTEGER NOT NULL,
    resolution_at TEXT NOT NULL,
    resolved_by TEXT NOT NULL REFERENCES operators(username),
    discount_deadline TEXT NOT NULL,
    entry_into_force TEXT NOT NULL,
    voluntary_deadline TEXT NOT NULL,
    limitation_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'paid', 'underpaid', 'sent_to_bailiffs', 'cancelled', 'expired',
                          'warned')),
    paid_minor INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    owner_language TEXT CHECK (owner_language IN ('kk', 'ru', 'en')),
    source TEXT NOT NULL DEFAULT 'camera' CHECK (source IN ('camera', 'roadside')),
    -- A fine is never nil and a warning carries none; only a roadside protocol ends in a
    -- warning, and only a roadside case has no fixation.
    CHECK ((status = 'warned') = (fine_minor = 0)),
    CHECK (status != 'warned' OR source = 'roadside'),
    CHECK ((fixation_id IS NULL) = (source = 'roadside'))
)"""

CASES_REBUILD = (
    "PRAGMA legacy_alter_table = ON",
    "ALTER TABLE cases RENAME TO cases_before_v8",
    CASES_TABLE,
    f"INSERT INTO cases ({_CASE_COLUMNS_V6}) SELECT {_CASE_COLUMNS_V6} FROM cases_before_v8",
    "DROP TABLE cases_before_v8",
    "PRAGMA legacy_alter_table = OFF",
)

OPERATOR_IDENTITY = (
    # The officer's IIN as his signing certificate names it, and his unit (the prosecutor's
    # report groups cancellations by it).
    "ALTER TABLE operators ADD COLUMN iin TEXT",
    "ALTER TABLE operators ADD COLUMN unit TEXT",
)
OPERATORS_IIN_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS operators_iin ON operators(iin)"

ROADSIDE_TABLES = (
    """CREATE TABLE IF NOT EXISTS protocol_number_sequence (
    prefix TEXT PRIMARY KEY,
    last INTEGER NOT NULL CHECK (last >= 0)
)""",
    """CREATE TABLE IF NOT EXISTS protocol_number_blocks (
    block_id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL REFERENCES devices(device_id),
    prefix TEXT NOT NULL,
    first_number INTEGER NOT NULL CHECK (first_number >= 1),
    last_number INTEGER NOT NULL,
    issued_at TEXT NOT NULL,
    CHECK (last_number >= first_number),
    UNIQUE (prefix, first_number)
)""",
    "CREATE INDEX IF NOT EXISTS protocol_number_blocks_device"
    " ON protocol_number_blocks(device_id, prefix, first_number)",
    """CREATE TABLE IF NOT EXISTS roadside_protocols (
    protocol_id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE REFERENCES messages(message_id),
    protocol_number TEXT NOT NULL UNIQUE,
    -- The case's number is the protocol's number: the terminal printed it offline.
    case_number TEXT NOT NULL UNIQUE,
    block_id INTEGER NOT NULL REFERENCES protocol_number_blocks(block_id),
    device_id TEXT NOT NULL REFERENCES devices(device_id),
    officer_iin TEXT NOT NULL,
    officer TEXT NOT NULL REFERENCES operators(username),
    officer_unit TEXT,
    plate TEXT NOT NULL,
    person_iin TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('warning', 'fine')),
    article TEXT NOT NULL,
    part TEXT NOT NULL,
    amount_minor INTEGER CHECK (amount_minor > 0),
    lat REAL,
    lon REAL,
    address TEXT,
    place_manual INTEGER NOT NULL CHECK (place_manual IN (0, 1)),
    drawn_up_at TEXT NOT NULL,
    driver_signature TEXT NOT NULL CHECK (driver_signature IN ('signed', 'refused')),
    driver_signature_sha256 TEXT,
    officer_cms BLOB NOT NULL,
    certificate_serial TEXT NOT NULL,
    received_at TEXT NOT NULL,
    CHECK ((outcome = 'fine') = (amount_minor IS NOT NULL)),
    CHECK (case_number = protocol_number)
)""",
    "CREATE INDEX IF NOT EXISTS roadside_protocols_officer"
    " ON roadside_protocols(officer, drawn_up_at)",
    """CREATE TABLE IF NOT EXISTS roadside_protocol_photos (
    protocol_id TEXT NOT NULL REFERENCES roadside_protocols(protocol_id),
    sha256 TEXT NOT NULL REFERENCES evidence(sha256),
    position INTEGER NOT NULL CHECK (position >= 0),
    PRIMARY KEY (protocol_id, sha256)
)""",
)

MIGRATION_8 = (*OPERATOR_IDENTITY, OPERATORS_IIN_INDEX, *ROADSIDE_TABLES, *CASES_REBUILD)

ROADSIDE_DDL = "".join(f"{statement};\n" for statement in (OPERATORS_IIN_INDEX, *ROADSIDE_TABLES))
