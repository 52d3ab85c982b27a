"""The notices' kinds and the rule that a driver is told before the bailiffs, in the PostgreSQL
schema: the columns, table and triggers of store/notice_schema.py (SQLite) as one migration
step. Trigger names and sentences are SQLite's, word for word; refusals are SQLSTATE 23000 as
in rules.py. A trigger's WHEN may not read other tables here, so the check is in the function.
"""

from __future__ import annotations

from central_ingest.store.notice_schema import NOT_TOLD, OTHER_RULES, RULE_KEPT

_SETTINGS = "LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp"

NOTICE_RULES = f"""
ALTER TABLE notifications ADD COLUMN kind text NOT NULL DEFAULT 'case_opened'
    CHECK (kind IN ('case_opened', 'discount_ending', 'payment_received', 'entered_into_force',
                    'appeal_received', 'appeal_decided', 'handed_to_bailiffs'));
ALTER TABLE notifications ADD COLUMN attempt_round integer NOT NULL DEFAULT 1
    CHECK (attempt_round >= 1);
CREATE UNIQUE INDEX notifications_once
    ON notifications(case_number, kind, attempt_round, channel, language)
    WHERE kind IN ('case_opened', 'discount_ending', 'entered_into_force', 'handed_to_bailiffs');
CREATE TABLE handover_rule (
    rule_id integer PRIMARY KEY CHECK (rule_id = 1),
    notice_attempts_required integer NOT NULL CHECK (notice_attempts_required >= 1),
    notice_attempt_days integer NOT NULL CHECK (notice_attempt_days >= 0)
);
INSERT INTO handover_rule (rule_id, notice_attempts_required, notice_attempt_days)
    VALUES (1, 3, 14);

-- Named after case_bailiffs_never_paid in the alphabet, so that a paid case is refused with
-- the payment's sentence: PostgreSQL fires a row's triggers in name order.
CREATE FUNCTION erap_case_told_before_bailiffs() RETURNS trigger {_SETTINGS} AS $$
DECLARE
    rule handover_rule%ROWTYPE;
    rounds integer;
    span interval;
BEGIN
    -- Cases the other rules keep from the bailiffs are refused with their own sentence.
    IF OLD.status <> 'open' OR NEW.paid_minor <> 0 OR OLD.paid_minor <> 0
       OR EXISTS ({OTHER_RULES}) THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM notifications WHERE case_number = NEW.case_number
               AND kind = 'case_opened' AND delivered_at IS NOT NULL) THEN
        RETURN NEW;
    END IF;
    SELECT * INTO rule FROM handover_rule WHERE rule_id = 1;
    SELECT count(*), max(first_at) - min(first_at) INTO rounds, span
    FROM (SELECT min(created_at) AS first_at FROM notifications
          WHERE case_number = NEW.case_number AND kind = 'case_opened'
          GROUP BY attempt_round HAVING bool_and(status = 'failed')) AS failed;
    IF rule.rule_id IS NOT NULL AND rounds >= rule.notice_attempts_required
       AND span >= make_interval(days => rule.notice_attempt_days) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = '{NOT_TOLD}';
END
$$;
CREATE TRIGGER case_told_before_bailiffs BEFORE UPDATE OF status ON cases FOR EACH ROW
    WHEN (NEW.status = 'sent_to_bailiffs' AND OLD.status <> 'sent_to_bailiffs')
    EXECUTE FUNCTION erap_case_told_before_bailiffs();
CREATE TRIGGER handover_rule_no_delete BEFORE DELETE ON handover_rule FOR EACH ROW
    EXECUTE FUNCTION erap_refuse('{RULE_KEPT}');
CREATE TRIGGER handover_rule_no_truncate BEFORE TRUNCATE ON handover_rule FOR EACH STATEMENT
    EXECUTE FUNCTION erap_refuse('{RULE_KEPT}');
"""

POSTGRES_ONLY_TRIGGERS = ("handover_rule_no_truncate",)

# The application role writes the rule from the configuration; a trigger refuses deleting it.
NOTICE_PRIVILEGES: dict[str, tuple[str, ...]] = {"handover_rule": ("SELECT", "INSERT", "UPDATE")}
