"""Operations commands: seed the vehicle register, deliver notifications, prosecutor reports.

Mounted by the main ``erap-registry`` command. Every command reads the registry configuration
(``--config``) and may point at another data directory (``--data-dir``); reports print a table
for people or, with ``--json``, JSON for other programs.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from central_ingest.config import ConfigError, RegistryConfig, load_config
from central_ingest.notify.senders import FileSender
from central_ingest.notify.worker import MAX_ATTEMPTS, deliver_due, run_worker
from central_ingest.reports import (
    RemovalDimension,
    dead_letter_summary,
    removal_report,
    unmatched_payments_report,
)
from central_ingest.store.db import Store
from central_ingest.vehicles import SqliteVehicleRegister, VehicleDataError
from contract import now_utc
from i18n import translator

ops_app = typer.Typer(
    help="Vehicle register seeding, notification delivery and the prosecutor's reports.",
    no_args_is_help=True,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", dir_okay=False,
                 help="Registry configuration file (TOML); defaults apply without it."),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Registry data directory; overrides data_dir of the config.",
                 file_okay=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class Dimension(StrEnum):
    PLATE = "plate"
    OFFICER = "officer"
    CAMERA = "camera"


_DIMENSIONS: dict[Dimension, RemovalDimension] = {
    Dimension.PLATE: "plate", Dimension.OFFICER: "officer", Dimension.CAMERA: "camera",
}

def _config(config_path: Path | None, data_dir: Path | None) -> RegistryConfig:
    overrides: dict[str, object] = {} if data_dir is None else {"data_dir": data_dir}
    try:
        return load_config(config_path, **overrides)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _open_store(
    config_path: Path | None, data_dir: Path | None, *, create: bool = False
) -> tuple[RegistryConfig, Store]:
    config = _config(config_path, data_dir)
    if not create and not config.db_path.exists():
        typer.echo(f"no registry database at {config.db_path}: check --data-dir or --config",
                   err=True)
        raise typer.Exit(2)
    return config, Store(config.db_path)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _reasons(counts: dict[str, int], shown: int = 3) -> str:
    items = [f"{reason} ({count})" for reason, count in list(counts.items())[:shown]]
    if len(counts) > shown:
        items.append(f"+{len(counts) - shown} more")
    return "; ".join(items)


@ops_app.command("seed-vehicles")
def seed_vehicles(
    file: Annotated[Path, typer.Argument(help="JSON lines: one vehicle object per line.",
                                         exists=True, dir_okay=False)],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Load vehicles into the embedded vehicle register, replacing entries with the same plate.

    Every line is checked (plate, IIN/BIN check digit, phone, e-mail) before anything is written.

    A bad line is reported by its number, and then nothing is loaded.
    """
    _, store = _open_store(config, data_dir, create=True)
    try:
        count = SqliteVehicleRegister(store).load_seed(file)
    except VehicleDataError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"loaded {count} vehicles from {file}")


@ops_app.command("deliver-notifications")
def deliver_notifications(
    once: Annotated[bool, typer.Option(
        "--once", help="Deliver what is due now, then exit, instead of running until stopped.")
    ] = False,
    outbox_file: Annotated[Path | None, typer.Option(
        "--outbox-file", dir_okay=False,
        help="JSON-lines file the messages are written to (default: DATA_DIR/outbox.jsonl).")
    ] = None,
    interval: Annotated[float, typer.Option(
        "--interval", min=0.1, help="Seconds between polls when nothing is due.")] = 5.0,
    max_attempts: Annotated[int, typer.Option(
        "--max-attempts", min=1, help="Tries before a notification is marked failed.")
    ] = MAX_ATTEMPTS,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Send queued SMS and e-mail notices with retries and backoff.

    This build delivers through the file sender: one JSON line per message.

    The SMS gateway and the mail relay plug in as further senders. Several workers may run at once.
    """
    registry_config, store = _open_store(config, data_dir)
    sender = FileSender(outbox_file or registry_config.data_dir / "outbox.jsonl")
    if once:
        total_sent = total_retried = total_failed = 0
        while True:
            stats = deliver_due(store, sender, now_utc(), max_attempts=max_attempts)
            total_sent += stats.sent
            total_retried += stats.retried
            total_failed += stats.failed + stats.abandoned
            if stats.claimed + stats.abandoned == 0:
                break
        typer.echo(f"sent {total_sent}, to retry {total_retried}, failed {total_failed};"
                   f" written to {sender.path}")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    typer.echo(f"delivering notifications to {sender.path}; Ctrl-C stops")
    run_worker(store, sender, stop, interval, max_attempts=max_attempts)


@ops_app.command("report-removals")
def report_removals(
    by: Annotated[Dimension, typer.Option("--by", help="Group by vehicle plate, reviewing"
                                          " officer or camera.")] = Dimension.PLATE,
    min_events: Annotated[int, typer.Option(
        "--min-events", min=1, help="Leave out groups with fewer decided events.")] = 3,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to show.")] = 50,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Who removes fines and why: rejections and cancellations per plate, officer or camera.

    Most suspicious first: the lower 95% bound of a group's removal rate minus everyone's rate.

    A group ranks high only with both a high rate and enough events to rule out chance.
    """
    _, store = _open_store(config, data_dir)
    rows = removal_report(store, _DIMENSIONS[by], min_events=min_events, limit=limit)
    if as_json:
        _print_json(rows)
        return
    table = Table(title=f"Removed fines by {by.value} (outliers first)")
    for column in (by.value, "decided", "rejected", "cancelled", "rate", "score",
                   "rejection reasons", "cancellation reasons"):
        table.add_column(column, justify="right" if column in
                         {"decided", "rejected", "cancelled", "rate", "score"} else "left")
    for row in rows:
        table.add_row(
            str(row["key"]), str(row["events"]), str(row["rejected"]), str(row["cancelled"]),
            f"{row['removal_rate']:.0%}", f"{row['score']:+.2f}",
            _reasons(row["rejection_reasons"]), _reasons(row["cancellation_reasons"]),
        )
    console = Console()
    if not rows:
        console.print(f"No {by.value} has {min_events} or more decided events yet.")
        return
    console.print(table)
    console.print(f"Removal rate of all groups: {rows[0]['baseline_rate']:.1%}")


@ops_app.command("report-payments")
def report_payments(
    as_json: JsonOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Payments that need manual follow-up: unknown case, under- or overpaid, case closed."""
    registry_config, store = _open_store(config, data_dir)
    rows = unmatched_payments_report(store)
    # Amounts as CLDR writes them in the registry's language (``21 625,00 ₸``).
    money = translator("registry", registry_config.language).money
    if as_json:
        _print_json(rows)
        return
    table = Table(title="Payments to follow up")
    for column in ("paid at (UTC)", "status", "case", "paid", "due", "channel", "device", "RRN"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["paid_at"], row["match_status"], row["case_number"],
            money(row["amount_minor"]),
            "" if row["due_minor"] is None else money(row["due_minor"]),
            row["channel"], row["device_id"], row["rrn"] or "",
        )
    Console().print(table)


@ops_app.command("report-dead-letters")
def report_dead_letters(
    as_json: JsonOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Rejected incoming messages counted by reason."""
    _, store = _open_store(config, data_dir)
    rows = dead_letter_summary(store)
    if as_json:
        _print_json(rows)
        return
    table = Table(title="Dead letters by reason")
    for column in ("reason", "count", "retryable", "devices", "first (UTC)", "last (UTC)"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["reason"], str(row["count"]), str(row["retryable"]),
                      str(row["devices"]), row["first_received_at"], row["last_received_at"])
    Console().print(table)
