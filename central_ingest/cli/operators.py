"""Operator accounts from the registry host: the first administrator is created here, and any
account can be managed here when the HTTP API is not at hand.

Passwords never go on the command line (it is visible to every user of the host): they are
prompted for with confirmation, or read from standard input (``--password-stdin``) or from the
``ERAP_OPERATOR_PASSWORD`` environment variable for scripts.

Results and refusals are printed in the command line's language (``cli.common``); ``list
--json`` is for programs and prints codes, the same in every language.
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

from central_ingest.cli.common import cli_translator, open_config, refuse, say
from central_ingest.config import RegistryConfig
from central_ingest.core.errors import DomainError
from central_ingest.core.iin import is_valid_iin
from central_ingest.core.labels import ROLES, label
from central_ingest.operators import Operators, Role
from central_ingest.roadside import set_officer_identity
from central_ingest.wiring import build_operators, open_registry_store
from i18n import LANGUAGE_NAMES, LANGUAGES, Language, PluralText, Text, Translator, language_or_none

PASSWORD_ENV = "ERAP_OPERATOR_PASSWORD"
# Accounts changed on the host are recorded as the host's own job, not as an officer.
CLI_ACTOR = "system:operators-cli"

operators_app = typer.Typer(
    help="Operator accounts: add, change password, set the language, deactivate, reactivate,"
    " lift a sign-in pause, list.",
    no_args_is_help=True,
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
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help=f"Read the password from the first line of standard input (else from"
        f" ${PASSWORD_ENV}, else an interactive prompt).",
    ),
]


IinOption = Annotated[
    str | None,
    typer.Option(
        "--iin",
        help="The officer's IIN as his signing certificate names it (12 digits); roadside"
        " protocols he signs are accepted only from an active account holding it.",
    ),
]
UnitOption = Annotated[
    str | None,
    typer.Option("--unit", help="The officer's unit, e.g. 'Astana road police, 2nd battalion'."),
]


def _operators(
    config_path: Path | None, data_dir: Path | None
) -> tuple[Operators, RegistryConfig, Translator]:
    config = open_config(config_path, data_dir)
    operators = build_operators(open_registry_store(config), config)
    return operators, config, cli_translator(config)


def _password(from_stdin: bool, reader: Translator) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env is not None:
        return from_env
    # click words the mismatch itself ("The two entered values do not match"), in English.
    password: str = typer.prompt(
        reader.gettext("Password"),
        hide_input=True,
        confirmation_prompt=reader.gettext("Repeat the password"),
    )
    return password


def _fail(exc: DomainError, reader: Translator) -> typer.Exit:
    """The registry's refusal as a sentence in the reader's language (its ``text``; ``message``
    is the English rendering, for logs)."""
    return refuse(reader, exc.text, 1)


@operators_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name, e.g. a.seitkali.")],
    role: Annotated[Role, typer.Option("--role", help="What the account may do.")],
    display_name: Annotated[
        str, typer.Option("--display-name", help="Full name shown in the console and reports.")
    ],
    password_stdin: PasswordStdinOption = False,
    iin: IinOption = None,
    unit: UnitOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create an operator account."""
    operators, settings, reader = _operators(config, data_dir)
    if iin is not None and not is_valid_iin(iin.strip()):
        # Refused before the account exists: an officer without his IIN signs nothing.
        raise refuse(reader, _invalid_iin(iin), 1)
    try:
        operator = operators.create(
            username,
            display_name=display_name,
            role=role,
            password=_password(password_stdin, reader),
            actor=CLI_ACTOR,
        )
    except DomainError as exc:
        raise _fail(exc, reader) from None
    say(
        reader,
        Text(
            "Created the account %(user)s (%(name)s), role: %(role)s.",
            user=operator.username,
            name=operator.display_name,
            role=reader.gettext(label(operator.role.value, ROLES)),
        ),
    )
    if iin is not None or unit is not None:
        _set_identity(settings, reader, operator.username, iin, unit)


def _invalid_iin(iin: str) -> Text:
    return Text("%(iin)s is not a valid IIN: 12 digits with a correct check digit.", iin=iin)


def _set_identity(
    settings: RegistryConfig,
    reader: Translator,
    username: str,
    iin: str | None,
    unit: str | None,
) -> None:
    try:
        stored_iin, stored_unit = set_officer_identity(
            open_registry_store(settings), username, iin=iin, unit=unit
        )
    except DomainError as exc:
        raise _fail(exc, reader) from None
    say(
        reader,
        Text(
            "%(user)s: IIN %(iin)s, unit %(unit)s.",
            user=username,
            iin=stored_iin or "-",
            unit=stored_unit or "-",
        ),
    )


@operators_app.command("identity")
def identity(
    username: Annotated[str, typer.Argument(help="Login name.")],
    iin: IinOption = None,
    unit: UnitOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Set an officer's IIN (as his signing certificate names it: his roadside protocols are
    accepted only while his account is active) and his unit; an empty value clears it."""
    _operators_unused, settings, reader = _operators(config, data_dir)
    _set_identity(settings, reader, username, iin, unit)


@operators_app.command("set-password")
def set_password(
    username: Annotated[str, typer.Argument(help="Login name of the account.")],
    password_stdin: PasswordStdinOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Replace an account's password; its open sessions end."""
    operators, _config, reader = _operators(config, data_dir)
    try:
        operators.set_password(username, _password(password_stdin, reader), actor=CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc, reader) from None
    say(
        reader, Text("The password of %(user)s is changed; its sessions have ended.", user=username)
    )


@operators_app.command("deactivate")
def deactivate(
    username: Annotated[str, typer.Argument(help="Login name of the account.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Disable an account at once, ending its sessions. Accounts are never deleted: decisions
    and the audit ledger name them."""
    operators, _config, reader = _operators(config, data_dir)
    try:
        operator = operators.deactivate(username, actor=CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc, reader) from None
    say(reader, Text("The account %(user)s is deactivated.", user=operator.username))


@operators_app.command("reactivate")
def reactivate(
    username: Annotated[str, typer.Argument(help="Login name of the account.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Enable a deactivated account again, with its password as it was (run set-password too if
    the old one may be known)."""
    operators, _config, reader = _operators(config, data_dir)
    try:
        operator = operators.reactivate(username, actor=CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc, reader) from None
    say(reader, Text("The account %(user)s is active again.", user=operator.username))


@operators_app.command("lift-pause")
def lift_pause(
    username: Annotated[str, typer.Argument(help="Login name of the account.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Let an account sign in again at once after failed sign-ins, from every address."""
    operators, _config, reader = _operators(config, data_dir)
    try:
        operator = operators.lift_sign_in_pause(username, actor=CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc, reader) from None
    say(
        reader,
        Text(
            "%(user)s may sign in again at once: the failed sign-ins are forgotten.",
            user=operator.username,
        ),
    )


@operators_app.command("lift-address-pause")
def lift_address_pause(
    address: Annotated[str, typer.Argument(help="The address (IP) whose sign-ins are paused.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Let an address sign in again at once after failed sign-ins across many user names."""
    operators, _config, reader = _operators(config, data_dir)
    try:
        forgotten = operators.lift_source_pause(address, actor=CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc, reader) from None
    say(
        reader,
        PluralText(
            "%(address)s may sign in again at once: %(count)s failed sign-in is forgotten.",
            "%(address)s may sign in again at once: %(count)s failed sign-ins are forgotten.",
            forgotten,
            address=address,
            count=reader.number(forgotten),
        ),
    )


# What an administrator types to give the operator back to the registry's default language.
DEFAULT_LANGUAGE_WORD = "default"


@operators_app.command("language")
def language(
    username: Annotated[str, typer.Argument(help="Login name of the account.")],
    code: Annotated[
        str,
        typer.Argument(
            metavar="LANGUAGE",
            help=f"{', '.join(LANGUAGES)}, or '{DEFAULT_LANGUAGE_WORD}' for the registry's default.",  # noqa: E501 - a message id, one literal
        ),
    ],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Set the language of an operator's screens (kk, ru, en), or return the operator to the
    registry's default language."""
    operators, settings, reader = _operators(config, data_dir)
    chosen: Language | None = None
    if code.strip().lower() != DEFAULT_LANGUAGE_WORD:
        chosen = language_or_none(code)
        if chosen is None:
            raise refuse(
                reader,
                Text(
                    "%(value)s is not a language of the registry: use %(languages)s, or %(default)s.",  # noqa: E501 - a message id, one literal
                    value=repr(code),
                    languages=", ".join(LANGUAGES),
                    default=DEFAULT_LANGUAGE_WORD,
                ),
            )
    try:
        operator = operators.set_language(username, chosen, actor=CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc, reader) from None
    if operator.language is None:
        say(
            reader,
            Text(
                "%(user)s now sees the registry's default language, %(language)s.",
                user=operator.username,
                language=_language_name(settings.language),
            ),
        )
    else:
        say(
            reader,
            Text(
                "%(user)s now sees %(language)s.",
                user=operator.username,
                language=_language_name(operator.language),
            ),
        )


def _language_name(language: Language) -> str:
    """A language as its own speakers name it, with its code: ``Қазақша (kk)``."""
    return f"{LANGUAGE_NAMES[language]} ({language})"


@operators_app.command("list")
def list_operators(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """All accounts, active or not."""
    accounts, _config, reader = _operators(config, data_dir)
    operators = accounts.list()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "username": o.username,
                        "display_name": o.display_name,
                        "role": o.role.value,
                        "active": o.active,
                        "created_at": o.created_at.isoformat(),
                        "language": o.language,
                    }
                    for o in operators
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    table = Table(title=reader.gettext("Operators"))
    for column in (
        reader.gettext("user name"),
        reader.gettext("name"),
        reader.gettext("role"),
        reader.gettext("active"),
        reader.gettext("language"),
        reader.gettext("created (Astana time)"),
    ):
        table.add_column(column)
    for o in operators:
        table.add_row(
            o.username,
            o.display_name,
            reader.gettext(label(o.role.value, ROLES)),
            reader.gettext("yes") if o.active else reader.gettext("no"),
            reader.gettext("registry default") if o.language is None else o.language,
            reader.date_time(o.created_at),
        )
    Console().print(table)
