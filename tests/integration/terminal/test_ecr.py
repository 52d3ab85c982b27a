"""The bank-POS path, selected by configuration: the terminal drives the bank POS simulator
over a socat serial pair with the ECR protocol, prints on a pty printer and reports to the
registry. A lost answer is settled by asking the POS (STS), never by charging again. The
officer's command line speaks the configured language; the receipt is printed in the payer's."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
import uvicorn
from typer.testing import CliRunner

from contract import now_utc
from terminal.cli import app
from terminal.config import TerminalConfig
from terminal.ecr import EcrPosDevice
from terminal.journal import Journal, PaymentState
from terminal.paper import load_profile
from terminal.service import PaymentTerminal
from terminal.sim.escpos_reader import read_paper
from terminal.sim.harness import BankPos, PrinterPty, SocatPair, free_port
from terminal.wiring import build_terminal
from tests.support.api import ApiEnv, build_env

CUT = b"\x1dV\x00"


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[PrinterPty]:
    pty = PrinterPty(tmp_path).start()
    yield pty
    pty.stop()


Setup = tuple[ApiEnv, PaymentTerminal, Journal, Path]


@pytest.fixture
def ecr_terminal(tmp_path: Path, printer: PrinterPty) -> Iterator[Callable[[str], Setup]]:
    cleanups: list[Callable[[], None]] = []

    def make(mode: str) -> Setup:
        env = build_env(tmp_path / "registry")
        cable = SocatPair(tmp_path, "ecr").start()
        cleanups.append(cable.stop)
        journal_path = tmp_path / "pos.jsonl"
        pos = BankPos(cable.far, journal_path, mode).start()
        cleanups.append(pos.stop)
        config = TerminalConfig(
            device_id=env.world.terminal_id,
            terminal_id="T0000042",
            agency="Astana Police Department",
            registry_url="https://testserver",
            data_dir=tmp_path / "terminal",
            key_path=tmp_path / "terminal.key",
            printer_device=str(printer.device),
            payment_device="ecr",
            ecr={"port": str(cable.near), "answer_timeout_s": 1.0},
        )
        terminal, journal = build_terminal(config, key=env.world.terminal_key, http=env.client())
        cleanups.append(journal.close)
        return env, terminal, journal, journal_path

    yield make
    for cleanup in reversed(cleanups):
        cleanup()


def _open_case(env: ApiEnv) -> str:
    env.world.clock.set(now_utc() - timedelta(days=1))
    case_number = env.world.open_case()
    env.world.clock.set(now_utc())
    return case_number


def _pos_charges(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_configuration_selects_the_bank_pos(
    ecr_terminal: Callable[[str], Setup], printer: PrinterPty
) -> None:
    env, terminal, _, pos_journal = ecr_terminal("approve")
    assert isinstance(terminal._device, EcrPosDevice)
    case_number = _open_case(env)
    case = terminal.find_cases(case_number=case_number)[0]

    result = terminal.pay(case_number, uuid4())

    assert result.state is PaymentState.APPROVED, result.message
    assert result.reported
    paid = env.world.registry.case(case_number)
    assert paid.status.value == "paid" and paid.paid_minor == case.discounted_minor
    receipt = printer.take(CUT)
    assert b"476173******0010" in receipt and case_number.encode() in receipt
    charges = _pos_charges(pos_journal)
    assert [(c["reference"], c["result"]) for c in charges] == [(result.payment_id, "00")]


def test_a_pos_decline_charges_nothing(ecr_terminal: Callable[[str], Setup]) -> None:
    env, terminal, _, _ = ecr_terminal("decline")
    case_number = _open_case(env)
    result = terminal.pay(case_number, uuid4())
    assert result.state is PaymentState.NOT_CHARGED
    assert "declined" in str(result.message) and "Nothing was charged" in str(result.message)
    assert env.world.registry.case(case_number).status.value == "open"


def test_a_lost_answer_is_settled_by_asking_the_pos_not_by_charging_again(
    ecr_terminal: Callable[[str], Setup], printer: PrinterPty
) -> None:
    env, terminal, journal, pos_journal = ecr_terminal("lose-answer")
    case_number = _open_case(env)
    payment_id = uuid4()

    first = terminal.pay(case_number, payment_id)
    assert first.state is PaymentState.AUTHORISING
    assert "do not take it again" in str(first.message)
    assert env.world.registry.case(case_number).status.value == "open"
    # The officer taps again with the same payment: the first outcome stands, no new charge.
    assert terminal.pay(case_number, payment_id).state is PaymentState.AUTHORISING

    (settled,) = terminal.settle_pending()

    assert settled.state is PaymentState.APPROVED and settled.reported
    assert env.world.registry.case(case_number).status.value == "paid"
    assert len(_pos_charges(pos_journal)) == 1
    assert journal.in_doubt() == []
    assert case_number.encode() in printer.take(CUT)


def test_the_officers_command_line_pays_over_http(tmp_path: Path, printer: PrinterPty) -> None:
    """An officer whose terminal speaks Kazakh, on an Epson TM-T88IV (no Kazakh character
    table: Kazakh lines go as images); the payer then asks for the receipt in Russian."""
    env = build_env(tmp_path / "registry")
    case_number = _open_case(env)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(env.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    cable = SocatPair(tmp_path, "ecr").start()
    pos = BankPos(cable.far, tmp_path / "pos.jsonl").start()
    profile = load_profile("TM-T88IV")
    try:
        key_path = tmp_path / "terminal.key"
        env.world.terminal_key.save(key_path)
        config = tmp_path / "terminal.toml"
        config.write_text(
            f'device_id = "{env.world.terminal_id}"\nlanguage = "kk"\n'
            'terminal_id = "T0000042"\nagency = "Astana Police Department"\n'
            f'registry_url = "http://127.0.0.1:{port}"\ndata_dir = "{tmp_path / "terminal"}"\n'
            f'key_path = "{key_path}"\nprinter_device = "{printer.device}"\n'
            'printer_profile = "TM-T88IV"\n'
            f'payment_device = "ecr"\n[ecr]\nport = "{cable.near}"\n',
            encoding="utf-8",
        )
        while not server.started:
            time.sleep(0.01)
        runner = CliRunner()
        found = runner.invoke(app, ["find", "--case-number", case_number, "--config", str(config)])
        assert found.exit_code == 0, found.output
        assert case_number in found.output and "ӘҚБтК" in found.output
        assert "орындалуда" in found.output and "₸" in found.output  # status, amount on screen

        paid = runner.invoke(app, ["pay", case_number, "--config", str(config)])
        assert paid.exit_code == 0, paid.output
        assert "мақұлданды" in paid.output and "Түбіртекті төлеушіге беріңіз" in paid.output
        assert env.world.registry.case(case_number).status.value == "paid"
        first = printer.take_receipt()
        kazakh = read_paper(first, profile)
        assert kazakh.rasters and all(r.width_bytes == 512 // 8 for r in kazakh.rasters)
        assert "Терминал: T0000042" in kazakh.lines  # no Kazakh letter: text in CP866
        payment_id = paid.output.split()[1].rstrip(":")

        again = runner.invoke(app, ["reprint", payment_id, "--config", str(config)])
        assert again.exit_code == 0, again.output
        assert "Түбіртек басып шығарылды." in again.output
        assert printer.take_receipt() == first  # the same receipt, the same time on it

        russian = runner.invoke(
            app, ["reprint", payment_id, "--language", "ru", "--config", str(config)]
        )
        assert russian.exit_code == 0, russian.output
        paper = read_paper(printer.take_receipt(), profile)
        assert paper.rasters == [] and f"Дело: {case_number}" in paper.lines
        assert any(line.startswith("ОПЛАЧЕНО: ") for line in paper.lines)

        unknown = runner.invoke(app, ["pay", "KZ-GP-2026-9999999", "--config", str(config)])
        assert unknown.exit_code == 1
        assert "Тізілімде KZ-GP-2026-9999999 ісі жоқ." in unknown.output
        wrong = runner.invoke(
            app, ["reprint", payment_id, "--language", "de", "--config", str(config)]
        )
        assert wrong.exit_code == 1 and "Түбіртектің de тілі жоқ" in wrong.output
    finally:
        pos.stop()
        cable.stop()
        server.should_exit = True
        thread.join(timeout=5)
