"""Reconciliation of payments made elsewhere (a bank's branch or app, eGov), as pure rules.

A bank or eGov reports each payment twice: at once by a signed notification, and again in the
day's statement file (ISO 20022 camt.054). Both carry the institution's own reference of the
payment, so the pair counts once: the first report is the payment, a later one with the same
reference is a duplicate (and a duplicate that disagrees on the facts is flagged). Each payment
is then reconciled against its case, found by the case number the payer typed:

- matched: it covers what was due when it was paid (the 50% while the discount holds); an
  excess lands in the refund list;
- wrong amount: less than due; kept, counted on the case, and flagged for a supervisor;
- unknown case: no case has that number; kept and flagged for manual matching;
- case closed or cancelled: nothing is due any more; kept, flagged, and refunded in full;
- case under appeal: kept and flagged until the appeal is decided (the decision says whether
  it is owed), never applied and never refunded on its own.

Money is never dropped: every payment stays whatever its outcome. Nothing here touches a
database or reads the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from central_ingest.core import cases as rules
from central_ingest.core.cases import CaseState, CaseStatus, PaymentMatch, PaymentOutcome
from central_ingest.core.errors import InvalidInput
from i18n.text import Text


class Outcome(StrEnum):
    MATCHED = "matched"
    WRONG_AMOUNT = "wrong_amount"
    UNKNOWN_CASE = "unknown_case"
    CASE_CLOSED = "case_closed"
    CASE_CANCELLED = "case_cancelled"
    CASE_APPEALED = "case_appealed"


class Source(StrEnum):
    """How the payment reached the registry first."""

    NOTIFICATION = "notification"
    STATEMENT = "statement"


# What a supervisor must look at: every outcome but a clean match.
FLAGGED = frozenset(
    {
        Outcome.WRONG_AMOUNT,
        Outcome.UNKNOWN_CASE,
        Outcome.CASE_CLOSED,
        Outcome.CASE_CANCELLED,
        Outcome.CASE_APPEALED,
    }
)

# A case number as the registry issues them: a camera case's AGENCY-YEAR-0000001
# (store.case_opening) or a roadside protocol's AGENCY-R00000001 (contract.roadside), the
# agency's code being 2 to 16 letters, digits and hyphens; found inside a payer's free text
# ("Штраф KZ-GP-2025-0000042").
CASE_NUMBER = re.compile(r"(?<![A-Z0-9-])([A-Z0-9][A-Z0-9-]{1,15}-(?:\d{4}-\d{7}|R\d{8}))(?![0-9])")


def case_number_in(text: str) -> str | None:
    """The first case number in a payer's remittance text, in the registry's letter case."""
    found = CASE_NUMBER.search(text.upper())
    return None if found is None else found.group(1)


@dataclass(frozen=True)
class Reconciled:
    """What a payment does. ``case_change`` is the case lifecycle's outcome when the payment
    changes the case (None when it does not); ``refund_minor`` is what goes back to the payer;
    ``due_minor`` is what was still due on the case when it was paid (None: no case)."""

    outcome: Outcome
    due_minor: int | None
    refund_minor: int
    case_change: PaymentOutcome | None

    @property
    def flagged(self) -> bool:
        return self.outcome in FLAGGED


def reconcile(
    case: CaseState | None,
    amount_minor: int,
    amount_due_at_payment: int,
    *,
    under_appeal: bool = False,
) -> Reconciled:
    """Reconcile a payment of ``amount_minor`` with ``case`` (None: no case has the number the
    payer gave), whose fine, when the payment was made, amounted to ``amount_due_at_payment``
    (discounted or full). ``under_appeal``: the driver's appeal against the case is pending."""
    if amount_minor <= 0:
        raise InvalidInput("invalid_amount", Text("A payment amount must be positive."))
    if case is None:
        return Reconciled(Outcome.UNKNOWN_CASE, None, 0, None)
    if under_appeal:
        return Reconciled(Outcome.CASE_APPEALED, None, 0, None)
    if case.status is CaseStatus.CANCELLED:
        return Reconciled(Outcome.CASE_CANCELLED, 0, amount_minor, None)
    if case.status.closed:
        return Reconciled(Outcome.CASE_CLOSED, 0, amount_minor, None)
    change = rules.apply_payment(case, amount_minor, amount_due_at_payment)
    if change.match is PaymentMatch.CASE_CLOSED or change.case_status is None:
        # A status the lifecycle does not apply payments in (one added later): held, flagged.
        return Reconciled(Outcome.CASE_CLOSED, 0, amount_minor, None)
    still_due = change.due_minor or 0
    if change.case_status is CaseStatus.UNDERPAID:
        return Reconciled(Outcome.WRONG_AMOUNT, still_due, 0, change)
    return Reconciled(Outcome.MATCHED, still_due, max(0, amount_minor - still_due), change)


@dataclass(frozen=True)
class ReportedFacts:
    """What an institution says about one payment: compared when it reports it again."""

    case_number: str
    amount_minor: int
    currency: str


def discrepancy(first: ReportedFacts, again: ReportedFacts) -> list[str]:
    """The facts on which a second report of the same payment (same institution, same
    reference) disagrees with the first: empty for a true duplicate."""
    differing = []
    if first.case_number.strip().upper() != again.case_number.strip().upper():
        differing.append("case_number")
    if first.amount_minor != again.amount_minor:
        differing.append("amount_minor")
    if first.currency != again.currency:
        differing.append("currency")
    return differing
