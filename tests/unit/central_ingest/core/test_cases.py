"""The pure case state machine: decisions, transitions, payments, hand-over, cancellation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central_ingest.core.cases import (
    CASE_TRANSITIONS,
    CancellationStatus,
    CaseState,
    CaseStatus,
    FixationStatus,
    PaymentMatch,
    RecallReason,
    RejectReason,
    apply_payment,
    check_cancellation_decision,
    check_cancellation_request,
    check_transition,
    confirmation,
    expire,
    hand_over,
    handover_refusal,
    normalise_plate,
    recall_reason_on_close,
    rejection,
    require_awaiting_review,
)
from central_ingest.core.errors import Conflict, Forbidden, InvalidInput

VOLUNTARY = datetime(2025, 4, 19, 6, 0, tzinfo=UTC)
LIMITATION = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)
OVERDUE = VOLUNTARY + timedelta(days=1)
OPEN = CaseState(
    case_number="KZ-GP-2025-0000001",
    status=CaseStatus.OPEN,
    paid_minor=0,
    has_debtor=True,
    voluntary_deadline=VOLUNTARY,
    limitation_at=LIMITATION,
)


# --- fixation decisions ----------------------------------------------------------------------


def test_only_a_fixation_awaiting_review_can_be_decided() -> None:
    require_awaiting_review("f-1", FixationStatus.AWAITING_REVIEW)
    for decided in (FixationStatus.CONFIRMED, FixationStatus.REJECTED):
        with pytest.raises(Conflict) as refused:
            require_awaiting_review("f-1", decided)
        assert refused.value.code == "fixation_already_decided"
        assert decided.value in refused.value.message


def test_the_reject_reasons_are_the_fixed_list() -> None:
    assert [reason.value for reason in RejectReason] == [
        "plate_unreadable",
        "vehicle_mismatch",
        "emergency_vehicle",
        "sensor_false_trigger",
        "wrong_lane_attribution",
        "duplicate_event",
        "other",
    ]


def test_a_confirmation_records_officer_time_and_note() -> None:
    decision = confirmation(read_plate="123ABC01", officer="aigerim", seconds_spent=11, note=" ok ")
    assert (decision.officer, decision.seconds_spent, decision.note) == ("aigerim", 11.0, "ok")
    assert decision.plate("123ABC01") == "123ABC01" and decision.corrected_plate is None


def test_a_corrected_plate_needs_a_reason_and_must_differ() -> None:
    with pytest.raises(InvalidInput) as no_reason:
        confirmation(
            read_plate="123A8C01", officer="a", seconds_spent=1, corrected_plate="123ABC01"
        )
    assert no_reason.value.code == "correction_reason_required"
    with pytest.raises(InvalidInput) as unchanged:
        confirmation(
            read_plate="123ABC01",
            officer="a",
            seconds_spent=1,
            corrected_plate="123 abc 01",
            correction_reason="typo",
        )
    assert unchanged.value.code == "correction_unchanged"
    with pytest.raises(InvalidInput) as reason_only:
        confirmation(read_plate="123ABC01", officer="a", seconds_spent=1, correction_reason="x")
    assert reason_only.value.code == "correction_reason_without_correction"
    decision = confirmation(
        read_plate="123A8C01",
        officer="a",
        seconds_spent=1,
        corrected_plate="123 АВС 01",
        correction_reason="B read as 8",
    )
    assert decision.plate("123A8C01") == "123ABC01"


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf")])
def test_time_spent_must_be_a_real_duration(seconds: float) -> None:
    with pytest.raises(InvalidInput):
        confirmation(read_plate="123ABC01", officer="a", seconds_spent=seconds)
    with pytest.raises(InvalidInput):
        rejection(officer="a", reason=RejectReason.PLATE_UNREADABLE, seconds_spent=seconds)


def test_a_decision_names_its_officer() -> None:
    with pytest.raises(InvalidInput) as refused:
        rejection(officer=" ", reason=RejectReason.PLATE_UNREADABLE, seconds_spent=1)
    assert refused.value.code == "officer_required"


def test_reason_other_needs_a_note_the_others_do_not() -> None:
    with pytest.raises(InvalidInput):
        rejection(officer="a", reason=RejectReason.OTHER, note="  ", seconds_spent=1)
    explained = rejection(officer="a", reason=RejectReason.OTHER, note="glare", seconds_spent=1)
    assert explained.note == "glare"
    assert rejection(officer="a", reason=RejectReason.EMERGENCY_VEHICLE, seconds_spent=1).note == ""


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("123 abc 01", "123ABC01"), ("123-AB-02", "123AB02"), ("777 КОР 05", "777KOP05")],
)
def test_plates_are_normalised(typed: str, stored: str) -> None:
    assert normalise_plate(typed) == stored


@pytest.mark.parametrize("typed", ["", "1", "123 ABC 01 EXTRA LONG", "12#AB"])
def test_impossible_plates_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_plate(typed)


# --- transitions -----------------------------------------------------------------------------


def test_closed_statuses_lead_nowhere() -> None:
    for status in (CaseStatus.PAID, CaseStatus.CANCELLED, CaseStatus.EXPIRED):
        assert status.closed and not status.unexecuted
        for target in CaseStatus:
            with pytest.raises(Conflict):
                check_transition("c", status, target)


def test_an_underpaid_case_can_never_go_to_bailiffs() -> None:
    assert CaseStatus.SENT_TO_BAILIFFS not in CASE_TRANSITIONS[CaseStatus.UNDERPAID]
    with pytest.raises(Conflict):
        check_transition("c", CaseStatus.UNDERPAID, CaseStatus.SENT_TO_BAILIFFS)
    check_transition("c", CaseStatus.OPEN, CaseStatus.SENT_TO_BAILIFFS)


# --- hand-over and limitation ----------------------------------------------------------------


def test_an_overdue_unpaid_open_case_goes_to_bailiffs() -> None:
    assert hand_over(OPEN, OVERDUE) is CaseStatus.SENT_TO_BAILIFFS


@pytest.mark.parametrize(
    ("case", "now", "code"),
    [
        (replace(OPEN, paid_minor=1), OVERDUE, "paid_never_to_bailiffs"),
        (replace(OPEN, status=CaseStatus.PAID, paid_minor=100), OVERDUE, "paid_never_to_bailiffs"),
        (
            replace(OPEN, status=CaseStatus.UNDERPAID, paid_minor=50),
            OVERDUE,
            "paid_never_to_bailiffs",
        ),
        (replace(OPEN, status=CaseStatus.CANCELLED), OVERDUE, "case_transition_refused"),
        (replace(OPEN, status=CaseStatus.SENT_TO_BAILIFFS), OVERDUE, "case_transition_refused"),
        (OPEN, VOLUNTARY, "not_overdue"),
        (OPEN, LIMITATION, "limitation_reached"),
        (replace(OPEN, has_debtor=False), OVERDUE, "no_debtor"),
    ],
)
def test_hand_over_refuses(case: CaseState, now: datetime, code: str) -> None:
    refusal = handover_refusal(case, now)
    assert refusal is not None and refusal.code == code
    with pytest.raises(Conflict) as refused:
        hand_over(case, now)
    assert refused.value.code == code


@given(
    paid=st.integers(min_value=1, max_value=10**9),
    status=st.sampled_from(list(CaseStatus)),
    days_after=st.integers(min_value=-400, max_value=400),
)
def test_no_case_with_money_on_it_is_ever_handed_over(
    paid: int, status: CaseStatus, days_after: int
) -> None:
    case = replace(OPEN, status=status, paid_minor=paid)
    with pytest.raises(Conflict):
        hand_over(case, VOLUNTARY + timedelta(days=days_after))


def test_expiry_at_the_limitation_for_unexecuted_cases_only() -> None:
    for status in (CaseStatus.OPEN, CaseStatus.UNDERPAID, CaseStatus.SENT_TO_BAILIFFS):
        assert expire(replace(OPEN, status=status), LIMITATION) is CaseStatus.EXPIRED
    with pytest.raises(Conflict) as early:
        expire(OPEN, LIMITATION - timedelta(microseconds=1))
    assert early.value.code == "limitation_not_reached"
    with pytest.raises(Conflict):
        expire(replace(OPEN, status=CaseStatus.PAID), LIMITATION)


# --- payments --------------------------------------------------------------------------------


def test_payment_for_an_unknown_case_is_kept_unmatched() -> None:
    outcome = apply_payment(None, 500, 0)
    assert outcome.match is PaymentMatch.UNKNOWN_CASE
    assert (outcome.case_status, outcome.paid_minor, outcome.due_minor) == (None, None, None)
    assert not outcome.changes_case


@pytest.mark.parametrize(
    ("amount", "match", "status"),
    [
        (999, PaymentMatch.UNDERPAID, CaseStatus.UNDERPAID),
        (1000, PaymentMatch.SETTLED, CaseStatus.PAID),
        (1001, PaymentMatch.OVERPAID, CaseStatus.PAID),
    ],
)
def test_payment_against_the_amount_due(
    amount: int, match: PaymentMatch, status: CaseStatus
) -> None:
    outcome = apply_payment(OPEN, amount, 1000)
    assert (outcome.match, outcome.case_status, outcome.paid_minor) == (match, status, amount)
    assert outcome.due_minor == 1000 and outcome.recall is None and outcome.changes_case


def test_a_top_up_counts_what_was_paid_before() -> None:
    underpaid = replace(OPEN, status=CaseStatus.UNDERPAID, paid_minor=500)
    outcome = apply_payment(underpaid, 500, 1000)
    assert (outcome.match, outcome.case_status, outcome.paid_minor) == (
        PaymentMatch.SETTLED,
        CaseStatus.PAID,
        1000,
    )
    assert outcome.due_minor == 500


@pytest.mark.parametrize("status", [CaseStatus.PAID, CaseStatus.CANCELLED, CaseStatus.EXPIRED])
def test_payment_on_a_closed_case_is_kept_for_a_refund(status: CaseStatus) -> None:
    closed = replace(OPEN, status=status, paid_minor=700)
    outcome = apply_payment(closed, 1000, 1000)
    assert outcome.match is PaymentMatch.CASE_CLOSED
    assert (outcome.case_status, outcome.paid_minor, outcome.due_minor) == (status, 700, 0)
    assert not outcome.changes_case


@pytest.mark.parametrize(
    ("amount", "status", "reason"),
    [
        (1000, CaseStatus.PAID, RecallReason.PAID),
        (400, CaseStatus.UNDERPAID, RecallReason.PARTIALLY_PAID),
    ],
)
def test_any_payment_after_hand_over_recalls_the_case(
    amount: int, status: CaseStatus, reason: RecallReason
) -> None:
    with_bailiffs = replace(OPEN, status=CaseStatus.SENT_TO_BAILIFFS)
    outcome = apply_payment(with_bailiffs, amount, 1000)
    assert outcome.match is PaymentMatch.AFTER_HANDOVER
    assert (outcome.case_status, outcome.recall) == (status, reason)


def test_a_payment_amount_is_positive() -> None:
    with pytest.raises(InvalidInput):
        apply_payment(OPEN, 0, 1000)


# --- cancellation ----------------------------------------------------------------------------


def test_a_cancellation_request_needs_a_reason_and_a_case_not_closed() -> None:
    assert check_cancellation_request("c", CaseStatus.OPEN, "  stolen car ") == "stolen car"
    with pytest.raises(InvalidInput):
        check_cancellation_request("c", CaseStatus.OPEN, " ")
    with pytest.raises(Conflict, match="refund"):
        check_cancellation_request("c", CaseStatus.PAID, "duplicate")
    for status in (CaseStatus.CANCELLED, CaseStatus.EXPIRED):
        with pytest.raises(Conflict) as refused:
            check_cancellation_request("c", status, "duplicate")
        assert refused.value.code == "case_closed"
    for status in (CaseStatus.UNDERPAID, CaseStatus.SENT_TO_BAILIFFS):
        check_cancellation_request("c", status, "wrong vehicle")


def test_a_cancellation_is_decided_once_by_someone_else() -> None:
    check_cancellation_decision(
        1, request_status=CancellationStatus.PENDING, requested_by="aigerim", supervisor="saule"
    )
    with pytest.raises(Forbidden) as same:
        check_cancellation_decision(
            1, request_status=CancellationStatus.PENDING, requested_by="saule", supervisor="saule"
        )
    assert same.value.code == "two_person_rule"
    for decided in (CancellationStatus.APPROVED, CancellationStatus.DENIED):
        with pytest.raises(Conflict):
            check_cancellation_decision(
                1, request_status=decided, requested_by="aigerim", supervisor="saule"
            )


def test_closing_a_case_the_bailiffs_hold_recalls_it() -> None:
    held = CaseStatus.SENT_TO_BAILIFFS
    assert recall_reason_on_close(held, CaseStatus.CANCELLED) is RecallReason.CANCELLED
    assert recall_reason_on_close(held, CaseStatus.EXPIRED) is RecallReason.LIMITATION_EXPIRED
    assert recall_reason_on_close(CaseStatus.OPEN, CaseStatus.CANCELLED) is None
    assert recall_reason_on_close(CaseStatus.UNDERPAID, CaseStatus.EXPIRED) is None
