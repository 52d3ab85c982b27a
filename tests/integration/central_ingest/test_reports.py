from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from central_ingest.cli.ops import ops_app
from central_ingest.core.clock import iso
from central_ingest.reports import dead_letter_summary, removal_report, unmatched_payments_report
from central_ingest.store.db import Store, open_store
from tests.support.stores import registry_target

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")

T0 = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
SUSPICIOUS_PLATE = "777SUS01"


class RegistryRows:
    """Writes fixations, cases and cancellation requests straight into the tables, as the case
    lifecycle would have left them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._serial = itertools.count(1)
        with store.transaction() as db:
            for device, kind in (
                ("cam-1", "camera"),
                ("cam-2", "camera"),
                ("cam-3", "camera"),
                ("term-1", "terminal"),
            ):
                db.conn.execute(
                    "INSERT INTO devices (device_id, kind, public_key, registered_at)"
                    " VALUES (?, ?, 'k', ?)",
                    (device, kind, iso(T0)),
                )
            for username, role in (
                ("rev-a", "reviewer"),
                ("rev-b", "reviewer"),
                ("rev-c", "reviewer"),
                ("sup-1", "supervisor"),
                ("sup-2", "supervisor"),
            ):
                db.conn.execute(
                    "INSERT INTO operators (username, display_name, role, password_hash,"
                    " created_at) VALUES (?, ?, ?, 'x', ?)",
                    (username, username, role, iso(T0)),
                )

    def _message(self, device: str, at: datetime) -> str:
        message_id = str(uuid.uuid4())
        self.store.db.conn.execute(
            "INSERT INTO messages VALUES (?, ?, 'fixation', 'mqtt', ?, 'h', '{}')",
            (message_id, device, iso(at)),
        )
        return message_id

    def fixation(
        self,
        plate: str,
        camera: str,
        officer: str | None,
        outcome: str,
        *,
        reason: str | None = None,
        corrected_plate: str | None = None,
        cancel_by: tuple[str, str] | None = None,
        cancel_status: str = "approved",
    ) -> str:
        """outcome: awaiting_review, rejected or confirmed; confirmed opens a case, and
        ``cancel_by`` = (requester, supervisor) adds a cancellation request for it."""
        serial = next(self._serial)
        at = T0 + timedelta(minutes=serial)
        fixation_id = str(uuid.uuid4())
        with self.store.transaction() as db:
            db.conn.execute(
                "INSERT INTO fixations (fixation_id, message_id, device_id, sequence,"
                " captured_at, received_at, violation, plate_text, plate_confidence,"
                " plate_format, zone, status, decided_at, decided_by, reject_reason,"
                " corrected_plate) VALUES (?, ?, ?, ?, ?, ?, 'speeding', ?, 0.9, 'kz_person',"
                " 'zone', ?, ?, ?, ?, ?)",
                (
                    fixation_id,
                    self._message(camera, at),
                    camera,
                    serial,
                    iso(at),
                    iso(at),
                    plate,
                    outcome,
                    None if officer is None else iso(at),
                    officer,
                    reason,
                    corrected_plate,
                ),
            )
            if outcome != "confirmed":
                return fixation_id
            case_number = f"KZ-GP-2026-{serial:07d}"
            db.conn.execute(
                "INSERT INTO cases (case_number, fixation_id, plate, violation, article, part,"
                " offence_at, mrp_kzt, fine_mrp, fine_minor, discount_percent, resolution_at,"
                " resolved_by, discount_deadline, entry_into_force, voluntary_deadline,"
                " limitation_at, status, updated_at) VALUES (?, ?, ?, 'speeding', '592', '1', ?,"
                " 4325, 5, 2162500, 50, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    case_number,
                    fixation_id,
                    corrected_plate or plate,
                    iso(at),
                    iso(at),
                    officer,
                    iso(at),
                    iso(at),
                    iso(at),
                    iso(at),
                    "cancelled" if cancel_by and cancel_status == "approved" else "open",
                    iso(at),
                ),
            )
            if cancel_by is not None:
                requester, supervisor = cancel_by
                decided = cancel_status != "pending"
                db.conn.execute(
                    "INSERT INTO cancellation_requests (case_number, requested_by, requested_at,"
                    " reason, status, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        case_number,
                        requester,
                        iso(at),
                        reason or "no reason",
                        cancel_status,
                        supervisor if decided else None,
                        iso(at) if decided else None,
                    ),
                )
        return fixation_id


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A registry where one car's fines are nearly always removed, one camera misfires, and
    everything else is removed at an ordinary rate."""
    store = open_store(registry_target(tmp_path / "registry.sqlite3"))
    registry = RegistryRows(store)
    # The suspicious car: 10 fixations, 1 rejected, 8 of the 9 cases cancelled on rev-a's request.
    registry.fixation(SUSPICIOUS_PLATE, "cam-1", "rev-a", "rejected", reason="plate_unreadable")
    registry.fixation("777SUS0I", "cam-1", "rev-a", "confirmed", corrected_plate=SUSPICIOUS_PLATE)
    for index in range(8):
        registry.fixation(
            SUSPICIOUS_PLATE,
            "cam-2",
            "rev-b",
            "confirmed",
            reason="documents presented" if index < 6 else "owner disputes",
            cancel_by=("rev-a", "sup-1"),
        )
    # One removal of one: could be chance.
    registry.fixation("100ONE02", "cam-1", "rev-b", "rejected", reason="vehicle_mismatch")
    # Ordinary traffic: 30 cars, 4 fixations each, one in ten rejected.
    for car, index in itertools.product(range(30), range(4)):
        rejected = (car * 4 + index) % 10 == 0
        registry.fixation(
            f"{car + 200}ORD03",
            "cam-1" if car % 2 else "cam-2",
            "rev-c" if index % 2 else "rev-b",
            "rejected" if rejected else "confirmed",
            reason="other" if rejected else None,
        )
    # A camera that triggers falsely: 12 of 20 rejected.
    for index in range(20):
        false_trigger = index < 12
        registry.fixation(
            f"{index + 500}CAM04",
            "cam-3",
            "rev-c",
            "rejected" if false_trigger else "confirmed",
            reason="sensor_false_trigger" if false_trigger else None,
        )
    # Requests that did not remove anything: denied by sup-2, and one still pending.
    for _ in range(2):
        registry.fixation(
            "300DEN05",
            "cam-2",
            "rev-b",
            "confirmed",
            reason="please",
            cancel_by=("rev-b", "sup-2"),
            cancel_status="denied",
        )
    registry.fixation(
        "300DEN05",
        "cam-2",
        "rev-b",
        "confirmed",
        reason="later",
        cancel_by=("rev-c", "sup-2"),
        cancel_status="pending",
    )
    registry.fixation("400NEW06", "cam-2", None, "awaiting_review")
    return store


def test_the_car_whose_fines_are_always_removed_comes_first(store: Store) -> None:
    report = removal_report(store, "plate", min_events=1)
    assert report[0]["key"] == SUSPICIOUS_PLATE
    keys = [row["key"] for row in report]
    assert keys.index("100ONE02") < keys.index("200ORD03")  # 1 of 1 above 1 of 4
    top = report[0]
    assert {
        name: top[name]
        for name in ("fixations", "confirmed", "rejected", "cancelled", "events", "removed")
    } == {
        "fixations": 10,
        "confirmed": 9,
        "rejected": 1,
        "cancelled": 8,
        "events": 10,
        "removed": 9,
    }
    assert top["removal_rate"] == 0.9
    assert top["rejection_reasons"] == {"plate_unreadable": 1}
    assert top["cancellation_reasons"] == {"documents presented": 6, "owner disputes": 2}
    assert top["score"] > 0 > report[-1]["score"]
    assert [row["score"] for row in report] == sorted(
        (row["score"] for row in report), reverse=True
    )


def test_small_groups_are_left_out_and_the_limit_applies(store: Store) -> None:
    keys = [row["key"] for row in removal_report(store, "plate", min_events=3)]
    assert "100ONE02" not in keys and SUSPICIOUS_PLATE in keys
    # 400NEW06 has no decided fixation yet: nothing to judge.
    assert "400NEW06" not in [row["key"] for row in removal_report(store, "plate", min_events=1)]
    assert len(removal_report(store, "plate", limit=2)) == 2


def test_denied_and_pending_requests_remove_nothing(store: Store) -> None:
    (row,) = [row for row in removal_report(store, "plate") if row["key"] == "300DEN05"]
    assert (row["confirmed"], row["cancelled"], row["removed"]) == (3, 0, 0)
    assert row["cancellation_reasons"] == {}


def test_the_misfiring_camera_comes_first_with_its_reasons(store: Store) -> None:
    report = removal_report(store, "camera")
    assert report[0]["key"] == "cam-3"
    assert report[0]["rejection_reasons"] == {"sensor_false_trigger": 12}
    assert (report[0]["events"], report[0]["removed"]) == (20, 12)
    assert {row["key"] for row in report} == {"cam-1", "cam-2", "cam-3"}


def test_officers_are_judged_on_their_own_actions(store: Store) -> None:
    report = {row["key"]: row for row in removal_report(store, "officer", min_events=1)}
    rev_a, sup_1, sup_2 = report["rev-a"], report["sup-1"], report["sup-2"]
    # rev-a: 2 decisions (1 rejection) + 8 cancellation requests, all approved.
    assert (
        rev_a["fixations"],
        rev_a["rejected"],
        rev_a["cancellations_requested"],
        rev_a["events"],
        rev_a["removed"],
    ) == (2, 1, 8, 10, 9)
    # sup-1 approved every request put to it; sup-2 denied both and has one pending.
    assert (sup_1["cancellations_approved"], sup_1["events"], sup_1["removed"]) == (8, 8, 8)
    assert (sup_2["cancellations_approved"], sup_2["events"], sup_2["removed"]) == (0, 2, 0)
    assert sup_1["cancellation_reasons"] == {"documents presented": 6, "owner disputes": 2}
    ranked = list(report)
    assert set(ranked[:2]) == {"rev-a", "sup-1"}
    assert ranked.index("rev-c") > 1 and ranked.index("sup-2") > 1


def test_unknown_dimension_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="plate, officer or camera"):
        removal_report(store, "colour")  # type: ignore[arg-type]


def add_payment(
    store: Store,
    case_number: str,
    status: str,
    amount: int,
    due: int | None,
    matched: str | None = None,
) -> None:
    at = T0 + timedelta(hours=len(list(store.db.query("SELECT 1 FROM payments"))))
    with store.transaction() as db:
        message_id = str(uuid.uuid4())
        db.conn.execute(
            "INSERT INTO messages VALUES (?, 'term-1', 'payment', 'mqtt', ?, 'h', '{}')",
            (message_id, iso(at)),
        )
        db.conn.execute(
            "INSERT INTO payments (payment_id, message_id, device_id, case_number, matched_case,"
            " amount_minor, currency, paid_at, received_at, channel, rrn, due_minor,"
            " match_status) VALUES (?, ?, 'term-1', ?, ?, ?, 'KZT', ?, ?, 'terminal', '123', ?,"
            " ?)",
            (
                str(uuid.uuid4()),
                message_id,
                case_number,
                matched,
                amount,
                iso(at),
                iso(at),
                due,
                status,
            ),
        )


def test_payments_needing_follow_up_are_listed_oldest_first(store: Store) -> None:
    case_number = store.db.conn.execute(
        "SELECT case_number FROM cases WHERE status = 'open' LIMIT 1"
    ).fetchone()[0]
    add_payment(store, case_number, "settled", 1081250, 1081250, case_number)
    add_payment(store, "KZ-GP-2026-9999999", "unknown_case", 500000, None)
    add_payment(store, case_number, "underpaid", 100000, 1081250, case_number)
    report = unmatched_payments_report(store)
    assert [(row["match_status"], row["case_number"]) for row in report] == [
        ("unknown_case", "KZ-GP-2026-9999999"),
        ("underpaid", case_number),
    ]
    assert report[1]["difference_minor"] == -981250 and report[1]["case_status"] == "open"
    assert report[0]["due_minor"] is None and report[0]["matched_case"] is None


def test_dead_letters_are_counted_by_reason(store: Store) -> None:
    with store.transaction() as db:
        for reason, device, retryable in (
            ("bad_signature", "cam-1", 0),
            ("bad_signature", "cam-2", 0),
            ("evidence_missing", "cam-1", 1),
        ):
            db.conn.execute(
                "INSERT INTO dead_letters (received_at, channel, device_id, reason, detail,"
                " retryable, payload) VALUES (?, 'mqtt', ?, ?, 'd', ?, ?)",
                (iso(T0), device, reason, retryable, b"\x00"),
            )
    summary = dead_letter_summary(store)
    assert [(row["reason"], row["count"], row["retryable"], row["devices"]) for row in summary] == [
        ("bad_signature", 2, 0, 2),
        ("evidence_missing", 1, 1, 1),
    ]


def test_dead_letters_are_counted_by_source_on_the_command_line(
    store: Store, tmp_path: Path
) -> None:
    with store.transaction() as db:
        for source, signed, minute in (
            ("203.0.113.7", 0, 1),
            ("203.0.113.7", 0, 2),
            ("203.0.113.7", 0, 3),
            ("mqtt:astana:cam-1", 1, 4),
            (None, 0, 5),
        ):
            db.conn.execute(
                "INSERT INTO dead_letters (received_at, channel, device_id, reason, detail,"
                " retryable, payload, source, signed) VALUES (?, 'http', 'cam-1',"
                " 'bad_signature', 'd', 0, ?, ?, ?)",
                (iso(T0 + timedelta(minutes=minute)), b"\x00", source, signed),
            )
    runner = CliRunner()
    common = ["--data-dir", str(tmp_path)]
    result = runner.invoke(ops_app, ["report-dead-letters", "--by-source", "--json", *common])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(row["source"], row["count"], row["signed"]) for row in rows] == [
        ("203.0.113.7", 3, 0),
        ("", 1, 0),
        ("mqtt:astana:cam-1", 1, 1),
    ]
    assert rows[0]["first_received_at"] == iso(T0 + timedelta(minutes=1))
    assert rows[0]["last_received_at"] == iso(T0 + timedelta(minutes=3))
    limited = runner.invoke(
        ops_app, ["report-dead-letters", "--by-source", "--limit", "1", "--json", *common]
    )
    assert [row["source"] for row in json.loads(limited.output)] == ["203.0.113.7"]
    table = runner.invoke(
        ops_app, ["report-dead-letters", "--by-source", *common], env={"COLUMNS": "200"}
    )
    assert table.exit_code == 0, table.output
    assert "203.0.113.7" in table.output and "mqtt:astana:cam-1" in table.output


def test_report_commands_print_tables_and_json(store: Store, tmp_path: Path) -> None:
    runner = CliRunner()
    common = ["--data-dir", str(tmp_path)]
    result = runner.invoke(ops_app, ["report-removals", "--by", "camera", "--json", *common])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == removal_report(store, "camera", limit=50)
    result = runner.invoke(
        ops_app, ["report-removals", "--by", "plate", *common], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 0, result.output
    assert SUSPICIOUS_PLATE in result.output and "documents presented (6)" in result.output
    # In the registry's language (ru unless configured): the title, the rejection reason by its
    # label (cancellation reasons are the officers' own words, shown as written).
    assert "Снятые штрафы" in result.output
    assert "номерной знак не читается (1)" in result.output
    assert "plate_unreadable" not in result.output
    english = runner.invoke(
        ops_app,
        ["report-removals", "--by", "plate", *common],
        env={"COLUMNS": "400", "ERAP_LANGUAGE": "en"},
    )
    assert "Removed fines" in english.output and "plate unreadable (1)" in english.output
    result = runner.invoke(ops_app, ["report-payments", "--json", *common])
    assert result.exit_code == 0 and json.loads(result.output) == []
    result = runner.invoke(ops_app, ["report-removals", "--by", "colour", *common])
    assert result.exit_code != 0


@pytest.mark.sqlite_only
def test_reports_refuse_a_data_directory_without_a_registry(tmp_path: Path) -> None:
    command = ["report-payments", "--data-dir", str(tmp_path / "elsewhere")]
    # The registry's configured language (ru by default), or the one ERAP_LANGUAGE names.
    in_russian = CliRunner().invoke(ops_app, command)
    in_english = CliRunner().invoke(ops_app, command, env={"ERAP_LANGUAGE": "en"})
    assert in_russian.exit_code == in_english.exit_code == 2
    assert "Базы данных реестра нет по пути" in in_russian.output
    assert "There is no registry database at" in in_english.output
    assert not (tmp_path / "elsewhere").exists()
