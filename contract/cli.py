"""``erap-contract``: tools around the wire contract."""

from __future__ import annotations

from pathlib import Path

import typer

from contract.schema_export import SCHEMA_PATH, render_schema, write_schema

app = typer.Typer(
    help="The shared wire contract: JSON Schema export and checks.", no_args_is_help=True
)


@app.command("export-schema")
def export_schema(path: Path = typer.Option(SCHEMA_PATH, help="Where to write the schema")) -> None:
    """Write the JSON Schema of the wire contract."""
    typer.echo(f"wrote {write_schema(path)}")


@app.command("check-schema")
def check_schema(path: Path = typer.Option(SCHEMA_PATH, help="The committed schema file")) -> None:
    """Exit non-zero if the committed schema differs from the models."""
    if not path.exists() or path.read_text(encoding="utf-8") != render_schema():
        typer.echo(f"{path} is out of date: run 'erap-contract export-schema'", err=True)
        raise typer.Exit(1)
    typer.echo(f"{path} matches the models")
