"""The payment terminal end to end on real parts: pcscd with a vpcd reader and our virtual EMV
card, the acquirer simulator over ISO 8583 on loopback, an ESC/POS printer on a socat pty, and
the registry's HTTP app on a real SQLite file. Each failure ends with no charge, or a charge
plus a confirmed reversal, and a message for the officer (checked here in English, the message
id; the Russian and Kazakh renderings in test_terminal_language). The receipt is read back off
the pty as a printer reads it: Russian, the terminal's default, in CP866."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from contract import ReceiptStatus, now_utc
from terminal.acquirer_link import AcquirerLink
from terminal.journal import Journal, PaymentState, ReversalState
from terminal.paper import load_profile
from terminal.payment_device import EmvAcquirerDevice, MerchantIds
from terminal.pcsc import PcscCard
from terminal.receipt import ESC_INIT, EscposReceiptPrinter
from terminal.registry_client import RegistryClient
from terminal.service import PaymentResult, PaymentTerminal, TerminalIdentity
from terminal.sim.acquirer import Mode
from terminal.sim.escpos_reader import read_paper
from terminal.sim.harness import READER_NAME, Acquirer, Pcscd, PrinterPty, VirtualCard
from terminal.sim.virtual_card import TEST_PAN
from tests.support.api import BASE_URL, ApiEnv, build_env
from tests.support.registry_fixtures import OWNER_PERSON

CUT = b"\x1dV\x00"  # GS V 0, full cut: the last command of every receipt
TERMINAL_ID = "T0000042"
CASE_URL = "https://erap.kz/cases/{case_number}"


@pytest.fixture(scope="module")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    daemon = Pcscd(tmp_path_factory.mktemp("pcscd")).start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def printer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrinterPty]:
    pty = PrinterPty(tmp_path_factory.mktemp("printer")).start()
    yield pty
    pty.stop()


@dataclass
class Rig:
    env: ApiEnv
    terminal: PaymentTerminal
    journal: Journal
    acquirer: Acquirer
    printer: PrinterPty
    workdir: Path

    def acquirer_entries(self) -> list[dict[str, object]]:
        if not self.acquirer.journal.exists():
            return []
        return [json.loads(line) for line in self.acquirer.journal.read_text().splitlines()]

    def net_charges(self) -> int:
        """Approved authorisations the bank has not had reversed."""
        entries = self.acquirer_entries()
        reversed_ = {e["original"] for e in entries if e["mti"] == "0400" and not e["dropped"]}
        return sum(
            1
            for e in entries
            if e["mti"] == "0200" and e["response"] == "00" and e["original"] not in reversed_
        )


@pytest.fixture
def make_rig(tmp_path: Path, pcscd: Pcscd, printer: PrinterPty) -> Iterator[Callable[..., Rig]]:
    started: list[Acquirer] = []
    journals: list[Journal] = []
    handler = logging.FileHandler(tmp_path / "terminal.log")
    logger = logging.getLogger("terminal")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    def make(
        mode: Mode = Mode.APPROVE,
        *,
        drop_reversals: int = 0,
        delay_s: float = 2.0,
        offline: bool = False,
        env: ApiEnv | None = None,
    ) -> Rig:
        env = env or build_env(tmp_path / "registry")
        http: httpx.Client = env.client()
        if offline:
            http = httpx.Client(transport=FlakyLink(http._transport), base_url=BASE_URL)
        acquirer = Acquirer(
            tmp_path / f"acquirer-{len(started)}.jsonl",
            mode,
            delay_s=delay_s,
            drop_reversals=drop_reversals,
        ).start()
        started.append(acquirer)
        journal = Journal(tmp_path / "terminal" / "terminal.db")
        journals.append(journal)
        world = env.world
        terminal = PaymentTerminal(
            identity=TerminalIdentity(
                device_id=world.terminal_id,
                terminal_id=TERMINAL_ID,
                agency="Astana Police Department",
                case_url_template=CASE_URL,
            ),
            key=world.terminal_key,
            registry=RegistryClient(http, world.terminal_id, world.terminal_key),
            device=EmvAcquirerDevice(
                open_card=lambda: PcscCard(READER_NAME),
                acquirer=AcquirerLink(
                    "127.0.0.1", acquirer.port, timeout_s=1.0, tls=acquirer.terminal_tls()
                ),
                journal=journal,
                merchant=MerchantIds(terminal_id=TERMINAL_ID, merchant_id="ERAPASTANA00001"),
                clock=now_utc,
            ),
            printer=EscposReceiptPrinter(str(printer.device)),
            journal=journal,
            clock=now_utc,
        )
        return Rig(env, terminal, journal, acquirer, printer, tmp_path)

    yield make
    logger.removeHandler(handler)
    handler.close()
    for journal in journals:
        journal.close()
    for acquirer in started:
        acquirer.stop()


@pytest.fixture
def card(pcscd: Pcscd) -> Iterator[Callable[..., VirtualCard]]:
    inserted: list[VirtualCard] = []

    def insert(*flags: str) -> VirtualCard:
        virtual = VirtualCard(pcscd.card_port, flags).insert()
        inserted.append(virtual)
        return virtual

    yield insert
    for virtual in inserted:
        virtual.remove()


def _open_case(rig: Rig, days_ago: float) -> str:
    world = rig.env.world
    world.clock.set(now_utc() - timedelta(days=days_ago))
    case_number = world.open_case()
    world.clock.set(now_utc())
    return case_number


def _assert_no_card_data(rig: Rig) -> None:
    track2_fragment = TEST_PAN + "D"
    for path in (rig.workdir / "terminal").iterdir():
        data = path.read_bytes()
        assert TEST_PAN.encode() not in data, f"full card number in {path}"
        assert bytes.fromhex(TEST_PAN) not in data, f"BCD card number in {path}"
        assert track2_fragment.encode() not in data
    log = (rig.workdir / "terminal.log").read_bytes()
    assert TEST_PAN.encode() not in log


@pytest.mark.parametrize(("days_ago", "discounted"), [(1, True), (10, False)])
def test_payment_end_to_end_marks_the_case_paid(
    make_rig: Callable[..., Rig],
    card: Callable[..., VirtualCard],
    days_ago: int,
    discounted: bool,
) -> None:
    rig = make_rig()
    case_number = _open_case(rig, days_ago)

    found = rig.terminal.find_cases(case_number=case_number)
    assert [case.case_number for case in found] == [case_number]
    case = found[0]
    expected = case.discounted_minor if discounted else case.full_minor
    assert case.amount_due_now_minor == expected
    assert case.discounted_minor * 2 == case.full_minor
    assert case_number in [c.case_number for c in rig.terminal.find_cases(plate="123ABC01")]
    by_iin = rig.terminal.find_cases(iin=OWNER_PERSON.owner_id or "")
    assert case_number in [c.case_number for c in by_iin]

    card()
    payment_id = uuid4()
    result = rig.terminal.pay(case_number, payment_id)

    assert result.state is PaymentState.APPROVED, result.message
    assert result.reported and result.amount_minor == expected
    registry_case = rig.env.world.registry.case(case_number)
    assert registry_case.status.value == "paid"
    assert registry_case.paid_minor == expected
    assert registry_case.amount_due_now_minor == 0

    receipt = rig.printer.take(CUT)
    assert receipt.startswith(ESC_INIT)
    assert b"\x1bt\x11" in receipt  # ESC t 17: CP866 on the default profile
    assert "ОПЛАЧЕНО".encode("cp866") in receipt
    assert result.receipt is not None
    paper = read_paper(receipt, load_profile("default"))
    assert paper.rasters == [] and paper.cut
    assert paper.qr_codes == [CASE_URL.format(case_number=case_number)]
    local_time = result.receipt.paid_at + timedelta(hours=5)
    full = f"{case.full_minor // 100:,}".replace(",", "\u00a0")
    paid = f"{expected // 100:,}".replace(",", "\u00a0")
    for line in (
        "Astana Police Department",
        "ОПЛАТА АДМИНИСТРАТИВНОГО ШТРАФА",
        f"Терминал: {TERMINAL_ID}",
        f"Время: {local_time:%d.%m.%Y %H:%M:%S} (время Астаны)",
        f"Дело: {case_number}",
        f"Основание: ч. {case.part} ст. {case.article} КоАП РК",
        f"Сумма штрафа: {full},{case.full_minor % 100:02d}\u00a0KZT",
        f"ОПЛАЧЕНО: {paid},{expected % 100:02d}\u00a0KZT",
        "Карта: VISA 476173******0010",
        "AID: A0000000031010",
        f"Код авторизации: {result.receipt.approval_code}",
        f"RRN: {result.receipt.rrn}",
        f"STAN: {result.receipt.stan}",
    ):
        assert line in paper.lines, line
    assert any(line.startswith("Штраф со скидкой:") for line in paper.lines) is discounted
    assert {item.code_page for item in paper.items if not item.text.isascii()} == {"CP866"}

    entries = rig.acquirer_entries()
    assert [(e["mti"], e["response"], e["arqc_valid"]) for e in entries] == [("0200", "00", True)]

    # A double tap with the same payment id: the first outcome, no second charge or report.
    again = rig.terminal.pay(case_number, payment_id)
    assert again.state is PaymentState.APPROVED
    assert len(rig.acquirer_entries()) == 1
    # A new attempt for the paid case is refused before the card is touched.
    refused = rig.terminal.pay(case_number, uuid4())
    assert refused.state is PaymentState.NOT_CHARGED and "already paid" in str(refused.message)
    assert rig.env.world.scalar("SELECT COUNT(*) FROM payments") == 1
    _assert_no_card_data(rig)


def _pay(rig: Rig) -> tuple[str, PaymentResult]:
    case_number = _open_case(rig, 1)
    return case_number, rig.terminal.pay(case_number, uuid4())


def _assert_not_paid(rig: Rig, case_number: str) -> None:
    assert rig.env.world.registry.case(case_number).status.value == "open"
    assert rig.env.world.scalar("SELECT COUNT(*) FROM payments") == 0
    assert rig.net_charges() == 0


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--decline"], "card declined"),
        (["--blocked"], "blocked"),
        (["--pin-required"], "PIN"),
        (["--pull-at", "select"], "removed"),
        (["--pull-at", "gpo"], "removed"),
        (["--pull-at", "read"], "removed"),
        (["--pull-at", "first_ac"], "removed"),
    ],
)
def test_card_failures_before_authorisation_charge_nothing(
    make_rig: Callable[..., Rig],
    card: Callable[..., VirtualCard],
    flags: list[str],
    words: str,
) -> None:
    rig = make_rig()
    card(*flags)
    case_number, result = _pay(rig)
    assert result.state is PaymentState.NOT_CHARGED
    message = str(result.message)  # the English message id, rendered without a catalog
    assert words in message and "Nothing was charged" in message
    assert rig.acquirer_entries() == []  # the bank never heard of it
    _assert_not_paid(rig, case_number)


def test_bank_decline_charges_nothing(
    make_rig: Callable[..., Rig], card: Callable[..., VirtualCard]
) -> None:
    rig = make_rig(Mode.DECLINE)
    card()
    case_number, result = _pay(rig)
    assert result.state is PaymentState.NOT_CHARGED
    assert "bank declined" in str(result.message)
    assert [e["response"] for e in rig.acquirer_entries()] == ["05"]
    _assert_not_paid(rig, case_number)


@pytest.mark.parametrize(
    ("mode", "flags", "reason"),
    [
        (Mode.TIMEOUT, [], "68"),
        (Mode.APPROVE, ["--refuse-second-ac"], "06"),
        (Mode.APPROVE, ["--pull-at", "second_ac"], "06"),
    ],
)
def test_failures_after_authorisation_end_with_a_confirmed_reversal(
    make_rig: Callable[..., Rig],
    card: Callable[..., VirtualCard],
    mode: Mode,
    flags: list[str],
    reason: str,
) -> None:
    rig = make_rig(mode)
    card(*flags)
    case_number, result = _pay(rig)
    assert result.state is PaymentState.REVERSED, result.message
    assert "cancelled with the bank" in str(result.message)
    assert "confirmed the cancellation" in str(result.message)
    entries = rig.acquirer_entries()
    assert [e["mti"] for e in entries] == ["0200", "0400"]
    assert entries[1]["original"] == entries[0]["original"] and entries[1]["reason"] == reason
    assert rig.journal.reversal_state(result.payment_id) is ReversalState.ACKNOWLEDGED
    _assert_not_paid(rig, case_number)
    _assert_no_card_data(rig)


def test_reversal_is_resent_until_acknowledged(
    make_rig: Callable[..., Rig], card: Callable[..., VirtualCard]
) -> None:
    rig = make_rig(Mode.TIMEOUT, drop_reversals=1)
    card()
    case_number, result = _pay(rig)
    assert result.state is PaymentState.REVERSING
    assert "keeps resending" in str(result.message)
    rig.terminal.settle_pending()
    row = rig.journal.payment(result.payment_id)
    assert row is not None and row.state is PaymentState.REVERSED
    assert [e["mti"] for e in rig.acquirer_entries()] == ["0200", "0400", "0400"]
    _assert_not_paid(rig, case_number)


def test_a_slow_bank_within_the_timeout_still_approves(
    make_rig: Callable[..., Rig], card: Callable[..., VirtualCard]
) -> None:
    rig = make_rig(Mode.SLOW, delay_s=0.3)
    card()
    case_number, result = _pay(rig)
    assert result.state is PaymentState.APPROVED, result.message
    assert rig.env.world.registry.case(case_number).status.value == "paid"
    rig.printer.take(CUT)


def test_several_applications_take_the_highest_priority(
    make_rig: Callable[..., Rig], card: Callable[..., VirtualCard]
) -> None:
    rig = make_rig()
    card("--several-applications")
    _, result = _pay(rig)
    assert result.state is PaymentState.APPROVED, result.message
    assert result.receipt is not None and result.receipt.aid == "A0000000031010"
    rig.printer.take(CUT)


def test_report_waits_in_the_outbox_across_a_restart_and_is_stored_once(
    make_rig: Callable[..., Rig], card: Callable[..., VirtualCard]
) -> None:
    rig = make_rig(offline=True)
    card()
    case_number, result = _pay(rig)
    assert result.state is PaymentState.APPROVED
    assert not result.reported and "stays queued" in str(result.message)
    rig.printer.take(CUT)
    assert rig.env.world.registry.case(case_number).status.value == "open"

    rig.journal.close()  # the terminal restarts with the link back
    restarted = make_rig(env=rig.env)
    restarted.terminal.settle_pending()
    assert rig.env.world.registry.case(case_number).status.value == "paid"
    assert restarted.journal.undelivered() == []
    (envelope,) = [
        bytes(row[0])
        for row in sqlite3.connect(rig.workdir / "terminal" / "terminal.db").execute(
            "SELECT envelope FROM outbox"
        )
    ]
    client = RegistryClient(rig.env.client(), rig.env.world.terminal_id, rig.env.world.terminal_key)
    assert client.submit(envelope) is ReceiptStatus.DUPLICATE
    assert rig.env.world.scalar("SELECT COUNT(*) FROM payments") == 1
    _assert_no_card_data(rig)


def test_an_authorisation_interrupted_by_a_crash_is_reversed_at_start_up(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig()
    payment_id = str(uuid4())
    moment = now_utc()
    rig.journal.start(payment_id, "ERAP-X", 1_000_00, moment)
    rig.journal.arm_reversal(payment_id, rig.journal.next_stan(), moment, 1_000_00, moment)
    rig.terminal.settle_pending()
    row = rig.journal.payment(payment_id)
    assert row is not None and row.state is PaymentState.REVERSED
    assert "restarted" in str(row.message)
    assert [e["mti"] for e in rig.acquirer_entries()] == ["0400"]


class FlakyLink(httpx.BaseTransport):
    """The registry's app behind a mobile link that drops payment reports."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/messages":
            raise httpx.ConnectError("the mobile link is down", request=request)
        return self.inner.handle_request(request)
