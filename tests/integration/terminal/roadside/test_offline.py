"""The issue's offline test, and the way to the registry: with the registry unreachable, twenty
protocols are written, signed, printed and paid at the roadside; when the link returns, all
twenty reach the registry once, in the order they were written, each followed by its payment,
and open their cases there. A power cut between signing and sending still sends the protocol
once; a resend is a duplicate, not a second protocol.

Real parts throughout (rig.py): the registry's HTTP app on a SQLite file with its officers' CA
and CRL on disk and the officer an active operator with his IIN, the token on SoftHSM2, the
bank POS over ECR, the printer on a pty."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from central_ingest.roadside import CA_FILE, CRL_FILE, officer_ca_dir
from central_ingest.store import roadside as roadside_store
from contract import ReceiptStatus, encode_envelope
from i18n import translator
from terminal.journal import PaymentState
from terminal.roadside import NoNumbers
from terminal.sim.harness import PrinterPty
from tests.integration.terminal.roadside.rig import (
    PLATE,
    Rig,
    close_rig,
    make_rig,
    officer_token,
    sign_in,
    write_video,
)
from tests.support.api import build_env
from tests.support.officer_pki import AgencyCa, SoftHsm, softhsm, valid_iin
from tests.support.population_register import PopulationRegisterProcess
from tests.support.registry_fixtures import REVIEWERS

NOW = datetime.now(UTC).replace(microsecond=0)
OFFICER_IIN = valid_iin("850315", "3")


@pytest.fixture(scope="module")
def agency() -> AgencyCa:
    return AgencyCa.create("ERAP officers CA", NOW)


@pytest.fixture(scope="module")
def token_label(agency: AgencyCa) -> str:
    hsm: SoftHsm = softhsm()
    return officer_token(hsm, agency, NOW, iin=OFFICER_IIN)


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


@contextmanager
def registry_rig(
    tmp_path: Path,
    agency: AgencyCa,
    token_label: str,
    printer: PrinterPty,
    population: PopulationRegisterProcess,
    camera: str | None = None,
) -> Iterator[Rig]:
    env = build_env(tmp_path / "registry")
    world = env.world
    world.clock.set(NOW)
    trust = officer_ca_dir(world.config)
    trust.mkdir(parents=True, exist_ok=True)
    (trust / CA_FILE).write_bytes(agency.certificate.public_bytes(Encoding.PEM))
    (trust / CRL_FILE).write_bytes(agency.crl([], NOW).public_bytes(Encoding.DER))
    with world.store.transaction() as db:  # the officer is an active operator with his IIN
        roadside_store.set_officer_identity(db, REVIEWERS[0], iin=OFFICER_IIN, unit="Astana-3")
    officer = sign_in(token_label, tmp_path, NOW)
    made = make_rig(
        env,
        workdir=tmp_path,
        printer=printer,
        officer=officer,
        population_url=population.url,
        camera=camera,
    )
    try:
        yield made
    finally:
        close_rig(made)
        officer.close()


@pytest.fixture
def rig(
    tmp_path: Path,
    agency: AgencyCa,
    token_label: str,
    printer: PrinterPty,
    population: PopulationRegisterProcess,
) -> Iterator[Rig]:
    with registry_rig(tmp_path, agency, token_label, printer, population) as made:
        yield made


@pytest.fixture
def camera_rig(
    tmp_path: Path,
    agency: AgencyCa,
    token_label: str,
    printer: PrinterPty,
    population: PopulationRegisterProcess,
) -> Iterator[Rig]:
    video = tmp_path / "dashcam.avi"
    write_video(video)
    with registry_rig(tmp_path, agency, token_label, printer, population, str(video)) as made:
        yield made


def registry_rows(rig: Rig, sql: str) -> list[tuple[object, ...]]:
    with rig.env.world.store.transaction() as db:
        return [tuple(row) for row in db.conn.execute(sql).fetchall()]


def test_twenty_protocols_written_and_paid_offline_reach_the_registry_once_in_order(
    rig: Rig,
) -> None:
    assert rig.desk.ensure_numbers() == 50  # the link is up: a block of 50 from the registry
    rig.link.up = False
    written = []
    for index in range(20):
        draft = rig.draft(description=f"Проезд на красный, остановка {index + 1}")
        recorded = rig.desk.sign_and_record(draft, rig.officer, uuid4())
        assert recorded.printed and not recorded.sent
        rig.printer.take_receipt()
        paid = rig.desk.pay(recorded.protocol.protocol_id, uuid4())
        assert paid.state is PaymentState.APPROVED and not paid.reported
        rig.printer.take_receipt()
        written.append((recorded.protocol.protocol_number, paid.payment_id, paid.amount_minor))
    assert [number for number, _, _ in written] == [f"KZ-GP-R{n:08d}" for n in range(1, 21)]
    assert registry_rows(rig, "SELECT count(*) FROM roadside_protocols") == [(0,)]
    assert rig.desk.pending() == 40

    rig.link.up = True
    report = rig.desk.sync()
    assert (report.sent, report.left, report.problem) == (40, 0, None)
    posted = [r for r in rig.link.requests if r == "POST /v1/messages"]
    assert len(posted) == 40  # each protocol and each payment sent exactly once

    stored = registry_rows(rig, "SELECT protocol_number FROM roadside_protocols ORDER BY rowid")
    assert [row[0] for row in stored] == [number for number, _, _ in written]
    cases = registry_rows(
        rig, "SELECT case_number, status FROM cases WHERE source = 'roadside' ORDER BY case_number"
    )
    assert [row[0] for row in cases] == [number for number, _, _ in written]
    payments = registry_rows(rig, "SELECT case_number, amount_minor FROM payments ORDER BY rowid")
    assert payments == [(number, amount) for number, _, amount in written]
    assert rig.desk.pending() == 0
    assert rig.desk.sync().sent == 0  # nothing left, nothing sent twice


def test_a_power_cut_between_signing_and_sending_still_sends_once(rig: Rig) -> None:
    rig.desk.ensure_numbers()
    rig.link.up = False
    recorded = rig.desk.sign_and_record(rig.draft(), rig.officer, uuid4())
    rig.printer.take_receipt()
    rig.restart()  # the power goes; the terminal starts again on the same files
    rig.link.up = True
    assert rig.desk.sync().sent == 1
    number = recorded.protocol.protocol_number
    assert registry_rows(
        rig, f"SELECT count(*) FROM roadside_protocols WHERE protocol_number = '{number}'"
    ) == [(1,)]
    # The same signed protocol again (the answer lost, the terminal resends): a duplicate.
    journalled = rig.desk._store.protocol(str(recorded.protocol.protocol_id))
    assert journalled is not None
    again = rig.desk._registry.submit(encode_envelope(journalled.envelope))
    assert again is ReceiptStatus.DUPLICATE
    assert registry_rows(rig, "SELECT count(*) FROM roadside_protocols") == [(1,)]
    assert registry_rows(rig, "SELECT count(*) FROM cases WHERE source = 'roadside'") == [(1,)]


def test_a_protocols_photos_are_uploaded_before_it(camera_rig: Rig) -> None:
    rig = camera_rig
    rig.desk.ensure_numbers()
    photos = [rig.desk.take_photo(), rig.desk.take_photo()]
    rig.link.up = False
    draft = rig.draft(photo_sha256=tuple(photo.sha256 for photo in photos))
    recorded = rig.desk.sign_and_record(draft, rig.officer, uuid4())
    rig.printer.take_receipt()
    rig.link.up = True
    assert rig.desk.sync().sent == 1
    uploads = [r for r in rig.link.requests if r.startswith("PUT /v1/evidence/")]
    assert uploads == [f"PUT /v1/evidence/{photo.sha256}" for photo in photos]
    assert rig.link.requests.index(uploads[-1]) < rig.link.requests.index("POST /v1/messages")
    stored = registry_rows(rig, "SELECT count(*) FROM roadside_protocols")
    assert stored == [(1,)] and recorded.protocol.photo_sha256 == [p.sha256 for p in photos]


def test_numbers_come_from_the_registry_when_low_and_the_link_is_up(rig: Rig) -> None:
    rig.link.up = False
    with pytest.raises(NoNumbers):
        rig.desk.sign_and_record(rig.draft(), rig.officer, uuid4())
    rig.link.up = True
    rig.desk.background(PLATE)  # a lookup with the link up tops the numbers up
    assert rig.desk.numbers_left() == 50
    rig.link.up = False
    for _ in range(46):  # down to 4, under the low water of 5
        rig.desk.sign_and_record(rig.draft(), rig.officer, uuid4(), send=False)
        rig.printer.take_receipt()
    assert rig.desk.numbers_left() == 4
    rig.link.up = True
    assert rig.desk.sync().left == 0
    assert rig.desk.numbers_left() == 54
    blocks = registry_rows(
        rig, "SELECT first_number, last_number FROM protocol_number_blocks ORDER BY 1"
    )
    assert blocks == [(1, 50), (51, 100)]  # from the registry's one counter: never overlapping


def test_the_queue_goes_by_itself_when_the_link_returns(rig: Rig) -> None:
    rig.desk.ensure_numbers()
    rig.link.up = False
    for _ in range(3):
        rig.desk.sign_and_record(rig.draft(), rig.officer, uuid4())
        rig.printer.take_receipt()
    rig.roadside.start_sync(interval_s=0.1)
    time.sleep(0.3)
    assert rig.desk.pending() == 3  # still down: still queued
    rig.link.up = True
    deadline = time.monotonic() + 10
    while rig.desk.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert registry_rows(rig, "SELECT count(*) FROM roadside_protocols") == [(3,)]


@pytest.fixture(scope="module")
def stranger_label(agency: AgencyCa) -> str:
    """A token of the agency's CA whose IIN is no operator of the registry."""
    return officer_token(softhsm(), agency, NOW)


def test_a_refused_protocol_holds_its_payment_and_not_the_next_protocol(
    stranger_label: str, rig: Rig, tmp_path: Path
) -> None:
    rig.desk.ensure_numbers()
    rig.link.up = False
    stranger = sign_in(stranger_label, tmp_path / "stranger", NOW)
    try:
        refused = rig.desk.sign_and_record(rig.draft(), stranger, uuid4())
    finally:
        stranger.close()
    rig.printer.take_receipt()
    paid = rig.desk.pay(refused.protocol.protocol_id, uuid4())
    assert paid.state is PaymentState.APPROVED
    rig.printer.take_receipt()
    accepted = rig.desk.sign_and_record(rig.draft(), rig.officer, uuid4())
    rig.printer.take_receipt()
    rig.link.up = True
    report = rig.desk.sync()
    assert report.sent == 2 and report.problem is not None
    shown = translator("terminal", "en").text(report.problem)
    assert refused.protocol.protocol_number in shown and "a payment taken for it waits" in shown
    numbers = registry_rows(rig, "SELECT protocol_number FROM roadside_protocols")
    assert numbers == [(accepted.protocol.protocol_number,)]
    reasons = registry_rows(rig, "SELECT reason FROM dead_letters")
    assert reasons == [("not_an_active_officer",)]
    assert registry_rows(rig, "SELECT count(*) FROM payments") == [(0,)]  # held, not lost
    assert [item.kind for item in rig.desk._store.outgoing()] == []
