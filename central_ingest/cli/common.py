"""What every ``erap-registry`` command shares: the language it speaks to the person at the
terminal, the sentences it prints, and the registry configuration it reads.

The language is, the first that says: the global ``--language`` option (``erap-registry
--language kk audit verify``), the ``ERAP_LANGUAGE`` environment variable, the registry
configuration's ``language`` (default ``ru``). Results, refusals, table headers and progress go
through the ``registry`` gettext catalog; machine outputs (JSON lines, exported files, codes)
never change with the language. Typer's ``--help`` texts stay English: typer builds them when
the modules are imported, before any language is known.

Sub-applications (``audit``, ``operator``, ``ops``, ``pki``) also run on their own (tests,
``python -m central_ingest.cli.audit``): without the global option they follow the
environment variable and the configuration. The option's choice lives in a context variable
that the main command resets when it finishes, so it never outlives one run (tests invoke many
in one process).
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from enum import StrEnum
from pathlib import Path

import typer

from central_ingest.config import ConfigError, RegistryConfig, load_config
from i18n import FALLBACK_LANGUAGE, Language, Message, Text, Translator, language_or_none
from i18n import translator as catalog_translator

LANGUAGE_ENV = "ERAP_LANGUAGE"
# Where the registry's data is (the ``database`` setting): wins over the configuration file.
DATABASE_ENV = "ERAP_DATABASE"
# The command line's sentences are the registry's (i18n/domains.py).
DOMAIN = "registry"
# The global option's choice for the command that runs under it (None: not given).
_CHOSEN: ContextVar[Language | None] = ContextVar("erap_cli_language", default=None)
# Exit status when a command cannot run at all (bad configuration, bad language setting).
EXIT_CANNOT_RUN = 2


class LanguageChoice(StrEnum):
    """The values ``--language`` accepts (click checks them and lists them in ``--help``)."""

    KK = "kk"
    RU = "ru"
    EN = "en"


def remember_language(context: typer.Context, language: LanguageChoice | None) -> None:
    """Called by the main application's callback with the global ``--language``; the choice
    is forgotten when the command run under it closes."""
    token = _CHOSEN.set(language_or_none(language.value) if language is not None else None)
    context.call_on_close(lambda: _CHOSEN.reset(token))


def cli_language(configured: Language | None = None) -> Language:
    """The language of this run: ``--language``, else ``$ERAP_LANGUAGE``, else ``configured``
    (the registry configuration's language), else the fallback (Russian)."""
    chosen = _CHOSEN.get()
    if chosen is not None:
        return chosen
    from_env = os.environ.get(LANGUAGE_ENV, "").strip()
    if from_env:
        language = language_or_none(from_env)
        if language is None:
            # Said in the language the configuration would have chosen: the variable that was
            # meant to choose one cannot.
            reader = catalog_translator(DOMAIN, configured or FALLBACK_LANGUAGE)
            typer.echo(
                reader.text(
                    Text(
                        "%(variable)s is set to %(value)s, which is not a language of the registry:"
                        " use kk, ru or en.",
                        variable=LANGUAGE_ENV,
                        value=repr(from_env),
                    )
                ),
                err=True,
            )
            raise typer.Exit(EXIT_CANNOT_RUN)
        return language
    return configured or FALLBACK_LANGUAGE


def cli_translator(config: RegistryConfig | None = None) -> Translator:
    """The catalog the command speaks with; without a configuration (it could not be read, or
    the command needs none) the option and the environment decide, then Russian."""
    return catalog_translator(DOMAIN, cli_language(None if config is None else config.language))


def say(reader: Translator, message: Message, *, err: bool = False) -> None:
    """One line for the person at the terminal, in the reader's language."""
    typer.echo(reader.text(message), err=err)


def refuse(reader: Translator, message: Message, code: int = EXIT_CANNOT_RUN) -> typer.Exit:
    """Say why the command cannot go on (on standard error) and return the exit to raise."""
    say(reader, message, err=True)
    return typer.Exit(code)


def open_config(
    config_path: Path | None, data_dir: Path | None, **overrides: object
) -> RegistryConfig:
    """The registry configuration with ``--data-dir`` applied, or exit 2 saying why not. The
    file's problems are named as the configuration loader words them (English, with the keys
    of the file), inside a sentence in the reader's language."""
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    # The database URL may carry a password: a systemd EnvironmentFile readable by the service
    # alone keeps it out of the configuration file, which operators read and copy around.
    from_env = os.environ.get(DATABASE_ENV, "").strip()
    if from_env and "database" not in overrides:
        overrides["database"] = from_env
    try:
        return load_config(config_path, **overrides)
    except ConfigError as exc:
        raise refuse(
            cli_translator(),
            Text("The registry configuration cannot be used: %(problem)s.", problem=str(exc)),
        ) from None


def existing_store_path(config: RegistryConfig, reader: Translator) -> str | Path:
    """The registry database (a PostgreSQL URL, or a SQLite file that exists), or exit 2:
    opening a missing file would create an empty registry, and reading or verifying one that is
    not there must say so."""
    if config.uses_postgres:
        return config.database_target
    if not config.db_path.is_file():
        raise refuse(
            reader,
            Text(
                "There is no registry database at %(path)s: check --data-dir or --config.",
                path=str(config.db_path),
            ),
        )
    return config.db_path
