"""``erap-registry appeals``: the appeals waiting for a decision, and a decision recorded from
the registry host (a supervisor's, or a court's entered by an officer with its reference) when
the console is not at hand. The operator is named with ``--by`` and must hold the role the API
would require; the decision is recorded under that name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from central_ingest.appeals import AppealService
from central_ingest.cli.common import cli_translator, existing_store_path, open_config, refuse, say
from central_ingest.core.appeals import AppealDecision, DecidedAs, local_moment
from central_ingest.core.errors import DomainError
from central_ingest.core.labels import label_text
from central_ingest.wiring import open_registry_store
from i18n import PluralText, Text

appeals_app = typer.Typer(
    help="Drivers' appeals: list those waiting, record a decision.", no_args_is_help=True
)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Registry configuration file (TOML); defaults apply without it.",
        envvar="ERAP_CONFIG",
        exists=True,
        dir_okay=False,
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


DECISION_WORDS = {
    AppealDecision.UPHELD: Text("upheld"),
    AppealDecision.CANCELLED: Text("cancelled"),
    AppealDecision.AMENDED: Text("amended"),
}


@appeals_app.command("list")
def list_command(
    config_path: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for programs.")] = False,
) -> None:
    """The appeals waiting for a decision, oldest first."""
    config = open_config(config_path, data_dir)
    reader = cli_translator(config)
    existing_store_path(config, reader)
    store = open_registry_store(config)
    try:
        appeals = AppealService(store, config).open_appeals()
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps([item.model_dump(mode="json") for item in appeals], indent=2))
        return
    if not appeals:
        say(reader, Text("No appeal is waiting for a decision."))
        return
    table = Table(
        reader.text(
            PluralText(
                "%(count)s appeal waits for a decision.",
                "%(count)s appeals wait for a decision.",
                len(appeals),
                count=len(appeals),
            )
        )
    )
    for heading in (Text("Appeal"), Text("Case"), Text("Filed (Astana time)"), Text("Files")):
        table.add_column(reader.text(heading))
    table.add_column(reader.text(Text("Text")), overflow="fold")
    for item in appeals:
        table.add_row(
            str(item.appeal_id),
            item.case_number,
            local_moment(item.filed_at),
            str(len(item.attachments)),
            item.text[:200],
        )
    Console().print(table)


@appeals_app.command("decide")
def decide_command(
    appeal_id: Annotated[int, typer.Argument(min=1, help="The appeal's number.")],
    decision: Annotated[
        AppealDecision, typer.Option("--decision", help="upheld, cancelled or amended.")
    ],
    by: Annotated[str, typer.Option("--by", help="The operator recording the decision.")],
    court_reference: Annotated[
        str | None,
        typer.Option(
            "--court-reference",
            help="A court's decision: the court's reference; entered by a reviewer or supervisor.",
        ),
    ] = None,
    article: Annotated[
        str | None, typer.Option("--article", help="amended: the new article.")
    ] = None,
    part: Annotated[str | None, typer.Option("--part", help="amended: its part.")] = None,
    note: Annotated[str, typer.Option("--note", help="Why (required to cancel).")] = "",
    config_path: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Record a decision: by a supervisor, or a court's with --court-reference."""
    config = open_config(config_path, data_dir)
    reader = cli_translator(config)
    existing_store_path(config, reader)
    store = open_registry_store(config)
    decided_as = DecidedAs.SUPERVISOR if court_reference is None else DecidedAs.COURT
    try:
        service = AppealService(store, config)
        service.check_decider(by, decided_as)
        appeal = service.decide(
            appeal_id,
            by,
            decision=decision,
            decided_as=decided_as,
            court_reference=court_reference,
            note=note,
            amended_article=article,
            amended_part=part,
        )
    except DomainError as refused:
        raise refuse(reader, refused.text) from None
    finally:
        store.close()
    say(
        reader,
        Text(
            "Appeal %(appeal)s on case %(case)s is decided: %(decision)s; the case is now"
            " “%(status)s”.",
            appeal=appeal.appeal_id,
            case=appeal.case_number,
            decision=DECISION_WORDS[decision],
            status=label_text(appeal.case_status),
        ),
    )
