"""The banks' daily statements (ISO 20022 camt.054.001.08), checked against the published XSD
and reconciled with the notifications already received, on both stores: through the service
and through ``erap-registry payments import-statement``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from central_ingest.audit import verify_registry
from central_ingest.audit.proofs import case_inclusion_proofs
from central_ingest.cli.main import app as registry_cli
from central_ingest.ingest.bank_notifications import notification_headers
from central_ingest.ingest.bank_payments import BankPayments
from central_ingest.ingest.camt054 import StatementRefused
from central_ingest.store.db import Store
from contract import DeviceKey
from tests.support.bank_statements import Bank, Line, statement_xml
from tests.support.registry_fixtures import RegistryWorld
from tests.support.stores import current_database

pytestmark = pytest.mark.usefixtures("registry_store")

# 85 km/h where 60 is the limit: 10 MRP of 2025, in tiyn; half of it while the discount holds.
FULL = 10 * 3932 * 100
HALF = FULL // 2


def _world(tmp_path: Path, bank: Bank) -> tuple[RegistryWorld, BankPayments]:
    world = RegistryWorld.create(tmp_path, bank_payments={"institutions": [bank.entry()]})
    return world, BankPayments(world.store, world.config, clock=world.clock)


def _notify(
    world: RegistryWorld, service: BankPayments, bank: Bank, body: dict[str, object]
) -> str:
    data = json.dumps(body).encode()
    headers = notification_headers(
        bank.key,
        bank.institution,
        data,
        nonce=f"nonce-for-{body['reference']}-0000",
        now=world.clock.now,
    )
    return service.receive_notification(
        institution=headers["X-Erap-Institution"],
        timestamp=headers["X-Erap-Timestamp"],
        nonce=headers["X-Erap-Nonce"],
        signature=headers["X-Erap-Signature"],
        body=data,
    ).outcome


def _state(store: Store) -> tuple[int, int, int, list[tuple[str, str, int]]]:
    conn = store.db.conn
    cases = conn.execute("SELECT case_number, status, paid_minor FROM cases ORDER BY 1").fetchall()
    return (
        int(conn.execute("SELECT COUNT(*) FROM inbound_payments").fetchone()[0]),
        int(conn.execute("SELECT COUNT(*) FROM payment_statements").fetchone()[0]),
        int(conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]),
        [(str(number), str(status), int(paid)) for number, status, paid in cases],
    )


def test_a_statement_counts_notified_payments_once_and_sorts_out_the_rest(tmp_path: Path) -> None:
    bank = Bank()
    world, service = _world(tmp_path, bank)
    notified, short, over, flagged_later = (world.open_case() for _ in range(4))
    # Paid in the bank's app the same day: the notification came at once.
    outcome = _notify(
        world,
        service,
        bank,
        {
            "reference": "HB-1",
            "case_number": notified,
            "amount_minor": HALF,
            "paid_at": world.clock.now.isoformat(),
        },
    )
    assert outcome == "matched"
    _notify(
        world,
        service,
        bank,
        {
            "reference": "HB-5",
            "case_number": flagged_later,
            "amount_minor": HALF,
            "paid_at": world.clock.now.isoformat(),
        },
    )
    before = _state(world.store)

    statement = statement_xml(
        "HALYK-2025-03-10",
        [
            Line("HB-1", HALF, f"Штраф по делу {notified}"),
            Line("HB-2", HALF - 100_000, f"Оплата штрафа {short.lower()}"),
            Line("HB-3", HALF + 250_000, f"Айыппұл {over}"),
            Line("HB-4", 500_000, "Штраф KZ-GP-2025-9999999"),
            # The statement says otherwise than the notification did: flagged, not applied.
            Line("HB-5", HALF + 1, f"Штраф {flagged_later}"),
            Line("HB-6", 700_000, "Комиссия банка", credit=False),
        ],
    )
    stages: list[str] = []
    summary = service.import_statement(
        statement, "halyk", progress=lambda stage, done, total: stages.append(stage)
    )
    assert (summary.payments, summary.new_payments, summary.duplicates) == (5, 3, 2)
    assert (summary.discrepancies, summary.left_aside) == (1, 1)
    assert dict(summary.outcomes) == {"matched": 1, "wrong_amount": 1, "unknown_case": 1}
    assert summary.refund_minor == 250_000
    assert {"Checking the statement", "Reconciling payments"} <= set(stages)

    cases = {number: (status, paid) for number, status, paid in _state(world.store)[3]}
    assert cases[notified] == ("paid", HALF)  # once, not twice
    assert cases[short] == ("underpaid", HALF - 100_000)
    assert cases[over] == ("paid", HALF + 250_000)
    assert cases[flagged_later] == ("paid", HALF)
    assert _state(world.store)[0] == before[0] + 3

    exceptions = {row["reference"]: row for row in service.exceptions()}
    assert set(exceptions) == {"HB-2", "HB-4", "HB-5"}
    assert exceptions["HB-2"]["outcome"] == "wrong_amount"
    assert exceptions["HB-4"]["outcome"] == "unknown_case"
    assert json.loads(exceptions["HB-5"]["discrepancy"])["differs"] == ["amount_minor"]
    assert [(row["reference"], row["refund_minor"]) for row in service.refunds()] == [
        ("HB-3", 250_000)
    ]
    confirmed = world.scalar(
        "SELECT statement_confirmed_at FROM inbound_payments WHERE reference = 'HB-1'"
    )
    assert confirmed is not None
    assert [entry["action"] for entry in world.ledger("inbound_payment", "halyk:HB-1")] == [
        "received",
        "reported_again",
    ]

    # The bank's notification of a payment the statement brought first, arriving late: a
    # repeat, answered with what the statement's line did; the case is not paid twice.
    late = _notify(
        world,
        service,
        bank,
        {
            "reference": "HB-2",
            "case_number": short,
            "amount_minor": HALF - 100_000,
            "paid_at": world.clock.now.isoformat(),
        },
    )
    assert late == "wrong_amount"
    assert world.scalar("SELECT paid_minor FROM cases WHERE case_number = ?", short) == (
        HALF - 100_000
    )
    assert world.scalar("SELECT reported_again FROM inbound_payments WHERE reference = 'HB-2'") == 1

    # The prosecutor's verification recomputes each case from its ledger entries: the
    # payments' entries account for every change.
    report = verify_registry(world.store, DeviceKey.generate().public_key_b64, over)
    assert report.ok, [problem.render(None) for problem in report.problems]
    # The case's history for the prosecutor holds the payment's own entries, with proofs.
    bundle = case_inclusion_proofs(world.store, notified).to_json()
    actions = [
        (item["entry"]["entity_type"], item["entry"]["action"]) for item in bundle["entries"]
    ]
    assert ("inbound_payment", "received") in actions
    assert ("inbound_payment", "reported_again") in actions

    # The same file again changes nothing; another file under the same message id is refused.
    after = _state(world.store)
    again = service.import_statement(statement, "halyk")
    assert again.already_imported
    assert _state(world.store) == after
    other = statement_xml("HALYK-2025-03-10", [Line("HB-7", HALF, f"Штраф {short}")])
    with pytest.raises(Exception, match=r"was imported on .* from another file"):
        service.import_statement(other, "halyk")
    assert _state(world.store) == after


def test_a_statement_that_fails_the_schema_is_refused_with_its_line_and_imports_nothing(
    tmp_path: Path,
) -> None:
    bank = Bank()
    world, service = _world(tmp_path, bank)
    case_number = world.open_case()
    good = statement_xml("HALYK-2025-03-11", [Line("HB-10", HALF, f"Штраф {case_number}")])
    before = _state(world.store)
    # The booking status code is four letters at most in the schema (ExternalEntryStatus1Code).
    bad = good.replace(b"<Sts><Cd>BOOK</Cd></Sts>", b"<Sts><Cd>BOOKED</Cd></Sts>")
    line = good.decode().splitlines().index("        <Sts><Cd>BOOK</Cd></Sts>") + 1
    with pytest.raises(StatementRefused) as refused:
        service.import_statement(bad, "halyk")
    assert f"at line {line}:" in refused.value.message
    assert "Sts/Cd" in refused.value.message
    assert "Nothing was imported" in refused.value.message
    for broken in (good[:-40], b"<!DOCTYPE d [<!ENTITY x 'y'>]><d>&x;</d>"):
        with pytest.raises(StatementRefused):
            service.import_statement(broken, "halyk")
    # Valid by the schema, yet not the registry's: a payment in another currency.
    dollars = statement_xml(
        "HALYK-2025-03-13", [Line("HB-20", HALF, f"Штраф {case_number}", currency="USD")]
    )
    with pytest.raises(StatementRefused, match="in USD; the registry's account takes KZT only"):
        service.import_statement(dollars, "halyk")
    assert _state(world.store) == before

    # The command a clerk runs says the same, in the language asked, and exits 1.
    config = tmp_path / "registry.toml"
    config.write_text(
        f'data_dir = "{world.config.data_dir}"\n'
        "[[bank_payments.institutions]]\n"
        + "".join(f'{key} = "{value}"\n' for key, value in bank.entry().items()),
        encoding="utf-8",
    )
    statement = tmp_path / "statement.xml"
    statement.write_bytes(bad)
    env = {"ERAP_DATABASE": current_database() or ""}
    runner = CliRunner()
    args = ["--language", "en", "payments", "import-statement", str(statement), "-i", "halyk"]
    result = runner.invoke(registry_cli, [*args, "--config", str(config)], env=env)
    assert result.exit_code == 1, result.output
    assert f"refused at line {line}" in result.output
    assert _state(world.store) == before

    statement.write_bytes(good)
    result = runner.invoke(registry_cli, [*args, "--config", str(config), "--json"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["new_payments"], summary["outcomes"]) == (1, {"matched": 1})
    listed = runner.invoke(
        registry_cli, ["payments", "refunds", "--config", str(config), "--json"], env=env
    )
    assert listed.exit_code == 0 and json.loads(listed.output) == []
    nothing = runner.invoke(
        registry_cli,
        ["--language", "ru", "payments", "exceptions", "--config", str(config)],
        env=env,
    )
    assert nothing.exit_code == 0 and "Платежей для вывода нет." in nothing.output

    statement.write_bytes(
        statement_xml("HALYK-2025-03-12", [Line("HB-11", 90_000, "Штраф KZ-GP-2025-7777777")])
    )
    assert runner.invoke(registry_cli, [*args, "--config", str(config)], env=env).exit_code == 0
    table = runner.invoke(
        registry_cli,
        ["--language", "kk", "payments", "exceptions", "--config", str(config)],
        env={**env, "COLUMNS": "200"},  # one line per payment
    )
    assert table.exit_code == 0, table.output
    assert "HB-11" in table.output and "мұндай іс жоқ" in table.output
