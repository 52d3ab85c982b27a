"""The notices' kinds and the rule that a driver is told before the bailiffs, in the SQLite
schema: store/schema.py takes these into its DDL and MIGRATIONS; the PostgreSQL twin is
store/postgres/notice_rules.py.

- ``notifications.kind`` and ``attempt_round``: what each notice told the driver, and for the
  resolution's notice which attempt to tell him it belongs to.
- ``handover_rule``: the Code's rule for a driver who cannot be reached (the failed rounds and
  the days they span), one row the hand-over keeps equal to ``[bailiffs]``; never deleted.
- ``case_told_before_bailiffs``: no case moves to the bailiffs unless its driver was told: a
  delivered notice of the resolution, or the failed rounds ``handover_rule`` requires.
"""

from __future__ import annotations

# What each notice is about, and which attempt to tell the driver of the resolution it belongs
# to (the resolution is sent again, round after round, while every notice of the last round
# failed). A notice the daily jobs queue is queued once per case (notifications_once).
NOTICE_KINDS = (
    "'case_opened', 'discount_ending', 'payment_received', 'entered_into_force',"
    " 'appeal_received', 'appeal_decided', 'handed_to_bailiffs'"
)
NOTICE_KIND_COLUMNS = (
    "ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT 'case_opened'"
    f" CHECK (kind IN ({NOTICE_KINDS}))",
    "ALTER TABLE notifications ADD COLUMN attempt_round INTEGER NOT NULL DEFAULT 1"
    " CHECK (attempt_round >= 1)",
)
NOTICES_ONCE_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS notifications_once"
    " ON notifications(case_number, kind, attempt_round, channel, language)"
    " WHERE kind IN ('case_opened', 'discount_ending', 'entered_into_force',"
    " 'handed_to_bailiffs')"
)
# The Code's rule for a driver who cannot be reached, as the registry's [bailiffs] section sets
# it (store.bailiffs.hand_over_overdue writes it here in the hand-over's transaction): the
# failed attempts, spread over at least so many days, after which the case may go to bailiffs.
# One row, never deleted; the migration writes the defaults.
HANDOVER_RULE = """CREATE TABLE IF NOT EXISTS handover_rule (
    rule_id INTEGER PRIMARY KEY CHECK (rule_id = 1),
    notice_attempts_required INTEGER NOT NULL CHECK (notice_attempts_required >= 1),
    notice_attempt_days INTEGER NOT NULL CHECK (notice_attempt_days >= 0)
)"""
HANDOVER_RULE_ROW = (
    "INSERT OR IGNORE INTO handover_rule (rule_id, notice_attempts_required,"
    " notice_attempt_days) VALUES (1, 3, 14)"
)
# A case reaches the bailiffs only if its driver was told: a delivered notice of the
# resolution, or enough failed rounds (every notice of the round failed) spread over enough
# days. Whatever code path moves the case.
RULE_KEPT = "the hand-over rule is kept, never deleted"
# Cases the other rules keep from the bailiffs (a payment here or elsewhere, an open appeal):
# refused with their own sentence, whichever trigger fires first.
OTHER_RULES = (
    "SELECT 1 FROM payments WHERE matched_case = NEW.case_number"
    " UNION ALL SELECT 1 FROM inbound_payments WHERE matched_case = NEW.case_number"
    " UNION ALL SELECT 1 FROM appeals WHERE case_number = NEW.case_number AND status = 'open'"
)
NOT_TOLD = (
    "the driver was not told of the resolution (no delivered notice, nor the failed attempts"
    " the rule requires): the case is not handed to bailiffs"
)
DRIVER_TOLD_TRIGGERS = f"""
CREATE TRIGGER IF NOT EXISTS case_told_before_bailiffs BEFORE UPDATE OF status ON cases
WHEN NEW.status = 'sent_to_bailiffs' AND OLD.status = 'open'
 AND NEW.paid_minor = 0 AND OLD.paid_minor = 0
 AND NOT EXISTS ({OTHER_RULES})
 AND NOT EXISTS (SELECT 1 FROM notifications WHERE case_number = NEW.case_number
                 AND kind = 'case_opened' AND delivered_at IS NOT NULL)
 AND NOT EXISTS (
     SELECT 1 FROM handover_rule AS r,
         (SELECT count(*) AS rounds, julianday(max(first_at)) - julianday(min(first_at)) AS span
          FROM (SELECT min(created_at) AS first_at FROM notifications
                WHERE case_number = NEW.case_number AND kind = 'case_opened'
                GROUP BY attempt_round
                HAVING sum(CASE WHEN status = 'failed' THEN 0 ELSE 1 END) = 0)) AS failed
     WHERE failed.rounds >= r.notice_attempts_required
       AND failed.span >= r.notice_attempt_days)
BEGIN SELECT RAISE(ABORT, '{NOT_TOLD}'); END;
CREATE TRIGGER IF NOT EXISTS handover_rule_no_delete BEFORE DELETE ON handover_rule
BEGIN SELECT RAISE(ABORT, '{RULE_KEPT}'); END;
"""

NOTICE_MIGRATION = (*NOTICE_KIND_COLUMNS, NOTICES_ONCE_INDEX, HANDOVER_RULE, HANDOVER_RULE_ROW)
NOTICE_DDL = (
    f"{NOTICES_ONCE_INDEX};\n{HANDOVER_RULE};\n{HANDOVER_RULE_ROW};\n{DRIVER_TOLD_TRIGGERS}"
)

# The SQLite triggers above, which store/postgres/notice_rules.py repeats under the same names.
NOTICE_TRIGGER_NAMES = ("case_told_before_bailiffs", "handover_rule_no_delete")
