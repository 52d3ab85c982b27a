"""The ledger folded into a row's expected state (``audit.recorded``): the last entry recording
a field wins, an entry from before a field joined its payload leaves that field uncompared,
and an unreadable entry leaves nothing to compare after it."""

from __future__ import annotations

import json

from central_ingest.audit.recorded import case_recorded, fixation_recorded


def _entry(seq: int, action: str, actor: str, **payload: object) -> tuple[int, str, str, str]:
    return seq, action, actor, json.dumps(payload)


RECEIVED = _entry(
    1,
    "received",
    "device:cam-1",
    status="awaiting_review",
    plate="123ABC01",
    violation="speeding",
    captured_at="2025-03-10T06:00:00+00:00",
    envelope_sha256="ab" * 32,
)


def test_a_fixation_received_then_rejected_records_its_reading_and_decision() -> None:
    recorded = fixation_recorded(
        [
            RECEIVED,
            _entry(
                2,
                "rejected",
                "officer:olga",
                status="rejected",
                officer="olga",
                reason="plate_unreadable",
            ),
        ]
    )
    assert recorded.values == {
        "status": "rejected",
        "plate_text": "123ABC01",
        "violation": "speeding",
        "captured_at": "2025-03-10T06:00:00+00:00",
        "device_id": "cam-1",
        "decided_by": "olga",
        "reject_reason": "plate_unreadable",
        "corrected_plate": None,
    }
    assert recorded.seqs["decided_by"] == 2 and recorded.seqs["plate_text"] == 1
    assert recorded.envelope_sha256 == "ab" * 32
    assert recorded.entries_before_full_payloads == 0


def test_a_pending_fixation_is_recorded_as_undecided() -> None:
    recorded = fixation_recorded([RECEIVED])
    assert recorded.values["decided_by"] is None
    assert recorded.values["reject_reason"] is None
    assert recorded.values["corrected_plate"] is None


def test_a_decision_from_before_the_officer_joined_its_payload_leaves_the_officer_unknown() -> None:
    """The receipt recorded "nobody decided"; an old confirmation that does not name its officer
    must not leave that standing, or every decided row would look edited."""
    recorded = fixation_recorded(
        [
            RECEIVED,
            _entry(2, "confirmed", "officer:olga", status="confirmed"),
        ]
    )
    assert "decided_by" not in recorded.values
    assert "corrected_plate" not in recorded.values
    assert recorded.values["status"] == "confirmed"
    assert recorded.entries_before_full_payloads == 1


def test_an_unreadable_entry_leaves_nothing_to_compare_until_the_next_one() -> None:
    recorded = case_recorded(
        [
            _entry(1, "opened", "officer:olga", status="open", paid_minor=0, fine_minor=4325000),
            (2, "paid", "device:term-1", '{"status": '),
        ]
    )
    assert recorded.values == {}
    recorded = case_recorded(
        [
            (1, "opened", "officer:olga", "not json"),
            _entry(2, "paid", "device:term-1", status="paid", paid_minor=4325000),
        ]
    )
    assert recorded.values == {"status": "paid", "paid_minor": 4325000}


def test_an_old_case_opening_names_its_officer_through_its_actor() -> None:
    recorded = case_recorded(
        [
            _entry(
                1,
                "opened",
                "officer:olga",
                status="open",
                paid_minor=0,
                plate="123ABC01",
                fine_minor=4325000,
            ),
            _entry(2, "paid", "device:term-1", status="paid", paid_minor=4325000),
        ]
    )
    assert recorded.values["resolved_by"] == "olga"
    assert recorded.values["plate"] == "123ABC01"
    assert recorded.values["paid_minor"] == 4325000 and recorded.seqs["paid_minor"] == 2
    assert "discount_percent" not in recorded.values
    assert recorded.entries_before_full_payloads == 1  # the opening lacks most of its terms
