"""The officer's roadside desk on real parts (rig.py): the background from the registry and the
population register, the place from the car's GPS over a serial pty (or typed, flagged), the
protocol signed on a SoftHSM2 token, journalled with its number, printed in Russian or Kazakh
with its case number and QR link, and paid at the on-the-spot rate through the bank POS; and
the faults: printer out of paper, card declined, token pulled mid-signature, no numbers left."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pkcs11
import pytest

from contract import now_utc
from contract.roadside import DriverSignature, ProtocolOutcome
from i18n import translator
from terminal.journal import PaymentState
from terminal.officer_rules import TokenGone
from terminal.paper import load_profile
from terminal.receipt import PrinterUnavailable
from terminal.roadside import DraftRefused, NoNumbers
from terminal.sim.escpos_reader import read_paper
from terminal.sim.harness import PrinterPty
from tests.integration.terminal.roadside.rig import (
    NO_FIX,
    PERSON_IIN,
    PLATE,
    PaperPrinter,
    Rig,
    close_rig,
    make_rig,
    officer_token,
    sign_in,
)
from tests.support.api import build_env
from tests.support.officer_pki import SOFTHSM_MODULE, AgencyCa, SoftHsm, softhsm
from tests.support.population_register import PopulationRegisterProcess

NOW = datetime.now(UTC).replace(microsecond=0)
MRP_2026 = 4325


@pytest.fixture(scope="module")
def hsm() -> SoftHsm:
    return softhsm()


@pytest.fixture(scope="module")
def agency() -> AgencyCa:
    return AgencyCa.create("ERAP officers CA", NOW)


@pytest.fixture(scope="module")
def population() -> Iterator[PopulationRegisterProcess]:
    register = PopulationRegisterProcess().start()
    yield register
    register.stop()


@pytest.fixture(scope="module")
def printer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrinterPty]:
    pty = PrinterPty(tmp_path_factory.mktemp("printer")).start()
    yield pty
    pty.stop()


@pytest.fixture(scope="module")
def token_label(hsm: SoftHsm, agency: AgencyCa) -> str:
    return officer_token(hsm, agency, NOW)


@pytest.fixture
def rig(
    tmp_path: Path,
    token_label: str,
    printer: PrinterPty,
    population: PopulationRegisterProcess,
) -> Iterator[Rig]:
    officer = sign_in(token_label, tmp_path, NOW)
    env = build_env(tmp_path / "registry")
    made = make_rig(
        env,
        workdir=tmp_path,
        printer=printer,
        officer=officer,
        population_url=population.url,
    )
    yield made
    close_rig(made)
    officer.close()


def copy_lines(rig: Rig) -> tuple[list[str], list[str]]:
    paper = read_paper(rig.printer.take_receipt(), load_profile("default"))
    # amounts are grouped with no-break spaces (CLDR): compared here as plain ones
    return [line.replace("\xa0", " ") for line in paper.lines if line], paper.qr_codes


def test_the_background_shows_the_cases_the_person_and_a_repeat(rig: Rig) -> None:
    world = rig.env.world
    world.clock.set(now_utc() - timedelta(days=40))
    earlier = world.open_case()  # speeding 25 km/h over: 592 part 2, forty days ago
    world.clock.set(now_utc())

    found = rig.desk.background(PLATE, PERSON_IIN)
    assert found.person is not None and found.person.full_name == "Абенов Нурлан Серикович"
    assert [c.case_number for c in found.vehicle_cases] == [earlier]
    assert [c.case_number for c in found.person_cases] == [earlier]
    assert [c.case_number for c in found.history] == [earlier]  # one case, seen twice
    assert [c.case_number for c in found.open_cases] == [earlier]
    assert found.notes == []

    repeat = rig.desk.assess("592", 2, found.history)
    assert (repeat.entry.part, repeat.repeat_of) == (5, earlier)
    assert repeat.fine_minor == 20 * MRP_2026 * 100 and not repeat.warning_allowed
    assert rig.desk.assess("592", 2, []).entry.part == 2

    rig.link.up = False  # no registry: the person still comes, the cases are flagged unchecked
    offline = rig.desk.background(PLATE, PERSON_IIN)
    assert offline.vehicle_cases == [] and offline.person is not None
    (note,) = offline.notes
    assert "could not be checked" in translator("terminal", "en").text(note)
    unknown = rig.desk.background(PLATE, "850315300129")  # a wrong check digit
    assert unknown.person is None and len(unknown.notes) == 2


def test_the_place_is_the_gps_fix_or_a_typed_address_flagged(rig: Rig) -> None:
    deadline = time.monotonic() + 5
    while (placed := rig.desk.place()).place is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert placed.place is not None and not placed.place.manual
    assert placed.place.lat == pytest.approx(51.1283) and placed.place.lon == pytest.approx(71.4305)

    rig.gps.sentences = NO_FIX
    time.sleep(0.5)
    placed = rig.desk.place()
    assert placed.place is None and placed.no_fix_reason is not None
    assert "no valid fix" in placed.no_fix_reason
    typed = rig.desk.place("Алматы – Астана, 12 км")
    assert typed.place is not None and typed.place.manual
    assert typed.place.address == "Алматы – Астана, 12 км" and typed.place.lat is None


def test_a_fine_is_signed_journalled_printed_in_russian_and_paid_at_half(rig: Rig) -> None:
    rig.link.up = False  # all of it offline
    rig.give_block(1, 50)
    protocol_id = uuid4()
    recorded = rig.desk.sign_and_record(rig.draft(), rig.officer, protocol_id)
    protocol = recorded.protocol
    assert protocol.protocol_number == "KZ-GP-R00000001"
    assert recorded.printed and not recorded.sent
    assert protocol.amount_minor == 10 * MRP_2026 * 100
    assert protocol.driver_signature is DriverSignature.SIGNED
    assert protocol.place.manual and protocol.officer_iin == rig.officer.iin
    lines, qr = copy_lines(rig)
    assert lines[1] == "ПРОТОКОЛ ОБ АДМИНИСТРАТИВНОМ ПРАВОНАРУШЕНИИ"
    assert "Протокол и дело: KZ-GP-R00000001" in lines
    assert "Штраф: 43 250,00 KZT" in lines
    assert "При оплате сейчас или в течение 7 дней: 21 625,00 KZT" in lines
    assert qr == ["https://erap.kz/cases/KZ-GP-R00000001"]

    again = rig.desk.sign_and_record(rig.draft(), rig.officer, protocol_id)  # a double tap
    assert again.duplicate and again.protocol.protocol_number == "KZ-GP-R00000001"
    assert rig.desk.numbers_left() == 49

    paid = rig.desk.pay(protocol_id, uuid4())
    assert paid.state is PaymentState.APPROVED and paid.case_number == "KZ-GP-R00000001"
    assert paid.amount_minor == 10 * MRP_2026 * 100 // 2
    receipt = read_paper(rig.printer.take_receipt(), load_profile("default"))
    assert "Дело: KZ-GP-R00000001" in receipt.lines
    twice = rig.desk.pay(protocol_id, uuid4())
    assert twice.state is PaymentState.NOT_CHARGED  # paid already on this terminal
    assert [item.kind for item in rig.desk._store.outgoing()] == ["protocol", "payment"]
    (entry,) = rig.desk.protocols()
    assert (entry.protocol.protocol_id, entry.printed, entry.registry_status) == (
        protocol_id,
        True,
        None,
    )


def test_a_warning_is_printed_in_kazakh_and_has_nothing_to_pay(rig: Rig) -> None:
    rig.give_block(100, 110)
    draft = rig.draft(ProtocolOutcome.WARNING, article="590", part=1, driver_signature_png=None)
    recorded = rig.desk.sign_and_record(draft, rig.officer, uuid4(), language="kk", send=False)
    assert recorded.protocol.amount_minor is None
    assert recorded.protocol.driver_signature is DriverSignature.REFUSED
    lines, _ = copy_lines(rig)
    assert "ӘКІМШІЛІК ҚҰҚЫҚ БҰЗУШЫЛЫҚ ТУРАЛЫ ХАТТАМА" in lines
    assert "Жүргізуші хаттамаға қол қоюдан бас тартты." in lines
    nothing = rig.desk.pay(recorded.protocol.protocol_id, uuid4())
    assert nothing.state is PaymentState.NOT_CHARGED
    with pytest.raises(DraftRefused, match="does not allow a warning"):
        rig.desk.sign_and_record(rig.draft(ProtocolOutcome.WARNING), rig.officer, uuid4())
    assert rig.desk.numbers_left() == 10


def test_an_unplugged_printer_keeps_the_protocol_and_the_copy_prints_later(rig: Rig) -> None:
    rig.give_block(1, 10)
    device = rig.printer.device
    unplugged = device.with_name("printer-unplugged")
    device.rename(unplugged)
    try:
        recorded = rig.desk.sign_and_record(rig.draft(), rig.officer, uuid4(), send=False)
    finally:
        unplugged.rename(device)
    assert not recorded.printed
    shown = translator("terminal", "en").text(recorded.message)
    assert "is signed and kept" in shown and "print the copy again" in shown
    assert [p.protocol_number for p in rig.desk.unprinted()] == ["KZ-GP-R00000001"]
    rig.desk.print_copy(recorded.protocol.protocol_id, rig.officer.name)
    lines, _ = copy_lines(rig)
    assert "Протокол и дело: KZ-GP-R00000001" in lines and rig.desk.unprinted() == []


def test_a_printer_out_of_paper_says_so_and_the_copy_prints_on_the_new_roll(
    tmp_path: Path, token_label: str, population: PopulationRegisterProcess
) -> None:
    printer = PaperPrinter(tmp_path).start()
    officer = sign_in(token_label, tmp_path, NOW)
    env = build_env(tmp_path / "registry")
    rig = make_rig(
        env,
        workdir=tmp_path,
        printer=printer,
        officer=officer,
        population_url=population.url,
        paper_sensor=True,
    )
    try:
        rig.give_block(1, 10)
        rig.link.up = False
        printer.has_paper = False
        recorded = rig.desk.sign_and_record(rig.draft(), officer, uuid4())
        assert not recorded.printed
        shown = translator("terminal", "en").text(recorded.message)
        assert "is out of paper: the protocol is kept" in shown
        with pytest.raises(PrinterUnavailable):  # still no paper: still said
            rig.desk.print_copy(recorded.protocol.protocol_id, officer.name)
        assert [p.protocol_number for p in rig.desk.unprinted()] == ["KZ-GP-R00000001"]
        printer.has_paper = True  # the officer puts in a new roll
        rig.desk.print_copy(recorded.protocol.protocol_id, officer.name)
        lines, _ = copy_lines(rig)
        assert "Протокол и дело: KZ-GP-R00000001" in lines and rig.desk.unprinted() == []
    finally:
        close_rig(rig)
        officer.close()
        printer.stop()


def test_a_declined_card_leaves_the_protocol_standing_and_it_is_paid_later(rig: Rig) -> None:
    rig.give_block(1, 10)
    rig.restart(pos_mode="decline")
    recorded = rig.desk.sign_and_record(rig.draft(), rig.officer, uuid4(), send=False)
    copy_lines(rig)
    declined = rig.desk.pay(recorded.protocol.protocol_id, uuid4())
    assert declined.state is PaymentState.NOT_CHARGED
    assert "stands; the driver can pay later" in translator("terminal", "en").text(declined.message)
    assert [item.kind for item in rig.desk._store.outgoing()] == ["protocol"]
    rig.restart(pos_mode="approve")
    paid = rig.desk.pay(recorded.protocol.protocol_id, uuid4())
    assert paid.state is PaymentState.APPROVED


def test_a_lost_answer_is_settled_by_asking_the_pos_never_by_charging_again(rig: Rig) -> None:
    rig.link.up = False
    rig.give_block(1, 10)
    rig.restart(pos_mode="lose-answer")
    recorded = rig.desk.sign_and_record(rig.draft(), rig.officer, uuid4())
    copy_lines(rig)
    payment_id = uuid4()
    first = rig.desk.pay(recorded.protocol.protocol_id, payment_id)
    assert first.state is PaymentState.AUTHORISING
    assert "do not take it again" in translator("terminal", "en").text(first.message)
    again = rig.desk.pay(recorded.protocol.protocol_id, payment_id)  # a second tap: no charge
    assert again.state is PaymentState.AUTHORISING
    (settled,) = rig.desk.settle_pending()  # at start-up and periodically
    assert (
        settled.state is PaymentState.APPROVED
        and settled.case_number == recorded.protocol.protocol_number
    )
    rig.printer.take_receipt()
    assert len(rig.pos_journal.read_text().splitlines()) == 1  # the POS charged once
    assert [item.kind for item in rig.desk._store.outgoing()] == ["protocol", "payment"]
    assert rig.desk.settle_pending() == []


def test_a_token_pulled_mid_signature_journals_nothing(
    hsm: SoftHsm, agency: AgencyCa, rig: Rig, tmp_path: Path, token_label: str
) -> None:
    rig.give_block(1, 10)
    # A new token ends this process's sessions (SoftHSM2's C_Finalize): every officer signs in
    # again after it.
    label = officer_token(hsm, agency, NOW)
    officer = sign_in(label, tmp_path / "other", NOW)
    hsm.pull(label)
    with pytest.raises(TokenGone) as pulled:
        rig.desk.sign_and_record(rig.draft(), officer, uuid4(), send=False)
    assert "nothing was signed" in str(pulled.value)
    assert rig.desk._store.protocols() == [] and rig.desk.numbers_left() == 10
    pkcs11.lib(str(SOFTHSM_MODULE)).reinitialize()  # the slots as they are now
    again = sign_in(token_label, tmp_path, NOW)
    next_one = rig.desk.sign_and_record(rig.draft(), again, uuid4(), send=False)
    assert next_one.protocol.protocol_number == "KZ-GP-R00000001"  # the number stayed free
    copy_lines(rig)
    again.close()


def test_no_numbers_and_no_network_is_a_clear_sentence(rig: Rig) -> None:
    rig.link.up = False
    with pytest.raises(NoNumbers) as refused:
        rig.desk.sign_and_record(rig.draft(), rig.officer, uuid4())
    shown = translator("terminal", "en").text(refused.value.text)
    assert shown.startswith("No protocol numbers are left on this terminal")
    assert rig.desk._store.protocols() == []
