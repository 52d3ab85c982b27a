"""Operator accounts from the registry host: the first administrator is created here, and any
account can be managed here when the HTTP API is not at hand.

Passwords never go on the command line (it is visible to every user of the host): they are
prompted for with confirmation, or read from standard input (``--password-stdin``) or from the
``ERAP_OPERATOR_PASSWORD`` environment variable for scripts.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from central_ingest.config import ConfigError, load_config
from central_ingest.core.cases import DomainError
from central_ingest.operators import Operators, Role
from central_ingest.store.db import Store
from i18n import LANGUAGES, Language, parse_language

PASSWORD_ENV = "ERAP_OPERATOR_PASSWORD"
# Accounts changed on the host are recorded as the host's own job, not as an officer.
CLI_ACTOR = "system:operators-cli"

operators_app = typer.Typer(
    help="Operator accounts: add, change password, set the language, deactivate, list.",
    no_args_is_help=True,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Registry configuration file (TOML); defaults apply without it.",
                 envvar="ERAP_CONFIG", exists=True, dir_okay=False),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Registry data directory; overrides data_dir of the config.",
                 file_okay=False),
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option("--password-stdin",
                 help=f"Read the password from the first line of standard input (else from"
                      f" ${PASSWORD_ENV}, else an interactive prompt)."),
]


def _operators(config_path: Path | None, data_dir: Path | None) -> Operators:
    overrides: dict[str, object] = {} if data_dir is None else {"data_dir": data_dir}
    try:
        config = load_config(config_path, **overrides)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    return Operators(Store(config.db_path), session_hours=config.session_hours)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env is not None:
        return from_env
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _fail(exc: DomainError) -> typer.Exit:
    typer.echo(f"error: {exc.message}", err=True)
    return typer.Exit(1)


@operators_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name, e.g. a.seitkali.")],
    role: Annotated[Role, typer.Option("--role", help="What the account may do.")],
    display_name: Annotated[str, typer.Option("--display-name", help="Full name shown in the"
                                              " console and reports.")],
    password_stdin: PasswordStdinOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create an operator account."""
    operators = _operators(config, data_dir)
    try:
        operator = operators.create(
            username, display_name=display_name, role=role,
            password=_password(password_stdin), actor=CLI_ACTOR,
        )
    except DomainError as exc:
        raise _fail(exc) from None
    typer.echo(f"created {operator.role.value} {operator.username} ({operator.display_name})")


@operators_app.command("set-password")
def set_password(
    username: Annotated[str, typer.Argument(help="Login name of the account.")],
    password_stdin: PasswordStdinOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Replace an account's password; its open sessions end."""
    operators = _operators(config, data_dir)
    try:
        operators.set_password(username, _password(password_stdin), actor=CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc) from None
    typer.echo(f"password of {username} changed; its sessions have ended")


@operators_app.command("deactivate")
def deactivate(
    username: Annotated[str, typer.Argument(help="Login name of the account.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Disable an account at once, ending its sessions. Accounts are never deleted: decisions
    and the audit ledger name them."""
    operators = _operators(config, data_dir)
    try:
        operator = operators.deactivate(username, actor=CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc) from None
    typer.echo(f"deactivated {operator.username}")


# What an administrator types to give the operator back to the registry's default language.
DEFAULT_LANGUAGE_WORD = "default"


@operators_app.command("language")
def language(
    username: Annotated[str, typer.Argument(help="Login name of the account.")],
    code: Annotated[str, typer.Argument(
        metavar="LANGUAGE",
        help=f"{', '.join(LANGUAGES)}, or '{DEFAULT_LANGUAGE_WORD}' for the registry's default.",
    )],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Set the language of an operator's screens (kk, ru, en), or return the operator to the
    registry's default language."""
    chosen: Language | None = None
    if code.strip().lower() != DEFAULT_LANGUAGE_WORD:
        try:
            chosen = parse_language(code)
        except ValueError as exc:
            typer.echo(f"error: {exc}, or {DEFAULT_LANGUAGE_WORD}", err=True)
            raise typer.Exit(2) from None
    operators = _operators(config, data_dir)
    try:
        operator = operators.set_language(username, chosen, actor=CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc) from None
    shown = "the registry's default" if operator.language is None else operator.language
    typer.echo(f"language of {operator.username}: {shown}")


@operators_app.command("list")
def list_operators(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
    = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """All accounts, active or not."""
    operators = _operators(config, data_dir).list()
    if as_json:
        typer.echo(json.dumps(
            [
                {"username": o.username, "display_name": o.display_name, "role": o.role.value,
                 "active": o.active, "created_at": o.created_at.isoformat(),
                 "language": o.language}
                for o in operators
            ],
            ensure_ascii=False, indent=2,
        ))
        return
    table = Table(title="Operators")
    for column in ("user name", "name", "role", "active", "language", "created (UTC)"):
        table.add_column(column)
    for o in operators:
        table.add_row(o.username, o.display_name, o.role.value, "yes" if o.active else "no",
                      o.language or DEFAULT_LANGUAGE_WORD,
                      o.created_at.strftime("%Y-%m-%d %H:%M"))
    Console().print(table)

