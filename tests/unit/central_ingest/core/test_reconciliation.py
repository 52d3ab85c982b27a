"""Reconciliation of payments made elsewhere: what each payment does to its case, what is
flagged for a supervisor and what lands in the refund list."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from central_ingest.core.cases import CaseState, CaseStatus, RecallReason
from central_ingest.core.errors import InvalidInput
from central_ingest.core.reconciliation import (
    Outcome,
    ReportedFacts,
    case_number_in,
    discrepancy,
    reconcile,
)

OPEN = CaseState(
    case_number="KZ-GP-2025-0000001",
    status=CaseStatus.OPEN,
    paid_minor=0,
    has_debtor=True,
    voluntary_deadline=datetime(2025, 4, 20, tzinfo=UTC),
    limitation_at=datetime(2026, 3, 20, tzinfo=UTC),
)
DUE = 1_966_000


def test_the_amount_due_settles_the_case_and_an_excess_is_refunded() -> None:
    exact = reconcile(OPEN, DUE, DUE)
    assert (exact.outcome, exact.due_minor, exact.refund_minor, exact.flagged) == (
        Outcome.MATCHED,
        DUE,
        0,
        False,
    )
    assert exact.case_change is not None
    assert (exact.case_change.case_status, exact.case_change.paid_minor) == (CaseStatus.PAID, DUE)
    over = reconcile(OPEN, DUE + 5_000, DUE)
    assert (over.outcome, over.refund_minor) == (Outcome.MATCHED, 5_000)
    assert over.case_change is not None and over.case_change.paid_minor == DUE + 5_000


def test_less_than_due_is_kept_on_the_case_and_flagged() -> None:
    short = reconcile(OPEN, DUE - 1, DUE)
    assert (short.outcome, short.refund_minor, short.flagged) == (Outcome.WRONG_AMOUNT, 0, True)
    assert short.case_change is not None
    assert short.case_change.case_status is CaseStatus.UNDERPAID
    # The rest paid later settles it: what was paid before counts.
    underpaid = replace(OPEN, status=CaseStatus.UNDERPAID, paid_minor=DUE - 1)
    rest = reconcile(underpaid, 1, DUE)
    assert (rest.outcome, rest.due_minor, rest.refund_minor) == (Outcome.MATCHED, 1, 0)


def test_a_payment_after_the_hand_over_recalls_the_case_from_the_bailiffs() -> None:
    sent = replace(OPEN, status=CaseStatus.SENT_TO_BAILIFFS)
    result = reconcile(sent, DUE * 2, DUE * 2)
    assert result.outcome is Outcome.MATCHED
    assert result.case_change is not None and result.case_change.recall is RecallReason.PAID


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (CaseStatus.CANCELLED, Outcome.CASE_CANCELLED),
        (CaseStatus.PAID, Outcome.CASE_CLOSED),
        (CaseStatus.EXPIRED, Outcome.CASE_CLOSED),
    ],
)
def test_a_payment_for_a_closed_case_changes_nothing_and_is_refunded_whole(
    status: CaseStatus, outcome: Outcome
) -> None:
    result = reconcile(replace(OPEN, status=status), DUE, DUE)
    assert (result.outcome, result.refund_minor, result.case_change, result.flagged) == (
        outcome,
        DUE,
        None,
        True,
    )


def test_unknown_and_appealed_cases_keep_the_money_for_a_supervisor() -> None:
    unknown = reconcile(None, DUE, 0)
    assert (unknown.outcome, unknown.due_minor, unknown.refund_minor) == (
        Outcome.UNKNOWN_CASE,
        None,
        0,
    )
    appealed = reconcile(OPEN, DUE, DUE, under_appeal=True)
    assert (appealed.outcome, appealed.case_change, appealed.refund_minor, appealed.flagged) == (
        Outcome.CASE_APPEALED,
        None,
        0,
        True,
    )
    with pytest.raises(InvalidInput):
        reconcile(OPEN, 0, DUE)


def test_the_case_number_is_found_in_what_the_payer_typed() -> None:
    assert case_number_in("Штраф по делу kz-gp-2025-0000042, спасибо") == "KZ-GP-2025-0000042"
    assert case_number_in("Айыппұл KZ-GP-R00000417") == "KZ-GP-R00000417"
    assert case_number_in("KZ-GP-2025-00000421") is None  # one digit too many
    assert case_number_in("Оплата за парковку") is None


def test_a_second_report_is_compared_with_the_first() -> None:
    first = ReportedFacts("KZ-GP-2025-0000001", DUE, "KZT")
    assert discrepancy(first, ReportedFacts("kz-gp-2025-0000001 ", DUE, "KZT")) == []
    assert discrepancy(first, ReportedFacts("KZ-GP-2025-0000002", DUE + 1, "KZT")) == [
        "case_number",
        "amount_minor",
    ]
