"""The registry's PostgreSQL rules over the case lifecycle, on a real PostgreSQL 15: a paid
case never reaches the bailiffs, payments and hand-overs are kept, decisions are taken once and
by the right people, and a payment committed while a hand-over waits stops it. The schema's
tables, roles and append-only history are in test_schema.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg import errors

from central_ingest.store.postgres.connection import configure
from central_ingest.store.postgres.schema import (
    MIGRATIONS,
    migrate,
)
from tests.support.postgres import PostgresServer, RegistryDatabase
from tests.support.postgres_rows import (
    Rows,
    refused,
    wait_until_blocked,
)

NOW = datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
REFUSED_TO_BAILIFFS = "never handed to bailiffs|closed for good|only an unpaid case"


@pytest.fixture(scope="module")
def registry(postgres_server: PostgresServer) -> RegistryDatabase:
    database = RegistryDatabase(postgres_server, "schema_lifecycle_rules")
    with psycopg.connect(database.owner_url, autocommit=True) as conn:
        assert migrate(conn) == sorted(MIGRATIONS)
    return database


def _session(url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(url) as conn:
        configure(conn)
        try:
            yield conn
        finally:
            conn.rollback()


@pytest.fixture
def app(registry: RegistryDatabase) -> Iterator[psycopg.Connection[Any]]:
    """The application role, in a transaction rolled back after the test."""
    yield from _session(registry.app_url)


@pytest.fixture
def owner(registry: RegistryDatabase) -> Iterator[psycopg.Connection[Any]]:
    """The owner role (no privilege missing: only the triggers stand in its way)."""
    yield from _session(registry.owner_url)


# --- a paid case is never handed to bailiffs ------------------------------------------------------


def test_a_paid_case_is_never_moved_to_bailiffs_nor_handed_over(
    app: psycopg.Connection[Any],
) -> None:
    rows = Rows(app, NOW)
    paid = rows.case()
    rows.payment(paid)
    refused(
        app,
        REFUSED_TO_BAILIFFS,
        "UPDATE cases SET status = 'sent_to_bailiffs' WHERE case_number = %s",
        paid,
    )
    refused(
        app,
        REFUSED_TO_BAILIFFS,
        "INSERT INTO bailiff_handovers (case_number, kind,"
        " amount_minor, recorded_at, document) VALUES (%s, 'handover', 1, %s, '{}')",
        paid,
        rows.at(),
    )
    # Money on the case itself, with no payment row: refused as well.
    with_money = rows.case()
    app.execute("UPDATE cases SET paid_minor = 100 WHERE case_number = %s", (with_money,))
    refused(
        app,
        "has a payment",
        "UPDATE cases SET status = 'sent_to_bailiffs' WHERE case_number = %s",
        with_money,
    )
    # Born with the bailiffs: refused.
    fixation = rows.fixation()
    rows.confirm(fixation)
    with pytest.raises(psycopg.IntegrityError, match="only from open"), app.transaction():
        rows.case(fixation, status="sent_to_bailiffs")


def test_an_unpaid_overdue_case_goes_to_bailiffs_and_can_be_recalled_once_paid(
    app: psycopg.Connection[Any],
) -> None:
    rows = Rows(app, NOW)
    case_number = rows.case()
    refused(
        app,
        "only a case handed to bailiffs",
        "INSERT INTO bailiff_handovers (case_number,"
        " kind, amount_minor, recorded_at, document) VALUES (%s, 'recall', 1, %s, '{}')",
        case_number,
        rows.at(),
    )
    refused(
        app,
        "only an unpaid case moved",
        "INSERT INTO bailiff_handovers (case_number, kind,"
        " amount_minor, recorded_at, document) VALUES (%s, 'handover', 1, %s, '{}')",
        case_number,
        rows.at(),
    )
    rows.to_bailiffs(case_number)
    handover = rows.handover(case_number)
    # The driver pays after the hand-over: the payment is kept, the bailiffs get a recall.
    rows.payment(case_number)
    recall = rows.handover(case_number, "recall")
    assert recall > handover


def test_bailiff_hand_overs_are_append_only(owner: psycopg.Connection[Any]) -> None:
    sentence = "bailiff hand-overs and recalls are append-only"
    rows = Rows(owner, NOW)
    case_number = rows.case()
    rows.to_bailiffs(case_number)
    rows.handover(case_number)
    refused(owner, sentence, "UPDATE bailiff_handovers SET amount_minor = 0")
    refused(owner, sentence, "DELETE FROM bailiff_handovers")
    refused(owner, sentence, "TRUNCATE bailiff_handovers")


def test_payments_are_never_deleted_altered_or_unmatched(owner: psycopg.Connection[Any]) -> None:
    rows = Rows(owner, NOW)
    case_number = rows.case()
    payment = rows.payment(case_number)
    refused(owner, "never deleted", "DELETE FROM payments WHERE payment_id = %s", payment)
    refused(owner, "never deleted", "TRUNCATE payments")
    refused(
        owner,
        "stays matched",
        "UPDATE payments SET matched_case = NULL WHERE payment_id = %s",
        payment,
    )
    refused(
        owner,
        "never altered",
        "UPDATE payments SET amount_minor = 1 WHERE payment_id = %s",
        payment,
    )
    # Matching an unmatched payment later is lawful.
    loose = rows.payment(None)
    owner.execute(
        "UPDATE payments SET matched_case = %s WHERE payment_id = %s", (case_number, loose)
    )


# --- decisions: once, by the right people ---------------------------------------------------------


def test_a_case_needs_a_confirmed_fixation_and_a_fixation_is_decided_once(
    app: psycopg.Connection[Any],
) -> None:
    rows = Rows(app, NOW)
    waiting = rows.fixation()
    with pytest.raises(psycopg.IntegrityError, match="officer confirmed"), app.transaction():
        rows.case(waiting)
    rows.confirm(waiting)
    rows.case(waiting)
    refused(
        app,
        "decided once",
        "UPDATE fixations SET status = 'rejected',"
        " reject_reason = 'plate_unreadable' WHERE fixation_id = %s",
        waiting,
    )
    refused(
        app, "decided once", "UPDATE fixations SET plate_text = 'X' WHERE fixation_id = %s", waiting
    )


def test_a_cancellation_is_decided_once_by_someone_other_than_its_requester(
    app: psycopg.Connection[Any],
) -> None:
    rows = Rows(app, NOW)
    case_number = rows.case()
    refused(
        app,
        "approved cancellation request",
        "UPDATE cases SET status = 'cancelled' WHERE case_number = %s",
        case_number,
    )
    request = rows.cancellation(case_number)
    with pytest.raises(errors.CheckViolation), app.transaction():
        rows.decide(request, by=rows.reviewer)  # the requester approving their own request
    with pytest.raises(errors.UniqueViolation), app.transaction():
        rows.cancellation(case_number)  # one pending request per case
    rows.decide(request, by=rows.supervisor)
    refused(
        app,
        "decided once",
        "UPDATE cancellation_requests SET status = 'denied' WHERE request_id = %s",
        request,
    )
    app.execute("UPDATE cases SET status = 'cancelled' WHERE case_number = %s", (case_number,))
    refused(
        app,
        "closed for good",
        "UPDATE cases SET status = 'open' WHERE case_number = %s",
        case_number,
    )


def test_a_double_review_is_decided_once(app: psycopg.Connection[Any]) -> None:
    rows = Rows(app, NOW)
    case_number = rows.case()
    fixation = app.execute(
        "SELECT fixation_id FROM cases WHERE case_number = %s", (case_number,)
    ).fetchone()
    assert fixation is not None
    app.execute(
        "INSERT INTO double_reviews (fixation_id, case_number, first_officer, first_plate,"
        " sampled_at) VALUES (%s, %s, %s, '123ABC01', %s)",
        (fixation[0], case_number, rows.reviewer, rows.at()),
    )
    with pytest.raises(errors.CheckViolation), app.transaction():
        app.execute("UPDATE double_reviews SET second_officer = first_officer")
    app.execute(
        "UPDATE double_reviews SET status = 'done', second_officer = %s, verdict = 'confirmed',"
        " second_plate = '123ABC01', agrees = 1, reviewed_at = %s WHERE case_number = %s",
        (rows.supervisor, rows.at(1), case_number),
    )
    refused(
        app,
        "a double review is decided once",
        "UPDATE double_reviews SET agrees = 0 WHERE case_number = %s",
        case_number,
    )


# --- concurrent writers --------------------------------------------------------------------------


def test_a_payment_committed_while_a_hand_over_waits_stops_the_hand_over(
    registry: RegistryDatabase,
) -> None:
    """Two writers on one case: the payment's transaction holds the case's row lock, the move
    to bailiffs waits for it, then sees the payment and is refused. Without that lock
    (payments_lock_case) the move would not wait, would not see the uncommitted payment, and
    both would commit: a paid case with the bailiffs."""
    with psycopg.connect(registry.app_url) as paying, psycopg.connect(registry.app_url) as jobs:
        rows = Rows(paying, NOW)
        case_number = rows.case()
        paying.commit()
        rows.payment(case_number)  # not committed yet

        outcome: list[psycopg.Error | None] = []

        def hand_over() -> None:
            try:
                jobs.execute(
                    "UPDATE cases SET status = 'sent_to_bailiffs' WHERE case_number = %s",
                    (case_number,),
                )
                jobs.commit()
                outcome.append(None)
            except psycopg.Error as error:
                jobs.rollback()
                outcome.append(error)

        worker = threading.Thread(target=hand_over)
        worker.start()
        wait_until_blocked(paying, jobs.info.backend_pid)
        paying.commit()
        worker.join(10)
        assert len(outcome) == 1
        assert isinstance(outcome[0], psycopg.IntegrityError)
        assert "never handed to bailiffs" in str(outcome[0])
        status = paying.execute(
            "SELECT status FROM cases WHERE case_number = %s", (case_number,)
        ).fetchone()
        assert status == ("open",)
