"""``audit``: verify the registry's audit trail, sign tree heads, hand proofs to a prosecutor.

Exit codes of ``verify``: 0 when everything checks, 1 on any sign of tampering, 2 when the check
cannot run at all (no database, no key, bad arguments). The report and the refusals are printed
in the command line's language (``cli.common``); the JSON outputs (signed heads, the public key,
case proofs) are the same in every language.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from central_ingest.audit import (
    AuditError,
    AuditReport,
    TreeHead,
    TreeHeadRefused,
    case_inclusion_proofs,
    key_id,
    load_or_create_registry_key,
    load_registry_key,
    sign_tree_head,
    verify_registry,
)
from central_ingest.cli.common import (
    EXIT_CANNOT_RUN,
    cli_translator,
    existing_store_path,
    open_config,
    refuse,
    say,
)
from central_ingest.cli.progress import LiveProgress
from central_ingest.config import RegistryConfig
from central_ingest.store.db import Store
from central_ingest.wiring import open_registry_store
from contract import load_public_key, now_utc
from i18n import PluralText, Text, Translator

EXIT_TAMPERED = 1

VERIFY_HELP = (
    "Check the whole audit trail; exit 0 only if nothing was tampered with.\n\n"
    "Recomputes every ledger entry and the hash chain, every stored Merkle node, every signed"
    " tree head's signature and root, the consistency proofs between successive heads, and each"
    " fixation's and case's status against its last ledger entry. With --case, also verifies"
    " the case's inclusion proofs.\n\n"
    "Exit code 1 on any sign of tampering (each problem is printed as a sentence), 2 when the"
    " check cannot run."
)
SIGN_HELP = (
    "Sign the ledger's current Merkle tree head with the registry key and print it.\n\n"
    "The key is created (mode 0600) at the configured path on first use. Prints the signed head"
    " as one JSON line: that is what an outside party should keep (see verify --kept-heads)."
    " Prints nothing on stdout when the ledger has not grown since the last head. Exit code 1"
    " if the ledger no longer extends the last signed head."
)
PUBLIC_KEY_HELP = (
    "Print the registry's tree-head public key (base64url) and key id, for the outside party"
    " that checks tree heads. Creates the key on first use."
)
CASE_PROOF_HELP = (
    "Print, as JSON, every ledger entry of a case (and of its fixation, payments,"
    " cancellations, hand-overs) with its inclusion proof against the latest signed tree head,"
    " for a prosecutor to check independently."
)

audit_app = typer.Typer(
    help="Tamper evidence: verify the audit ledger, its Merkle tree and signed tree heads.",
    no_args_is_help=True,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Registry configuration file (TOML); defaults apply without."
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Registry data directory; overrides data_dir of the config."),
]

_err = Console(stderr=True)


def _config(config_path: Path | None, data_dir: Path | None) -> tuple[RegistryConfig, Translator]:
    config = open_config(config_path, data_dir)
    return config, cli_translator(config)


def _existing_store(config: RegistryConfig, reader: Translator) -> Store:
    existing_store_path(config, reader)  # exits, saying why, when there is none
    return open_registry_store(config)


def _read_kept_heads(path: Path, reader: Translator) -> list[TreeHead]:
    heads = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise refuse(
            reader,
            Text(
                "The kept tree heads cannot be read from %(path)s: %(problem)s.",
                path=str(path),
                problem=exc.strerror,
            ),
        ) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            heads.append(TreeHead.from_json(json.loads(line)))
        except ValueError as exc:
            # The parser's own words name what is wrong (JSON position, missing field).
            raise refuse(
                reader,
                Text(
                    "Line %(line)s of %(path)s is not a tree head: %(problem)s.",
                    line=number,
                    path=str(path),
                    problem=str(exc),
                ),
            ) from None
    return heads


@audit_app.command(help=VERIFY_HELP)
def verify(
    config_path: ConfigOption = None,
    data_dir: DataDirOption = None,
    case: Annotated[
        str | None,
        typer.Option("--case", help="Also check this case's inclusion proofs (its case number)."),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            help="The registry's tree-head public key (base64url) as the outside party holds"
            " it. Without it, the key is read from the registry's own key file, which proves"
            " only that the registry agrees with itself.",
        ),
    ] = None,
    kept_heads: Annotated[
        Path | None,
        typer.Option(
            "--kept-heads",
            help="File of tree heads kept outside the registry (JSON lines, as printed by"
            " sign-tree-head); the ledger must still reproduce each of them.",
        ),
    ] = None,
) -> None:
    config, reader = _config(config_path, data_dir)
    key = _verifying_key(config, public_key, reader)
    trusted = [] if kept_heads is None else _read_kept_heads(kept_heads, reader)
    store = _existing_store(config, reader)
    try:
        with LiveProgress(reader) as progress:
            report = verify_registry(store, key, case, trusted_heads=trusted, progress=progress)
    except AuditError as exc:
        raise refuse(reader, exc.text) from None
    finally:
        store.close()
    _print_report(report, case, reader)
    if not report.ok:
        raise typer.Exit(EXIT_TAMPERED)


def _verifying_key(config: RegistryConfig, public_key: str | None, reader: Translator) -> str:
    if public_key is not None:
        try:
            load_public_key(public_key)
        except ValueError:
            raise refuse(
                reader, Text("--public-key is not a base64url Ed25519 public key.")
            ) from None
        return public_key
    if not config.registry_key_path.is_file():
        raise refuse(
            reader,
            Text(
                "There is no registry key at %(path)s: pass --public-key with the registry's"
                " tree-head public key.",
                path=str(config.registry_key_path),
            ),
        )
    try:
        return load_registry_key(config.registry_key_path).public_key_b64
    except AuditError as exc:
        raise refuse(reader, exc.text) from None


def _print_report(report: AuditReport, case: str | None, reader: Translator) -> None:
    """The counts, the notes, then the verdict and each problem as a sentence."""
    counts = {
        "entries": reader.number(report.entries_checked),
        "nodes": reader.number(report.nodes_checked),
        "heads": reader.number(report.tree_heads_checked),
        "records": reader.number(report.records_checked),
    }
    # Counts follow their nouns ("ledger entries: 15"), so no noun needs a plural form.
    if case is None:
        checked = Text(
            "Checked — ledger entries: %(entries)s, Merkle nodes: %(nodes)s, signed tree"
            " heads: %(heads)s, fixations and cases: %(records)s.",
            **counts,
        )
    else:
        checked = Text(
            "Checked — ledger entries: %(entries)s, Merkle nodes: %(nodes)s, signed tree"
            " heads: %(heads)s, fixations and cases: %(records)s, inclusion proofs of case"
            " %(case)s: %(proofs)s.",
            case=case,
            proofs=reader.number(report.inclusion_proofs_checked),
            **counts,
        )
    say(reader, checked)
    for warning in report.warnings:
        say(reader, Text("Note: %(warning)s", warning=warning))
    if report.ok:
        say(reader, Text("OK: no sign of tampering."))
        return
    total = report.problems_found
    say(
        reader,
        PluralText(
            "TAMPERING DETECTED: %(count)s problem.",
            "TAMPERING DETECTED: %(count)s problems.",
            total,
            count=reader.number(total),
        ),
    )
    # A list, one sentence per item: the bullet is punctuation, not a word to translate.
    for problem in report.problems:
        typer.echo(f"- {reader.text(problem)}")
    if report.problems_not_listed:
        typer.echo(
            "- "
            + reader.text(
                PluralText(
                    "… and %(count)s further problem, not listed.",
                    "… and %(count)s further problems, not listed.",
                    report.problems_not_listed,
                    count=reader.number(report.problems_not_listed),
                )
            )
        )


@audit_app.command("sign-tree-head", help=SIGN_HELP)
def sign_tree_head_command(
    config_path: ConfigOption = None, data_dir: DataDirOption = None
) -> None:
    config, reader = _config(config_path, data_dir)
    store = _existing_store(config, reader)
    try:
        key = load_or_create_registry_key(config.registry_key_path)
        head = sign_tree_head(store, key, now_utc())
    except AuditError as exc:
        refused = isinstance(exc, TreeHeadRefused)
        raise refuse(reader, exc.text, EXIT_TAMPERED if refused else EXIT_CANNOT_RUN) from None
    finally:
        store.close()
    if head is None:
        # On standard error: standard output carries only signed heads, for a program to keep.
        say(
            reader,
            Text("The ledger has not grown since the last signed tree head; nothing signed."),
            err=True,
        )
        return
    typer.echo(json.dumps(head.to_json(), sort_keys=True))


@audit_app.command("public-key", help=PUBLIC_KEY_HELP)
def public_key_command(config_path: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    config, reader = _config(config_path, data_dir)
    try:
        key = load_or_create_registry_key(config.registry_key_path)
    except AuditError as exc:
        raise refuse(reader, exc.text) from None
    typer.echo(json.dumps({"public_key": key.public_key_b64, "key_id": key_id(key.public_key_b64)}))


@audit_app.command("case-proof", help=CASE_PROOF_HELP)
def case_proof_command(
    case: Annotated[str, typer.Option("--case", help="The case number.")],
    config_path: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    config, reader = _config(config_path, data_dir)
    store = _existing_store(config, reader)
    try:
        proofs = case_inclusion_proofs(store, case)
    except AuditError as exc:
        raise refuse(reader, exc.text) from None
    except (ValueError, LookupError) as exc:
        # A broken entry or a missing Merkle node: 'verify' names every such problem.
        raise refuse(
            reader,
            Text(
                "The proofs of case %(case)s cannot be built (%(problem)s): run 'verify'.",
                case=case,
                problem=str(exc),
            ),
        ) from None
    finally:
        store.close()
    typer.echo(json.dumps(proofs.to_json(), indent=2, sort_keys=True, ensure_ascii=False))


if __name__ == "__main__":
    audit_app()
