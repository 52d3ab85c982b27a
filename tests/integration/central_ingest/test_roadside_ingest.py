"""A roadside protocol reaching the registry: signed on a SoftHSM2 token with a certificate of
the agency's CA, sealed by the terminal, checked and stored by the real ingest service, on both
stores. Accepted, it opens its case at once (a warning closes as one); refused, it is kept in
the dead-letters with the reason code and the sentence saying which check failed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from central_ingest.audit import verify_registry
from central_ingest.core.cases import CaseStatus
from central_ingest.store.evidence import EvidenceStore
from contract import DeviceKey, MessageKind, ReceiptStatus, seal
from contract.roadside import (
    DriverSignature,
    ProtocolOutcome,
    ProtocolPlace,
    SignedRoadsideProtocol,
)
from tests.support.evidence_images import evidence_jpeg
from tests.support.officer_pki import AgencyCa
from tests.support.registry_fixtures import REVIEWERS, RegistryWorld
from tests.support.roadside_registry import FINE_592_1, OFFICER, UNIT, RoadsideDesk

pytestmark = pytest.mark.usefixtures("registry_store")


@pytest.fixture()
def desk(tmp_path: Path) -> Iterator[RoadsideDesk]:
    world = RegistryWorld.create(tmp_path)
    desk = RoadsideDesk.create(world, tmp_path)
    yield desk
    desk.close()


def _count(desk: RoadsideDesk, sql: str, *params: object) -> int:
    return int(desk.world.scalar(sql, *params))


def test_a_fine_opens_its_case_at_once_and_a_payment_on_the_spot_settles_it(
    desk: RoadsideDesk,
) -> None:
    world = desk.world
    officer = desk.officer()
    block = desk.block()
    number = block.number(block.first + 3)
    protocol = desk.protocol(officer, number)
    envelope = desk.sign(protocol, officer)

    outcome = desk.send(envelope)
    assert (outcome.status, outcome.reason) == (ReceiptStatus.STORED, None)

    case = world.registry.case(number)
    assert case.case_number == number == protocol.protocol_number
    assert case.status is CaseStatus.OPEN
    assert case.fixation_id is None
    assert case.resolved_by == OFFICER
    assert (case.article, case.part, case.fine_mrp) == ("592", "1", 5)
    assert case.full_minor == FINE_592_1
    assert case.owner_id == protocol.person_iin
    assert case.offence_at == protocol.drawn_up_at
    row = world.store.db.conn.execute(
        "SELECT officer, officer_unit, officer_iin, outcome, place_manual, driver_signature,"
        " certificate_serial, length(officer_cms) FROM roadside_protocols WHERE protocol_id = ?",
        (str(protocol.protocol_id),),
    ).fetchone()
    assert row[:6] == (OFFICER, UNIT, officer.iin, "fine", 0, "signed")
    assert row[6] == format(officer.certificate.serial_number, "x") and row[7] > 200
    assert world.scalar("SELECT source FROM cases WHERE case_number = ?", number) == "roadside"
    # No review queue: nothing waits for a reviewer.
    assert _count(desk, "SELECT count(*) FROM fixations") == 0
    # The ledger: the protocol received from the terminal, the case opened by its officer.
    [received] = world.ledger("roadside_protocol", str(protocol.protocol_id))
    assert received["actor"] == f"device:{world.terminal_id}"
    assert received["payload"]["certificate_serial"] == row[6]
    [opened] = world.ledger("case", number)
    assert (opened["action"], opened["actor"]) == ("opened", f"officer:{OFFICER}")
    assert opened["payload"]["status"] == "open" and opened["payload"]["source"] == "roadside"
    # The owner's notices are queued as for a camera case.
    assert _count(desk, "SELECT count(*) FROM notifications WHERE case_number = ?", number) >= 1

    # The terminal's payment for the case number, at the on-the-spot rate.
    assert world.pay(number, FINE_592_1 // 2) == "settled"
    assert world.registry.case(number).status is CaseStatus.PAID


def test_a_resend_is_a_duplicate_not_a_second_case(desk: RoadsideDesk) -> None:
    officer = desk.officer()
    block = desk.block()
    envelope = desk.sign(desk.protocol(officer, block.number(block.first)), officer)
    assert desk.send(envelope).status is ReceiptStatus.STORED
    # The link came back: the journal sends it again, even after the certificate's revocation.
    desk.publish(revoked=(officer.certificate,))
    again = desk.send(envelope)
    assert again.status is ReceiptStatus.DUPLICATE
    assert _count(desk, "SELECT count(*) FROM cases") == 1
    assert _count(desk, "SELECT count(*) FROM roadside_protocols") == 1
    assert _count(desk, "SELECT count(*) FROM dead_letters") == 0
    assert len(desk.world.ledger("case", block.number(block.first))) == 1


def test_a_warning_closes_its_case_at_once_as_a_warning(desk: RoadsideDesk) -> None:
    world = desk.world
    officer = desk.officer()
    block = desk.block()
    number = block.number(block.last)
    protocol = desk.protocol(
        officer,
        number,
        outcome=ProtocolOutcome.WARNING,
        amount_minor=None,
        place=ProtocolPlace(address="Астана, пр. Республики 5", manual=True),
        driver_signature=DriverSignature.REFUSED,
        driver_signature_sha256=None,
    )
    assert desk.send(desk.sign(protocol, officer)).status is ReceiptStatus.STORED
    case = world.registry.case(number)
    assert case.status is CaseStatus.WARNED
    assert (case.full_minor, case.fine_mrp, case.amount_due_now_minor) == (0, 0, 0)
    assert (
        world.scalar(
            "SELECT place_manual || driver_signature FROM roadside_protocols WHERE case_number = ?",
            number,
        )
        == "1refused"
    )
    [opened] = world.ledger("case", number)
    assert opened["payload"]["status"] == "warned"
    # A warning asks nothing of the owner, and money paid against it does not reopen it.
    assert _count(desk, "SELECT count(*) FROM notifications WHERE case_number = ?", number) == 0
    assert world.pay(number, 100_000) == "case_closed"
    assert world.registry.case(number).status is CaseStatus.WARNED


@pytest.mark.parametrize("case", ["revoked", "other_ca", "not_an_officer", "deactivated"])
def test_a_protocol_failing_a_check_is_refused_with_its_reason_and_kept(
    desk: RoadsideDesk, case: str
) -> None:
    """The issue's must-show: revoked certificate, another CA's certificate, an IIN that is not
    an active officer."""
    world = desk.world
    block = desk.block()
    if case == "revoked":
        officer = desk.officer()
        desk.publish(revoked=(officer.certificate,))
        reason, words = "certificate_revoked", "was revoked on"
    elif case == "other_ca":
        stranger = AgencyCa.create("Not the agency", world.clock.now)
        officer = desk.officer(ca=stranger)
        reason, words = "certificate_untrusted", "CN=Not the agency"
    elif case == "not_an_officer":
        officer = desk.officer(username=None)
        reason, words = "not_an_active_officer", "is not an active officer"
    else:
        officer = desk.officer(username=REVIEWERS[1])
        with world.store.transaction() as db:
            db.conn.execute("UPDATE operators SET active = 0 WHERE username = ?", (REVIEWERS[1],))
        reason, words = "not_an_active_officer", officer.iin
    envelope = desk.sign(desk.protocol(officer, block.number(block.first)), officer)

    outcome = desk.send(envelope)
    assert (outcome.status, outcome.reason) == (ReceiptStatus.REJECTED, reason)
    assert words in outcome.detail
    kept = desk.dead_letter(str(envelope.message_id))
    assert kept == {"reason": reason, "detail": outcome.detail, "signed": 1, "retryable": 0}
    assert _count(desk, "SELECT count(*) FROM cases") == 0
    assert _count(desk, "SELECT count(*) FROM roadside_protocols") == 0


def test_a_number_outside_the_terminals_blocks_is_refused(desk: RoadsideDesk) -> None:
    world = desk.world
    officer = desk.officer()
    own = desk.block(size=5)
    with world.store.transaction() as db:
        db.conn.execute(
            "INSERT INTO devices (device_id, kind, public_key, registered_at)"
            " VALUES ('term-patrol-0002', 'terminal', ?, '2025-03-01T00:00:00Z')",
            (world.terminal_key.public_key_b64,),
        )
    others = desk.block(size=5, device_id="term-patrol-0002")
    for number in (
        own.number(own.last).replace(f"{own.last:08d}", f"{own.last + 50:08d}"),
        others.number(others.first),
    ):
        envelope = desk.sign(desk.protocol(officer, number), officer)
        outcome = desk.send(envelope)
        assert (outcome.status, outcome.reason) == (
            ReceiptStatus.REJECTED,
            "protocol_number_not_issued",
        ), number
        assert f"was not issued to terminal {world.terminal_id}" in outcome.detail
    assert _count(desk, "SELECT count(*) FROM dead_letters") == 2
    assert _count(desk, "SELECT count(*) FROM cases") == 0


def test_a_fine_that_is_not_the_articles_is_refused(desk: RoadsideDesk) -> None:
    officer = desk.officer()
    block = desk.block()
    protocol = desk.protocol(officer, block.number(block.first), amount_minor=FINE_592_1 - 100)
    outcome = desk.send(desk.sign(protocol, officer))
    assert (outcome.status, outcome.reason) == (ReceiptStatus.REJECTED, "amount_mismatch")
    assert str(FINE_592_1) in outcome.detail


def test_roadside_cases_pass_the_audit_and_an_edit_of_one_is_seen(desk: RoadsideDesk) -> None:
    """The verifier recomputes every case from its ledger entries: a roadside case (no
    fixation, a warning with no fine) verifies like a camera case, and an edited one does not."""
    world = desk.world
    officer = desk.officer()
    block = desk.block()
    fine, warning = block.number(block.first), block.number(block.first + 1)
    desk.send(desk.sign(desk.protocol(officer, fine), officer))
    protocol = desk.protocol(officer, warning, outcome=ProtocolOutcome.WARNING, amount_minor=None)
    desk.send(desk.sign(protocol, officer))
    world.pay(fine, FINE_592_1 // 2)
    key = DeviceKey.generate().public_key_b64
    report = verify_registry(world.store, key)
    assert report.ok, [str(problem) for problem in report.problems]
    assert report.records_checked == 2
    with world.store.transaction() as db:
        db.conn.execute(
            "UPDATE cases SET resolved_by = ? WHERE case_number = ?", (REVIEWERS[1], fine)
        )
    problems = [str(problem) for problem in verify_registry(world.store, key).problems]
    assert len(problems) == 1 and "resolved_by" in problems[0], problems


def test_a_protocol_waits_for_its_photos_then_keeps_them(desk: RoadsideDesk) -> None:
    world = desk.world
    officer = desk.officer()
    block = desk.block()
    photo = evidence_jpeg("roadside", seed=5)
    sha256 = hashlib.sha256(photo).hexdigest()
    protocol = desk.protocol(officer, block.number(block.first), photo_sha256=[sha256])
    envelope = desk.sign(protocol, officer)

    early = desk.send(envelope)
    assert (early.status, early.reason) == (ReceiptStatus.RETRY, "photo_missing")
    assert desk.dead_letter(str(envelope.message_id))["retryable"] == 1
    EvidenceStore(world.store, world.config.evidence_dir, world.config.max_evidence_bytes).put(
        sha256, photo, uploaded_by=world.terminal_id, now=world.clock()
    )
    assert desk.send(envelope).status is ReceiptStatus.STORED
    assert (
        world.scalar(
            "SELECT sha256 FROM roadside_protocol_photos WHERE protocol_id = ?",
            str(protocol.protocol_id),
        )
        == sha256
    )


def test_a_protocol_under_another_message_id_is_refused(desk: RoadsideDesk) -> None:
    """The message id is the protocol's id, so that a resend is a duplicate: a terminal that
    sent it under another id would defeat that, and is told so."""
    officer = desk.officer()
    block = desk.block()
    signed = desk.sign(desk.protocol(officer, block.number(block.first)), officer)
    body = SignedRoadsideProtocol.model_validate(signed.body)
    other = seal(
        MessageKind.ROADSIDE_PROTOCOL,
        desk.world.terminal_id,
        body,
        desk.world.terminal_key,
        message_id=uuid4(),
    )
    outcome = desk.send(other)
    assert (outcome.status, outcome.reason) == (ReceiptStatus.REJECTED, "id_mismatch")
    assert _count(desk, "SELECT count(*) FROM cases") == 0
