"""The terminal's local files on a real disk: the journal (SQLite) keeps payments, reversals
and their outcome messages untranslated across a restart; the example configuration loads; a
printer device that does not exist, or a configuration that cannot be used, is a sentence for
the officer in his language, not a crash."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import terminal
from i18n import Text, translator
from terminal.cli import app
from terminal.config import configured_language, load_config
from terminal.journal import Journal, PaymentState, ReversalState
from terminal.payment_device import RESTARTED
from terminal.receipt import EscposReceiptPrinter, PrinterUnavailable
from tests.support.receipts import sample_receipt

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_journal_accepts_a_payment_id_once_and_wraps_the_stan(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "t.db")
    assert journal.start("p1", "KZ-1", 100, NOW)
    assert not journal.start("p1", "KZ-1", 100, NOW)
    journal._conn.execute("INSERT INTO counters (name, value) VALUES ('stan', 999999)")
    assert journal.next_stan() == "000001"


def test_journal_finds_authorisations_in_doubt_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    journal = Journal(path)
    journal.start("p1", "KZ-1", 100, NOW)
    journal.arm_reversal("p1", "000001", NOW, 100, NOW)
    journal.close()
    reopened = Journal(path)
    assert [row.payment_id for row in reopened.in_doubt()] == ["p1"]
    reopened.reversal_due("p1", "68", RESTARTED, NOW)
    assert [r.payment_id for r in reopened.due_reversals()] == ["p1"]
    done = Text(
        "%(cause)s The bank confirmed the cancellation: nothing was charged.", cause=RESTARTED
    )
    reopened.reversal_acknowledged("p1", done, NOW)
    row = reopened.payment("p1")
    assert row is not None and row.state is PaymentState.REVERSED
    assert reopened.reversal_state("p1") is ReversalState.ACKNOWLEDGED
    assert reopened.due_reversals() == [] and reopened.in_doubt() == []


def test_an_outcome_survives_a_restart_untranslated_and_reads_in_each_language(
    tmp_path: Path,
) -> None:
    """The outcome is stored as its message id and parameters (nested sentences too), so the
    officer who asks again reads it in his language, whoever was on shift before."""
    path = tmp_path / "t.db"
    journal = Journal(path)
    journal.start("p1", "KZ-1", 100, NOW)
    declined = Text(
        "The bank declined the card (response code %(code)s): ask for another card. Nothing"
        " was charged.",
        code="05",
    )
    journal.update("p1", PaymentState.NOT_CHARGED, NOW, message=declined)
    journal.close()

    stored = sqlite3.connect(path).execute("SELECT message FROM payments").fetchone()[0]
    assert "response code %(code)s" in stored and "05" in stored  # the id, not a rendering

    row = Journal(path).payment("p1")
    assert row is not None and row.message == declined
    assert translator("terminal", "ru").text(row.message) == (
        "Банк отклонил карту (код ответа 05): попросите другую карту. Деньги не списаны."
    )
    assert translator("terminal", "kk").text(row.message) == (
        "Банк картаны қабылдамады (жауап коды 05): басқа карта сұраңыз. Ақша алынбады."
    )


def test_an_english_outcome_of_an_older_journal_reads_as_it_was_written(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    Journal(path).start("p1", "KZ-1", 100, NOW)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE payments SET message = 'The card has expired.'")
    row = Journal(path).payment("p1")
    assert row is not None and row.message is not None
    assert translator("terminal", "ru").text(row.message) == "The card has expired."


def test_the_example_configuration_loads() -> None:
    path = Path(terminal.__file__).parent / "terminal.example.toml"
    config = load_config(path)
    assert config.payment_device == "ecr" and config.ecr is not None and config.emv is not None
    assert config.language == "ru" and config.printer_profile == "default"
    assert isinstance(config.agency, dict) and set(config.agency) == {"kk", "ru", "en"}


def test_a_broken_configuration_is_refused_in_the_language_it_names(tmp_path: Path) -> None:
    path = tmp_path / "terminal.toml"
    path.write_text('language = "kk"\nprinter_baudrate = "fast"\n', encoding="utf-8")
    assert configured_language(path) == "kk"
    path.write_text("language = [", encoding="utf-8")
    assert configured_language(path) == "ru"  # unreadable: the default


def test_a_missing_printer_is_a_message_not_a_crash(tmp_path: Path) -> None:
    device = tmp_path / "no-such-tty"
    printer = EscposReceiptPrinter(str(device))
    with pytest.raises(PrinterUnavailable, match="the payment is recorded") as raised:
        printer.print_receipt(sample_receipt(), "ru")
    assert translator("terminal", "kk").text(raised.value.text) == (
        f"{device} құрылғысындағы түбіртек принтері жауап бермеді: төлем тіркелді; принтерді"
        " тексеріп, түбіртекті қайта басып шығарыңыз."
    )


def test_the_command_line_refuses_a_broken_configuration_in_the_officers_language(
    tmp_path: Path,
) -> None:
    path = tmp_path / "terminal.toml"
    path.write_text('language = "kk"\nprinter_profile = "no-such-printer"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["find", "--plate", "123ABC01", "--config", str(path)])
    assert result.exit_code == 2
    shown = " ".join(result.output.split())  # Rich wraps at the console's width
    assert shown.startswith(f"{path} терминал конфигурациясын пайдалану мүмкін емес:")
    assert "printer_profile: Value error, no printer profile 'no-such-printer'" in shown
