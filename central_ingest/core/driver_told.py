"""Whether a case's driver was told of the resolution, so that the case may go to bailiffs.

The seeds record cases handed "straight to bailiffs" because the driver's address was not
established and he was never told. So enforcement waits for one of two things:

- a notice of the resolution DELIVERED (the operator's receipt for every part of an SMS; the
  outbox file of the embedded default counts as delivered when written); or
- the documented failed attempts the Code's rule asks for: ``attempts_required`` rounds of the
  resolution's notice, each failed on every channel (the SMSC said undeliverable, the relay
  refused the address, or every retry failed), the first and the last round at least
  ``attempt_days`` apart. The registry sends a new round every ``spacing_days`` while the last
  one failed (``next_round``).

A case with neither is held, and shown to a supervisor with the reason (``HeldReason``): no
contact known at all (nothing can be sent), a notice on its way or sent without a receipt yet,
or rounds failed but not yet as many, or over as many days, as the rule requires. An e-mail the
relay accepted is "sent", not delivered: SMTP gives no receipt, so it proves nothing alone.

Pure: callers pass the rounds as the store read them, the rule and the moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

NoticeState = Literal["queued", "sent", "delivered", "failed"]


class ToldBy(StrEnum):
    """On what ground the case may go to bailiffs."""

    DELIVERED = "delivered"
    FAILED_ATTEMPTS = "failed_attempts"


class HeldReason(StrEnum):
    """Why an overdue case is held from the bailiffs (the supervisor's list says it)."""

    NO_CONTACT = "no_contact"
    AWAITING_DELIVERY = "awaiting_delivery"
    ATTEMPTS_INCOMPLETE = "attempts_incomplete"


@dataclass(frozen=True, slots=True)
class HandoverRule:
    """The Code's rule for an unreachable driver, from ``[bailiffs]``."""

    attempts_required: int
    attempt_days: int

    def __post_init__(self) -> None:
        if self.attempts_required < 1 or self.attempt_days < 0:
            raise ValueError("the rule needs at least one attempt and zero or more days")

    @property
    def spacing(self) -> timedelta:
        """Time between two rounds: the days spread evenly over the rounds."""
        if self.attempts_required < 2:
            return timedelta(days=self.attempt_days)
        return timedelta(days=self.attempt_days) / (self.attempts_required - 1)


@dataclass(frozen=True, slots=True)
class NoticeRound:
    """One attempt to tell the driver: every notice of the resolution queued together."""

    number: int
    started_at: datetime
    states: tuple[NoticeState, ...]
    delivered_at: datetime | None = None

    @property
    def delivered(self) -> bool:
        return "delivered" in self.states

    @property
    def failed(self) -> bool:
        """Every notice of the round failed: the driver was not reached this time."""
        return bool(self.states) and all(state == "failed" for state in self.states)


@dataclass(frozen=True, slots=True)
class Told:
    """The verdict: ``by`` when the case may go, else ``held`` with why."""

    by: ToldBy | None
    held: HeldReason | None
    failed_rounds: int
    rounds: int
    delivered_at: datetime | None = None
    first_failed_at: datetime | None = None
    last_failed_at: datetime | None = None

    @property
    def told(self) -> bool:
        return self.by is not None


def driver_told(rounds: Sequence[NoticeRound], rule: HandoverRule) -> Told:
    """Whether the rounds so far satisfy the rule (see the module's docstring)."""
    delivered = [r.delivered_at for r in rounds if r.delivered and r.delivered_at is not None]
    failed = sorted((r for r in rounds if r.failed), key=lambda r: r.started_at)
    first = failed[0].started_at if failed else None
    last = failed[-1].started_at if failed else None
    facts = Told(None, None, len(failed), len(rounds), None, first, last)
    if any(r.delivered for r in rounds):
        return replace(facts, by=ToldBy.DELIVERED, delivered_at=min(delivered, default=None))
    if (
        first is not None
        and last is not None
        and len(failed) >= rule.attempts_required
        and last - first >= timedelta(days=rule.attempt_days)
    ):
        return replace(facts, by=ToldBy.FAILED_ATTEMPTS)
    if not rounds:
        return replace(facts, held=HeldReason.NO_CONTACT)
    if not rounds[-1].failed:
        return replace(facts, held=HeldReason.AWAITING_DELIVERY)
    return replace(facts, held=HeldReason.ATTEMPTS_INCOMPLETE)


def next_round(rounds: Sequence[NoticeRound], rule: HandoverRule, now: datetime) -> int | None:
    """The number of the round to send now, or None: only while no round was delivered, the
    last round failed on every channel, the rule still wants more, and a spacing has passed
    since the last round started."""
    if not rounds or any(r.delivered for r in rounds):
        return None
    last = max(rounds, key=lambda r: r.number)
    if not last.failed or driver_told(rounds, rule).told:
        return None
    if now < last.started_at + rule.spacing:
        return None
    return last.number + 1
