"""``python -m i18n``: keep the gettext catalogs in step with the code."""

from __future__ import annotations

import typer
from rich.console import Console

from i18n.domains import DOMAINS
from i18n.maintenance import problems, update

app = typer.Typer(help=__doc__, no_args_is_help=True)
console = Console()


@app.command("update")
def update_command(
    domain: list[str] = typer.Option([], help="only these domains (default: all)"),
) -> None:
    """Extract every message, update the kk/ru/en catalogs and compile them."""
    for name in domain or list(DOMAINS):
        update(DOMAINS[name])
        console.print(f"{name}: catalogs updated and compiled")


@app.command("check")
def check_command() -> None:
    """Fail if a message is missing, untranslated or fuzzy in Kazakh or Russian."""
    found = list(problems())
    for problem in found:
        console.print(str(problem), highlight=False)
    if found:
        console.print(f"[red]{len(found)} catalog problems[/red]")
        raise typer.Exit(1)
    console.print("every message is translated in kk and ru")
