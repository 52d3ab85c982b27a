"""The notices the calendar brings rather than an officer or a payment: run by the daily jobs.

- ``discount_ending``: the discount ends within ``[bailiffs] discount_reminder_days`` (two by
  default) and the case is unpaid; once per case.
- ``entered_into_force``: the resolution entered into force (the appeal period passed with no
  appeal open) and the case is not paid; once per case, and only for resolutions that entered
  into force within the last week, so that a database migrated with old cases does not send
  notices about resolutions long in force.
- another round of the resolution's notice, while every notice of the last round failed and
  the Code's rule wants more documented attempts (``core.driver_told.next_round``).

Each case's notices are queued in one transaction with the check that they were not queued
before (the ``notifications_once`` index refuses a second copy should two registries run the
jobs at once), so running the jobs twice a day, or after a crash, sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from central_ingest.config import RegistryConfig
from central_ingest.core.clock import iso
from central_ingest.core.driver_told import HandoverRule, next_round
from central_ingest.driver.links import notice_link
from central_ingest.notify.outbox import case_opened_notices, queue_status_notice
from central_ingest.store import notifications as repo
from central_ingest.store.bailiffs import resolution_rounds
from central_ingest.store.db import Store
from central_ingest.store.notifications import insert_notices

FORCE_NOTICE_WINDOW = timedelta(days=7)
BATCH = 5000
"""Cases looked at per kind and run; a day's due cases are far fewer."""


@dataclass(frozen=True)
class DailyNotices:
    discount_ending: int
    entered_into_force: int
    resolution_rounds: int
    """Cases whose resolution's notice was queued again."""


def handover_rule(config: RegistryConfig) -> HandoverRule:
    settings = config.bailiffs
    return HandoverRule(settings.notice_attempts_required, settings.notice_attempt_days)


def queue_daily_notices(store: Store, config: RegistryConfig, now: datetime) -> DailyNotices:
    """Queue every notice the calendar has made due at ``now``; returns how many cases got
    one of each kind."""
    at = iso(now)
    until = iso(now + timedelta(days=config.bailiffs.discount_reminder_days))
    since = iso(now - FORCE_NOTICE_WINDOW)
    # One pass of each a day: an owner with no contact gets nothing queued, so his case stays
    # a candidate; a loop until no candidates were left would never end.
    with store.transaction() as db:
        due = repo.discount_ending_cases(db, now=at, until=until, limit=BATCH)
        discount = sum(
            queue_status_notice(db, case["case_number"], "discount_ending", now, config=config) > 0
            for case in due
        )
    with store.transaction() as db:
        due = repo.entered_into_force_cases(db, now=at, since=since, limit=BATCH)
        force = sum(
            queue_status_notice(db, case["case_number"], "entered_into_force", now, config=config)
            > 0
            for case in due
        )
    rounds = 0
    rule = handover_rule(config)
    with store.transaction() as db:
        for case in repo.resolution_resend_cases(db, limit=BATCH):
            number = next_round(resolution_rounds(db, case["case_number"]), rule, now)
            if number is None:
                continue
            # A fresh link: the first round's may have expired by now.
            linked = {**case, "page_link": notice_link(db, case["case_number"], config, now)}
            insert_notices(db, case_opened_notices(linked, config, now, attempt_round=number), at)
            rounds += 1
    return DailyNotices(discount, force, rounds)
