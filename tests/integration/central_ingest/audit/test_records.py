"""`audit verify` over everything issues 16 and 15 added to the ledger (on both stores): appeals
decided upheld, cancelled and amended, a payment a bank notified and its statement brought
again, a block of protocol numbers, a roadside fine and a roadside warning, all written by the
real services. The registry verifies as written; then one
field of each is changed behind the service's back (a plain sqlite3 or superuser psql
connection, triggers silenced, as an intruder would) and the verifier names each table, row and
field, the appeal's decision and text included."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from central_ingest.appeals import AppealService, Upload
from central_ingest.audit import AuditReport, load_or_create_registry_key, verify_registry
from central_ingest.core.appeals import AppealDecision, DecidedAs
from central_ingest.core.cases import CaseStatus
from central_ingest.core.clock import iso
from central_ingest.ingest.bank_notifications import (
    INSTITUTION_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    notification_headers,
)
from central_ingest.ingest.bank_payments import BankPayments
from central_ingest.store.postgres.db import translate
from contract.roadside import ProtocolOutcome
from tests.support.appeal_files import document_pdf, photo_jpeg
from tests.support.bank_statements import Bank, Line, statement_xml
from tests.support.registry_fixtures import OWNER_PERSON, SUPERVISORS, RegistryWorld
from tests.support.roadside_registry import RoadsideDesk
from tests.support.stores import superuser_database

pytestmark = pytest.mark.usefixtures("registry_store")

STATEMENT = "HALYK-2025-03-19"


@dataclass
class Built:
    world: RegistryWorld
    public_key: str
    upheld: str
    cancelled: str
    amended: str
    bank_paid: str
    reference: str
    roadside_fine: str
    roadside_warning: str

    def verify(self) -> AuditReport:
        return verify_registry(self.world.store, self.public_key)

    def edit(self, sql: str, *params: object) -> None:
        """An edit behind the service's back. On PostgreSQL the server's superuser, whose
        session fires no trigger; on SQLite every trigger is dropped first."""
        superuser = superuser_database()
        if superuser is not None:
            with psycopg.connect(superuser, autocommit=True) as pg:
                pg.execute("SET session_replication_role = replica")
                pg.execute(translate(sql), params)
            return
        conn = sqlite3.connect(self.world.config.db_path)
        try:
            names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (name,) in names.fetchall():
                conn.execute(f'DROP TRIGGER "{name}"')
            conn.execute(sql, params)
            conn.commit()
        finally:
            conn.close()

    def problems(self) -> list[str]:
        return [str(problem) for problem in self.verify().problems]


def _appealed(world: RegistryWorld, appeals: AppealService, decision: AppealDecision) -> str:
    case_number = world.open_case()
    world.clock.advance(days=2)
    files = [Upload("IMG_0001.jpg", photo_jpeg()), Upload("scan.pdf", document_pdf())]
    appeal = appeals.file_for_driver(case_number, OWNER_PERSON.plate, "It was not me.", files)
    world.clock.advance(days=1)
    amended = {"amended_article": "592", "amended_part": "1"}
    appeals.decide(
        appeal.appeal_id,
        SUPERVISORS[0],
        decision=decision,
        decided_as=DecidedAs.SUPERVISOR,
        note="the dashcam's video checked",
        **(amended if decision is AppealDecision.AMENDED else {}),
    )
    return case_number


def _bank_paid(world: RegistryWorld, bank: Bank) -> tuple[str, str]:
    case_number = world.open_case()
    due = world.registry.case(case_number).amount_due_now_minor
    reference = f"HB-{uuid.uuid4().hex[:12]}"
    body = json.dumps(
        {
            "reference": reference,
            "case_number": case_number,
            "amount_minor": due,
            "currency": "KZT",
            "paid_at": iso(world.clock.now),
        }
    ).encode()
    headers = notification_headers(
        bank.key, bank.institution, body, nonce=uuid.uuid4().hex, now=world.clock.now
    )
    payments = BankPayments(world.store, world.config, clock=lambda: world.clock.now)
    payments.receive_notification(
        institution=headers[INSTITUTION_HEADER],
        timestamp=headers[TIMESTAMP_HEADER],
        nonce=headers[NONCE_HEADER],
        signature=headers[SIGNATURE_HEADER],
        body=body,
    )
    assert world.registry.case(case_number).status is CaseStatus.PAID
    # The day's statement brings the same payment again: a repeat, recorded as one.
    statement = statement_xml(STATEMENT, [Line(reference, due, f"Штраф по делу {case_number}")])
    payments.import_statement(statement, bank.institution)
    return case_number, f"{bank.institution}:{reference}"


@pytest.fixture
def built(tmp_path: Path) -> Iterator[Built]:
    bank = Bank()
    world = RegistryWorld.create(
        tmp_path, tell_drivers=True, bank_payments={"institutions": [bank.entry()]}
    )
    key = load_or_create_registry_key(world.config.registry_key_path)
    appeals = AppealService(world.store, world.config, clock=world.clock)
    upheld = _appealed(world, appeals, AppealDecision.UPHELD)
    cancelled = _appealed(world, appeals, AppealDecision.CANCELLED)
    amended = _appealed(world, appeals, AppealDecision.AMENDED)
    bank_paid, reference = _bank_paid(world, bank)
    # As in the demo: the amended case, unpaid, goes to the bailiffs once its voluntary period
    # (run again from the decision) is over, and so does the upheld one.
    world.clock.advance(days=31)
    assert sorted(world.registry.hand_over_overdue()) == sorted([upheld, amended])
    desk = RoadsideDesk.create(world, tmp_path)
    try:
        officer = desk.officer()
        block = desk.block()
        fine, warning = block.number(block.first), block.number(block.first + 1)
        desk.send(desk.sign(desk.protocol(officer, fine), officer))
        desk.send(
            desk.sign(
                desk.protocol(officer, warning, outcome=ProtocolOutcome.WARNING, amount_minor=None),
                officer,
            )
        )
        assert world.registry.case(warning).status is CaseStatus.WARNED
        yield Built(
            world,
            key.public_key_b64,
            upheld,
            cancelled,
            amended,
            bank_paid,
            reference,
            fine,
            warning,
        )
    finally:
        desk.close()
        world.store.close()


def test_appeals_bank_payments_and_roadside_cases_verify_as_the_services_wrote_them(
    built: Built,
) -> None:
    world = built.world
    amended = world.registry.case(built.amended)
    # The decision changed what the case's opening recorded: the part, the fine, the dates.
    assert (amended.article, amended.part) == ("592", "1")
    assert world.registry.case(built.cancelled).status is CaseStatus.CANCELLED
    report = built.verify()
    assert report.ok, [str(problem) for problem in report.problems]
    assert [str(warning) for warning in report.warnings if "predate" in str(warning)] == []


def _protocol_id(built: Built, case_number: str) -> str:
    return str(
        built.world.scalar(
            "SELECT protocol_id FROM roadside_protocols WHERE case_number = ?", case_number
        )
    )


def test_each_field_edited_behind_the_service_is_named(built: Built) -> None:
    world = built.world
    appeal_of = {
        name: str(world.scalar("SELECT appeal_id FROM appeals WHERE case_number = ?", number))
        for name, number in (("upheld", built.upheld), ("cancelled", built.cancelled))
    }
    block_id = int(world.scalar("SELECT block_id FROM protocol_number_blocks"))
    fine_protocol = _protocol_id(built, built.roadside_fine)
    warning_protocol = _protocol_id(built, built.roadside_warning)
    new_text = "I admit it."
    # (table, key column, key, column, new value, the row's name in the sentence, the field's)
    edits: list[tuple[str, str, object, str, object, str, str]] = [
        ("appeals", "case_number", built.upheld, "decision", "cancelled", built.upheld, "decision"),
        ("appeals", "case_number", built.amended, "amended_fine_minor", 100, built.amended,
         "amended_fine_minor"),
        ("appeals", "case_number", built.cancelled, "text", new_text, built.cancelled,
         "sha256(text)"),
        ("appeals", "case_number", built.cancelled, "decided_by", SUPERVISORS[1], built.cancelled,
         "decided_by"),
        ("cases", "case_number", built.amended, "fine_minor", 100, built.amended, "fine_minor"),
        ("cases", "case_number", built.amended, "part", "2", built.amended, "part"),
        ("cases", "case_number", built.upheld, "entry_into_force",
         "2030-01-01T00:00:00.000000+00:00", built.upheld, "entry_into_force"),
        ("cases", "case_number", built.bank_paid, "paid_minor", 0, built.bank_paid, "paid_minor"),
        ("inbound_payments", "case_number", built.bank_paid, "amount_minor", 1, built.reference,
         "amount_minor"),
        ("inbound_payments", "case_number", built.bank_paid, "reported_again", 0,
         built.reference, "reported_again"),
        ("payment_statements", "message_id", STATEMENT, "entries", 9, f"halyk:{STATEMENT}",
         "entries"),
        ("protocol_number_blocks", "block_id", block_id, "last_number", 10_000, str(block_id),
         "last_number"),
        ("cases", "case_number", built.roadside_fine, "fine_minor", 100, built.roadside_fine,
         "fine_minor"),
        ("roadside_protocols", "protocol_id", fine_protocol, "amount_minor", 100, fine_protocol,
         "amount_minor"),
        ("cases", "case_number", built.roadside_warning, "offence_at",
         "2030-01-01T00:00:00.000000+00:00", built.roadside_warning, "offence_at"),
        ("roadside_protocols", "protocol_id", warning_protocol, "article", "611",
         warning_protocol, "article"),
    ]  # fmt: skip
    before = {}
    for table, key_column, key, column, value, _row, _field in edits:
        sql = f"SELECT {column} FROM {table} WHERE {key_column} = ?"
        before[(table, key, column)] = world.scalar(sql, key)
        assert before[(table, key, column)] != value  # the edit changes something
        built.edit(f"UPDATE {table} SET {column} = ? WHERE {key_column} = ?", value, key)
    # An attachment's size, and an appeal row no ledger entry wrote.
    built.edit(
        "UPDATE appeal_attachments SET size_bytes = 1 WHERE appeal_id = ? AND position = 2",
        appeal_of["upheld"],
    )
    problems = built.problems()
    for table, _key_column, key, column, value, row, field in edits:
        was = before[(table, key, column)]
        if field == "sha256(text)":  # the ledger holds the text's hash, not the text
            value, was = (hashlib.sha256(str(text).encode()).hexdigest() for text in (value, was))
        named = [p for p in problems if f"Table {table}, row {row}: {field} is {value!r}" in p]
        assert len(named) == 1, (table, row, field, problems)
        assert f"the ledger says {was!r}" in named[0]  # the value the service wrote
    named = [p for p in problems if f"Table appeals, row {built.upheld}: attachments is" in p]
    assert len(named) == 1 and ":1'" in named[0], problems
    assert len(problems) == len(edits) + 1, problems


def test_an_appeal_written_or_deleted_behind_the_service_is_named(built: Built) -> None:
    """A row the ledger never recorded (an intruder files an 'appeal' on a roadside fine,
    decided cancelled), and a row the ledger records that is gone."""
    at = iso(built.world.clock.now)
    built.edit(
        "INSERT INTO appeals (case_number, filed_at, due_at, channel, text, status, decided_at,"
        " decided_by, decided_as, decision) VALUES (?, ?, ?, 'office', 'x', 'decided', ?, ?,"
        " 'supervisor', 'cancelled')",
        built.roadside_fine,
        at,
        at,
        at,
        SUPERVISORS[0],
    )
    appeal_id = built.world.scalar(
        "SELECT appeal_id FROM appeals WHERE case_number = ?", built.upheld
    )
    built.edit("DELETE FROM appeal_attachments WHERE appeal_id = ?", appeal_id)
    built.edit("DELETE FROM appeals WHERE appeal_id = ?", appeal_id)
    problems = built.problems()
    assert any(
        f"Table appeals, row {built.roadside_fine} has no ledger entry at all" in p
        for p in problems
    ), problems
    assert any(
        f"Table appeals has no row {built.upheld}, which the ledger records" in p for p in problems
    ), problems
    assert len(problems) == 2, problems
