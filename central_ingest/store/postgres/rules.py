"""The registry's rules as PostgreSQL triggers: what ``store/schema.py`` and
``store/double_reviews.py`` enforce with SQLite triggers, enforced by PL/pgSQL whatever code or
hand-typed statement writes. Every refusal is SQLSTATE 23000 (integrity_constraint_violation),
so the driver raises ``psycopg.IntegrityError`` as SQLite raises ``sqlite3.IntegrityError``, and
carries the SQLite trigger's sentence word for word.

SQLite trigger (store/schema.py, double_reviews.py) -> PostgreSQL trigger: function

    ledger_no_update                 same: erap_refuse
    ledger_no_delete                 same: erap_refuse
    (none)                           ledger_no_truncate: erap_refuse
    merkle_no_update                 same: erap_refuse
    merkle_no_delete                 same: erap_refuse
    (none)                           merkle_no_truncate: erap_refuse
    tree_heads_no_update             same: erap_refuse
    tree_heads_no_delete             same: erap_refuse
    (none)                           tree_heads_no_truncate: erap_refuse
    messages_no_update               same: erap_refuse
    handover_never_paid              same: erap_handover_never_paid
    case_bailiffs_never_paid         same: erap_case_bailiffs_never_paid
    case_needs_confirmed_fixation    same: erap_case_needs_confirmed_fixation
    fixation_decided_once            same: erap_refuse (WHEN)
    case_born_before_bailiffs        same: erap_refuse (WHEN)
    case_bailiffs_never_paid_minor   same: erap_refuse (WHEN)
    handover_needs_unpaid_case_sent  same: erap_handover_needs_unpaid_case_sent
    recall_needs_handover            same: erap_recall_needs_handover
    bailiff_handovers_no_update      same: erap_refuse
    bailiff_handovers_no_delete      same: erap_refuse
    (none)                           bailiff_handovers_no_truncate: erap_refuse
    payments_no_delete               same: erap_refuse
    (none)                           payments_no_truncate: erap_refuse
    payments_facts_fixed             same: erap_refuse
    payments_match_kept              same: erap_refuse (WHEN)
    (none)                           payments_lock_case: erap_payment_locks_case
    case_closed_stays_closed         same: erap_refuse (WHEN)
    case_cancelled_needs_approval    same: erap_case_cancelled_needs_approval
    cancellation_decided_once        same: erap_refuse (WHEN)
    double_review_decided_once       same: erap_refuse (WHEN)

Differences, and why:

- ``TRUNCATE`` empties a table without firing row triggers; a statement trigger refuses it on
  every table whose rows may not be deleted (the application role has no TRUNCATE either).
- A trigger's ``WHEN`` may not hold a subquery in PostgreSQL: conditions reading other tables
  moved into the functions; conditions on ``OLD``/``NEW`` alone stayed in ``WHEN``.
- ``IS NOT`` (SQLite's null-safe comparison) is ``IS DISTINCT FROM``.
- Concurrent writers. SQLite serialises every writer, so "no payment exists" stays true until
  the hand-over commits. Under PostgreSQL's READ COMMITTED a payment committed by another
  transaction between the check and the commit would slip through, so a payment matched to a
  case, a hand-over and a move to ``sent_to_bailiffs`` all take that case's row lock first
  (``payments_lock_case``; ``SELECT ... FOR UPDATE`` in the hand-over functions; the UPDATE's
  own row lock). Whichever comes second waits, then sees the first one's rows: a paid case is
  never handed to bailiffs however the two interleave.
- Every function sets ``search_path`` to ``pg_catalog, public, pg_temp``: a session may not
  shadow ``payments`` with a temporary table of its own to get past a check.
"""

from __future__ import annotations

from central_ingest.store.appeal_schema import APPEAL_TRIGGER_NAMES
from central_ingest.store.inbound_payments_schema import TRIGGER_NAMES as INBOUND_TRIGGER_NAMES
from central_ingest.store.notice_schema import NOTICE_TRIGGER_NAMES

_SETTINGS = "LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp"

FUNCTIONS = f"""
-- store/db.py's CASEFOLD_FUNCTION, which SQLite gets from Python's str.casefold: NFC, then the
-- ICU root locale's full lower case (equal to casefold for Kazakh, Russian and English letters;
-- casefold also maps German sharp s to "ss"). IMMUTABLE, so an index may be built on it.
CREATE FUNCTION casefold(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN lower(normalize(value, NFC) COLLATE "und-x-icu");

-- The sentence is the trigger's first argument; 23000 makes it an integrity violation.
CREATE FUNCTION erap_refuse() RETURNS trigger {_SETTINGS} AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_ARGV[0], ERRCODE = '23000';
END
$$;

-- Locks the case a payment is matched to, so that a hand-over of that case in another
-- transaction waits for this one and then sees the payment.
CREATE FUNCTION erap_payment_locks_case() RETURNS trigger {_SETTINGS} AS $$
BEGIN
    PERFORM 1 FROM cases WHERE case_number = NEW.matched_case FOR UPDATE;
    RETURN NEW;
END
$$;

CREATE FUNCTION erap_handover_never_paid() RETURNS trigger {_SETTINGS} AS $$
BEGIN
    PERFORM 1 FROM cases WHERE case_number = NEW.case_number FOR UPDATE;
    IF EXISTS (SELECT 1 FROM payments WHERE matched_case = NEW.case_number) THEN
        RAISE EXCEPTION USING ERRCODE = '23000',
            MESSAGE = 'case has a payment: it is never handed to bailiffs';
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION erap_handover_needs_unpaid_case_sent() RETURNS trigger {_SETTINGS} AS $$
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

CREATE FUNCTION erap_recall_needs_handover() RETURNS trigger {_SETTINGS} AS $$
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
CREATE FUNCTION erap_case_bailiffs_never_paid() RETURNS trigger {_SETTINGS} AS $$
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
CREATE FUNCTION erap_case_needs_confirmed_fixation() RETURNS trigger {_SETTINGS} AS $$
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
CREATE FUNCTION erap_case_cancelled_needs_approval() RETURNS trigger {_SETTINGS} AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM cancellation_requests
                   WHERE case_number = NEW.case_number AND status = 'approved') THEN
        RAISE EXCEPTION USING ERRCODE = '23000',
            MESSAGE = 'a case is cancelled only on an approved cancellation request';
    END IF;
    RETURN NEW;
END
$$;
"""


def _refuse(name: str, when: str, table: str, sentence: str, condition: str = "") -> str:
    """A trigger refusing ``when`` on ``table`` (optionally only ``WHEN (condition)``)."""
    level = "STATEMENT" if when == "TRUNCATE" else "ROW"
    guard = f" WHEN ({condition})" if condition else ""
    quoted = sentence.replace("'", "''")
    return (
        f"CREATE TRIGGER {name} BEFORE {when} ON {table} FOR EACH {level}{guard}"
        f" EXECUTE FUNCTION erap_refuse('{quoted}');"
    )


def _append_only(prefix: str, table: str, sentence: str, *, update: bool = True) -> list[str]:
    events = ["UPDATE", "DELETE", "TRUNCATE"] if update else ["DELETE", "TRUNCATE"]
    return [_refuse(f"{prefix}_no_{event.lower()}", event, table, sentence) for event in events]


_PAYMENT_FACTS = (
    "payment_id, message_id, device_id, case_number, amount_minor, currency, paid_at,"
    " received_at, channel"
)

TRIGGERS = "\n".join(
    [
        *_append_only("ledger", "ledger", "the audit ledger is append-only"),
        *_append_only("merkle", "merkle_nodes", "the Merkle tree is append-only"),
        *_append_only("tree_heads", "tree_heads", "signed tree heads are append-only"),
        _refuse("messages_no_update", "UPDATE", "messages", "received messages are kept verbatim"),
        # Paid is never sent to bailiffs, whatever code path tries.
        "CREATE TRIGGER handover_never_paid BEFORE INSERT ON bailiff_handovers FOR EACH ROW"
        " WHEN (NEW.kind = 'handover') EXECUTE FUNCTION erap_handover_never_paid();",
        "CREATE TRIGGER case_bailiffs_never_paid BEFORE UPDATE OF status ON cases FOR EACH ROW"
        " WHEN (NEW.status = 'sent_to_bailiffs') EXECUTE FUNCTION erap_case_bailiffs_never_paid();",
        # Nothing becomes a case without an officer's decision, and a decision is final.
        "CREATE TRIGGER case_needs_confirmed_fixation BEFORE INSERT ON cases FOR EACH ROW"
        " EXECUTE FUNCTION erap_case_needs_confirmed_fixation();",
        _refuse(
            "fixation_decided_once",
            "UPDATE",
            "fixations",
            "a fixation is decided once: the decision is final",
            "OLD.status <> 'awaiting_review'",
        ),
        # A case reaches the bailiffs only from open, never on insert, never with money on it.
        _refuse(
            "case_born_before_bailiffs",
            "INSERT",
            "cases",
            "a case reaches the bailiffs only from open, never on insert",
            "NEW.status = 'sent_to_bailiffs'",
        ),
        _refuse(
            "case_bailiffs_never_paid_minor",
            "UPDATE",
            "cases",
            "case has a payment: it is never handed to bailiffs",
            "NEW.status = 'sent_to_bailiffs' AND (NEW.paid_minor <> 0 OR OLD.paid_minor <> 0)",
        ),
        "CREATE TRIGGER handover_needs_unpaid_case_sent BEFORE INSERT ON bailiff_handovers"
        " FOR EACH ROW WHEN (NEW.kind = 'handover')"
        " EXECUTE FUNCTION erap_handover_needs_unpaid_case_sent();",
        "CREATE TRIGGER recall_needs_handover BEFORE INSERT ON bailiff_handovers FOR EACH ROW"
        " WHEN (NEW.kind = 'recall') EXECUTE FUNCTION erap_recall_needs_handover();",
        # What the bailiffs were sent is what they were sent.
        *_append_only(
            "bailiff_handovers",
            "bailiff_handovers",
            "bailiff hand-overs and recalls are append-only",
        ),
        # Money is never dropped: a payment row stays, its facts stay, its match stays.
        *_append_only("payments", "payments", "payments are never deleted", update=False),
        _refuse(
            "payments_facts_fixed",
            f"UPDATE OF {_PAYMENT_FACTS}",
            "payments",
            "a recorded payment is never altered",
        ),
        _refuse(
            "payments_match_kept",
            "UPDATE OF matched_case",
            "payments",
            "a payment matched to a case stays matched to it",
            "OLD.matched_case IS NOT NULL AND NEW.matched_case IS DISTINCT FROM OLD.matched_case",
        ),
        "CREATE TRIGGER payments_lock_case BEFORE INSERT OR UPDATE OF matched_case ON payments"
        " FOR EACH ROW WHEN (NEW.matched_case IS NOT NULL)"
        " EXECUTE FUNCTION erap_payment_locks_case();",
        # Paid, cancelled and expired are final; a cancellation needs a second officer.
        _refuse(
            "case_closed_stays_closed",
            "UPDATE OF status",
            "cases",
            "a paid, cancelled or expired case is closed for good",
            "OLD.status IN ('paid', 'cancelled', 'expired') AND NEW.status <> OLD.status",
        ),
        "CREATE TRIGGER case_cancelled_needs_approval BEFORE UPDATE OF status ON cases"
        " FOR EACH ROW WHEN (NEW.status = 'cancelled' AND OLD.status <> 'cancelled')"
        " EXECUTE FUNCTION erap_case_cancelled_needs_approval();",
        _refuse(
            "cancellation_decided_once",
            "UPDATE",
            "cancellation_requests",
            "a cancellation request is decided once",
            "OLD.status <> 'pending'",
        ),
        _refuse(
            "double_review_decided_once",
            "UPDATE",
            "double_reviews",
            "a double review is decided once",
            "OLD.status <> 'pending'",
        ),
    ]
)

# Every trigger of the SQLite schema has one here, under the same name (checked by the tests).
SQLITE_TRIGGERS_KEPT = (
    "ledger_no_update",
    "ledger_no_delete",
    "merkle_no_update",
    "merkle_no_delete",
    "tree_heads_no_update",
    "tree_heads_no_delete",
    "messages_no_update",
    "handover_never_paid",
    "case_bailiffs_never_paid",
    "case_needs_confirmed_fixation",
    "fixation_decided_once",
    "case_born_before_bailiffs",
    "case_bailiffs_never_paid_minor",
    "handover_needs_unpaid_case_sent",
    "recall_needs_handover",
    "bailiff_handovers_no_update",
    "bailiff_handovers_no_delete",
    "payments_no_delete",
    "payments_facts_fixed",
    "payments_match_kept",
    "case_closed_stays_closed",
    "case_cancelled_needs_approval",
    "cancellation_decided_once",
    "double_review_decided_once",
    *APPEAL_TRIGGER_NAMES,
    *INBOUND_TRIGGER_NAMES,
    *NOTICE_TRIGGER_NAMES,
)
