"""``backup``: an online copy of the registry's SQLite database (and, on request, of its
evidence images) while the registry keeps running; ``deploy/BACKUP.md`` says how to restore it.

Exit codes: 0 when the copy is written and checks; 1 when the copy failed its checks (nothing
kept under the target's name) or evidence images the copy refers to are missing or damaged in
the registry; 2 when the backup cannot start (no database, target exists, no folder, no space).
What it prints is in the command line's language (``cli.common``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from central_ingest.cli.common import (
    EXIT_CANNOT_RUN,
    cli_translator,
    existing_store_path,
    open_config,
    refuse,
    say,
)
from central_ingest.cli.progress import LiveProgress
from central_ingest.store.backup import (
    DEFAULT_STEP_PAGES,
    BackupFailed,
    BackupRefused,
    DatabaseBackup,
    EvidenceCopy,
    backup_database,
    copy_evidence,
    megabytes,
)
from i18n import N_, PluralText, Text, Translator

EXIT_COPY_FAILED = 1
# Problems listed one by one before the rest is only counted.
_LISTED = 10
# Progress stages, shown in the reader's language.
_PAGES = N_("database pages")
_IMAGES = N_("evidence images")

BACKUP_HELP = (
    "Write a consistent copy of the registry database while the registry keeps running.\n\n"
    "SQLite's online backup API copies one snapshot (the state after one committed"
    " transaction) in steps, into a temporary file beside --out; the copy is checked"
    " (integrity, schema version), fsynced and only then renamed to --out. Evidence images"
    " are not in the database: copy the evidence folder with rsync, or pass --with-evidence."
    " The registry's tree-head key is never copied: keep it apart (deploy/BACKUP.md).\n\n"
    "Exit code 1 if the copy fails its checks or evidence images are missing or damaged,"
    " 2 if the backup cannot start."
)


def backup(
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", dir_okay=False, help="The backup file to write; its folder must exist."
        ),
    ],
    with_evidence: Annotated[
        bool,
        typer.Option(
            "--with-evidence",
            help="Also copy the evidence images the backup refers to into an evidence/ folder"
            " beside --out, each image once (they are named by their hash and never change,"
            " so later backups copy only new ones).",
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")] = False,
    step_pages: Annotated[
        int,
        typer.Option(
            "--step-pages",
            min=1,
            help="Database pages (4 KiB) copied per step of the progress bar.",
        ),
    ] = DEFAULT_STEP_PAGES,
    config_path: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Registry configuration file (TOML); defaults apply without."
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="Registry data directory; overrides data_dir of the config."
        ),
    ] = None,
) -> None:
    config = open_config(config_path, data_dir)
    reader = cli_translator(config)
    if config.uses_postgres:
        raise refuse(
            reader,
            Text(
                "This registry keeps its data in PostgreSQL, which this command does not copy: back"
                " it up with pg_basebackup and the WAL archive, as deploy/postgresql/README.md"
                " describes."
            ),
            EXIT_CANNOT_RUN,
        )
    source = Path(existing_store_path(config, reader))
    try:
        with LiveProgress(reader) as progress:
            made = backup_database(
                source,
                out,
                force=force,
                step_pages=step_pages,
                progress=lambda done, total: progress(_PAGES, done, total),
            )
    except BackupRefused as exc:
        raise refuse(reader, exc.text, EXIT_CANNOT_RUN) from None
    except BackupFailed as exc:
        raise refuse(reader, exc.text, EXIT_COPY_FAILED) from None
    _print_backup(reader, made, config.registry_key_path)
    evidence_folder = out.parent / "evidence"
    if not with_evidence:
        say(
            reader,
            Text(
                "Evidence images (%(count)s) are not in this backup: copy %(folder)s with rsync"
                " (the files never change), or run the backup with --with-evidence.",
                count=reader.number(made.contents.evidence_images),
                folder=str(config.evidence_dir),
            ),
        )
        return
    try:
        with LiveProgress(reader) as progress:
            copied = copy_evidence(
                made.path,
                config.evidence_dir,
                evidence_folder,
                progress=lambda done, total: progress(_IMAGES, done, total),
            )
    except BackupRefused as exc:
        raise refuse(reader, exc.text, EXIT_CANNOT_RUN) from None
    if not _print_evidence(reader, copied, config.evidence_dir, evidence_folder):
        raise typer.Exit(EXIT_COPY_FAILED)


def _megabytes(reader: Translator, size: int) -> str:
    return reader.number(megabytes(size))


def _print_backup(reader: Translator, made: DatabaseBackup, key_path: Path) -> None:
    contents = made.contents
    say(
        reader,
        Text(
            "Backup written to %(path)s: %(size)s MB in %(seconds)s s.",
            path=str(made.path),
            size=_megabytes(reader, made.size_bytes),
            seconds=reader.number(round(made.seconds, 2)),
        ),
    )
    # Counts follow their nouns ("ledger entries: 15"), so no noun needs a plural form.
    say(
        reader,
        Text(
            "The copy passed its checks: SQLite integrity ok, schema version %(version)s;"
            " ledger entries: %(entries)s, fixations: %(fixations)s, cases: %(cases)s, signed"
            " tree heads: %(heads)s.",
            version=contents.schema_version,
            entries=reader.number(contents.ledger_entries),
            fixations=reader.number(contents.fixations),
            cases=reader.number(contents.cases),
            heads=reader.number(contents.tree_heads),
        ),
    )
    if contents.head_key_ids:
        # The restored registry signs its next heads with whatever key sits at key_path: it
        # must be the key of the heads already signed, or the verifier sees two keys.
        say(
            reader,
            Text(
                "Its tree heads are signed with the registry key %(key)s: a restored registry needs"
                " that key at %(path)s, and a backup does not hold it.",
                key=contents.head_key_ids[-1][:16],
                path=str(key_path),
            ),
        )


def _print_evidence(
    reader: Translator, copied: EvidenceCopy, registry_folder: Path, backup_folder: Path
) -> bool:
    """The evidence copy's summary and problems; True when every image is in the backup."""
    say(
        reader,
        Text(
            "Evidence images in %(folder)s: copied %(copied)s (%(size)s MB), already there"
            " %(kept)s.",
            folder=str(backup_folder),
            copied=reader.number(copied.copied),
            size=_megabytes(reader, copied.bytes_copied),
            kept=reader.number(copied.already_there),
        ),
    )
    problems = [
        *(
            Text(
                "Evidence image %(sha256)s is listed in the registry but missing from %(folder)s.",
                sha256=sha256,
                folder=str(registry_folder),
            )
            for sha256 in copied.missing
        ),
        *(
            Text(
                "Evidence image %(sha256)s in %(folder)s no longer matches its hash; it was not"
                " copied.",
                sha256=sha256,
                folder=str(registry_folder),
            )
            for sha256 in copied.damaged
        ),
    ]
    for problem in problems[:_LISTED]:
        # A list, one sentence per item: the bullet is punctuation, not a word to translate.
        typer.echo(f"- {reader.text(problem)}", err=True)
    if len(problems) > _LISTED:
        rest = len(problems) - _LISTED
        typer.echo(
            "- "
            + reader.text(
                PluralText(
                    "… and %(count)s further problem, not listed.",
                    "… and %(count)s further problems, not listed.",
                    rest,
                    count=reader.number(rest),
                )
            ),
            err=True,
        )
    return not problems
