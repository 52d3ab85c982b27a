"""``erap-registry undelivered``: the supervisor's list of overdue cases held from the
bailiffs because the driver was not told of the resolution (``GET /v1/supervisor/undelivered``
at the command line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from central_ingest.cli.common import cli_translator, existing_store_path, open_config, say
from central_ingest.core.labels import HELD_REASONS, label
from central_ingest.wiring import build_case_service, open_registry_store
from i18n import N_, PluralText, Text

UNDELIVERED_HELP = (
    "Overdue cases held from the bailiffs because the driver was not told of the resolution."
)


def undelivered(
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="Rows to show.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", dir_okay=False, help="Registry TOML file.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", file_okay=False, help="Registry data directory.")
    ] = None,
) -> None:
    """Overdue cases held from the bailiffs because the driver was not told of the resolution.

    A case goes to the bailiffs only with a delivered notice of the resolution, or after the
    failed attempts [bailiffs] requires; the others are listed here, with why.
    """
    settings = open_config(config, data_dir)
    reader = cli_translator(settings)
    existing_store_path(settings, reader)
    store = open_registry_store(settings)
    try:
        held = build_case_service(store, settings).undelivered_cases(limit)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps([view.model_dump(mode="json") for view in held], indent=2))
        return
    if not held:
        say(reader, Text("Every overdue case's driver has been told: none is held."))
        return
    table = Table(title=reader.gettext(N_("Overdue cases held: the driver was not told")))
    for column in (N_("case"), N_("plate"), N_("pay by"), N_("why held"), N_("failed attempts")):
        table.add_column(reader.gettext(column))
    table.add_column(reader.gettext(N_("last failure")), overflow="fold")
    for view in held:
        table.add_row(
            view.case_number,
            view.plate,
            reader.date_time(view.voluntary_deadline),
            reader.gettext(label(view.reason.value, HELD_REASONS)),
            reader.text(
                Text(
                    "%(failed)s of %(required)s over %(days)s days",
                    failed=reader.number(view.failed_rounds),
                    required=reader.number(view.attempts_required),
                    days=reader.number(view.attempt_days),
                )
            ),
            view.last_error or "",
        )
    Console().print(table)
    say(
        reader,
        PluralText(
            "%(count)s case held; it goes to the bailiffs once its notice is delivered or the"
            " rule's failed attempts are complete.",
            "%(count)s cases held; each goes to the bailiffs once its notice is delivered or the"
            " rule's failed attempts are complete.",
            len(held),
            count=reader.number(len(held)),
        ),
    )
