"""``erap-registry payments``: import a bank's daily statement (camt.054) and list what
reconciliation left for a supervisor (exceptions) and what must be paid back (refunds).

Tables and sentences are in the command line's language (``cli.common``); ``--json`` prints
codes and UTC times, the same in every language, for other programs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from central_ingest.cli.common import cli_translator, existing_store_path, open_config, refuse, say
from central_ingest.cli.progress import LiveProgress
from central_ingest.config import RegistryConfig
from central_ingest.core.errors import DomainError
from central_ingest.ingest.bank_payments import BankPayments, ImportSummary
from central_ingest.wiring import open_registry_store
from i18n import N_, PluralText, Text, Translator

payments_app = typer.Typer(
    help="Payments made in banks and through eGov: statements, exceptions, refunds.",
    no_args_is_help=True,
)

OUTCOME_LABELS: Mapping[str, str] = {
    "matched": N_("matched"),
    "wrong_amount": N_("wrong amount"),
    "unknown_case": N_("no such case"),
    "case_closed": N_("case already closed"),
    "case_cancelled": N_("case cancelled"),
    "case_appealed": N_("case under appeal"),
}

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        dir_okay=False,
        help="Registry configuration file (TOML); defaults apply without it.",
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Registry data directory; overrides data_dir of the config.",
        file_okay=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
LimitOption = Annotated[int, typer.Option(min=1, max=1000, help="Payments to list at most.")]


def _service(
    config_path: Path | None, data_dir: Path | None
) -> tuple[RegistryConfig, BankPayments, Translator]:
    config = open_config(config_path, data_dir)
    reader = cli_translator(config)
    existing_store_path(config, reader)  # exits, saying why, when there is none
    return config, BankPayments(open_registry_store(config), config), reader


@payments_app.command("import-statement")
def import_statement(
    file: Annotated[
        Path,
        typer.Argument(
            help="The statement: ISO 20022 camt.054.001.08 XML.", exists=True, dir_okay=False
        ),
    ],
    institution: Annotated[
        str,
        typer.Option(
            "--institution",
            "-i",
            help="The bank or eGov that sent it, as [bank_payments] names it.",
        ),
    ],
    as_json: JsonOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Check the statement against the camt.054.001.08 schema and reconcile every payment in it.

    A file that fails the schema is refused with the validator's reason and line, and nothing
    of it is imported. The same file again changes nothing.
    """
    _, service, reader = _service(config, data_dir)
    try:
        with LiveProgress(reader) as progress:
            summary = service.import_statement(file.read_bytes(), institution, progress=progress)
    except DomainError as exc:
        raise refuse(reader, exc.text, code=1) from None
    if as_json:
        typer.echo(json.dumps(_summary_json(summary), ensure_ascii=False, indent=2))
        return
    _say_summary(reader, summary)


def _summary_json(summary: ImportSummary) -> dict[str, Any]:
    return {
        "institution": summary.institution,
        "message_id": summary.message_id,
        "file_sha256": summary.file_sha256,
        "already_imported": summary.already_imported,
        "payments": summary.payments,
        "new_payments": summary.new_payments,
        "duplicates": summary.duplicates,
        "discrepancies": summary.discrepancies,
        "left_aside": summary.left_aside,
        "refund_minor": summary.refund_minor,
        "outcomes": dict(sorted(summary.outcomes.items())),
    }


def _say_summary(reader: Translator, summary: ImportSummary) -> None:
    if summary.already_imported:
        say(
            reader,
            Text(
                "Statement %(message)s of %(institution)s was imported before from this very"
                " file: nothing changed.",
                message=summary.message_id,
                institution=summary.institution,
            ),
        )
        return
    say(
        reader,
        PluralText(
            "Statement %(message)s: %(count)s payment, %(new)s new, %(duplicates)s already"
            " reported by notification.",
            "Statement %(message)s: %(count)s payments, %(new)s new, %(duplicates)s already"
            " reported by notification.",
            summary.payments,
            message=summary.message_id,
            count=summary.payments,
            new=summary.new_payments,
            duplicates=summary.duplicates,
        ),
    )
    for outcome, count in sorted(summary.outcomes.items()):
        label = reader.gettext(OUTCOME_LABELS.get(outcome, outcome))
        typer.echo(f"  {label}: {reader.number(count)}")
    if summary.discrepancies:
        say(
            reader,
            PluralText(
                "%(count)s payment differs from what its notification said: see the exceptions.",
                "%(count)s payments differ from what their notifications said: see the exceptions.",
                summary.discrepancies,
                count=summary.discrepancies,
            ),
        )
    if summary.refund_minor:
        say(
            reader,
            Text("To refund: %(amount)s.", amount=reader.money(summary.refund_minor)),
        )
    if summary.left_aside:
        say(
            reader,
            PluralText(
                "%(count)s entry is not a booked credit and was left aside.",
                "%(count)s entries are not booked credits and were left aside.",
                summary.left_aside,
                count=summary.left_aside,
            ),
        )


@payments_app.command("exceptions")
def exceptions(
    limit: LimitOption = 200,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Payments a supervisor must look at: wrong amounts, unknown cases, closed, cancelled or
    appealed cases, and payments a later report contradicted."""
    _, service, reader = _service(config, data_dir)
    _print_rows(
        reader, service.exceptions(limit), N_("Payments made elsewhere to look at"), as_json
    )


@payments_app.command("refunds")
def refunds(
    limit: LimitOption = 200,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Payments made elsewhere with money to give back to the payer."""
    _, service, reader = _service(config, data_dir)
    _print_rows(reader, service.refunds(limit), N_("Payments made elsewhere to refund"), as_json)


def _print_rows(reader: Translator, rows: list[dict[str, Any]], title: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        say(reader, Text("No payment to list."))
        return
    money = reader.money
    table = Table(title=reader.gettext(title))
    for column in (
        N_("received (Astana time)"),
        N_("institution"),
        N_("reference"),
        N_("case"),
        N_("outcome"),
        N_("amount paid"),
        N_("amount due"),
        N_("to refund"),
    ):
        table.add_column(reader.gettext(column))
    for row in rows:
        outcome = reader.gettext(OUTCOME_LABELS.get(row["outcome"], row["outcome"]))
        if row["discrepancy"] is not None:
            outcome += " / " + reader.gettext(N_("contradicted by a later report"))
        table.add_row(
            _local_time(reader, row["received_at"]),
            row["institution"],
            row["reference"],
            row["case_number"],
            outcome,
            money(int(row["amount_minor"])),
            "" if row["due_minor"] is None else money(int(row["due_minor"])),
            money(int(row["refund_minor"])) if row["refund_minor"] else "",
        )
    Console().print(table)


def _local_time(reader: Translator, stored: str) -> str:
    """A stored UTC timestamp in Astana time as the reader's language writes it."""
    try:
        return reader.date_time(datetime.fromisoformat(stored))
    except ValueError:
        return stored
