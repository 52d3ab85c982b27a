"""Operations commands: seed the vehicle register, deliver notifications, prosecutor reports.

Mounted by the main ``erap-registry`` command. Every command reads the registry configuration
(``--config``) and may point at another data directory (``--data-dir``); reports print a table
for people, in the command line's language (``cli.common``: headers, labels of codes, CLDR
numbers and Astana times) or, with ``--json``, JSON for other programs (codes and UTC, the same
in every language).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from babel.numbers import format_decimal
from rich.console import Console
from rich.table import Table

from central_ingest.cli.common import (
    cli_translator,
    existing_store_path,
    open_config,
    refuse,
    say,
)
from central_ingest.config import RegistryConfig, SmppSettings, SmtpSettings
from central_ingest.core.labels import PAYMENT_MATCHES, REJECT_REASONS, label
from central_ingest.notice_senders import SenderConfigError, make_sender
from central_ingest.notify.senders import FileSender
from central_ingest.notify.worker import MAX_ATTEMPTS, deliver_due, run_worker
from central_ingest.reports import (
    RemovalDimension,
    dead_letter_sources_report,
    dead_letter_summary,
    removal_report,
    unmatched_payments_report,
)
from central_ingest.store.db import Store
from central_ingest.vehicles import SqliteVehicleRegister, VehicleDataError
from central_ingest.wiring import open_registry_store
from contract import now_utc
from i18n import N_, PluralText, Text, Translator
from i18n.formatting import cldr_locale

ops_app = typer.Typer(
    help="Vehicle register seeding, notification delivery and the prosecutor's reports.",
    no_args_is_help=True,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        dir_okay=False,
        help="Registry configuration file (TOML); defaults apply without it.",
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
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class Dimension(StrEnum):
    PLATE = "plate"
    OFFICER = "officer"
    CAMERA = "camera"


_DIMENSIONS: dict[Dimension, RemovalDimension] = {
    Dimension.PLATE: "plate",
    Dimension.OFFICER: "officer",
    Dimension.CAMERA: "camera",
}

# One sentence per grouping: the group's noun takes a different form in each sentence.
_REMOVALS_TITLE: dict[Dimension, Text] = {
    Dimension.PLATE: Text("Removed fines by vehicle plate (outliers first)"),
    Dimension.OFFICER: Text("Removed fines by officer (outliers first)"),
    Dimension.CAMERA: Text("Removed fines by camera (outliers first)"),
}
_GROUP_COLUMN: dict[Dimension, str] = {
    Dimension.PLATE: N_("plate"),
    Dimension.OFFICER: N_("officer"),
    Dimension.CAMERA: N_("camera"),
}
_NO_GROUP: dict[Dimension, Callable[[str], Text]] = {
    Dimension.PLATE: lambda n: Text(
        "No vehicle plate has %(count)s or more decided events yet.", count=n
    ),
    Dimension.OFFICER: lambda n: Text(
        "No officer has %(count)s or more decided events yet.", count=n
    ),
    Dimension.CAMERA: lambda n: Text(
        "No camera has %(count)s or more decided events yet.", count=n
    ),
}


def _open_store(
    config_path: Path | None, data_dir: Path | None, *, create: bool = False
) -> tuple[RegistryConfig, Store, Translator]:
    config = open_config(config_path, data_dir)
    reader = cli_translator(config)
    if not create:
        existing_store_path(config, reader)  # exits, saying why, when there is none
    return config, open_registry_store(config), reader


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _reasons(
    reader: Translator, counts: dict[str, int], table: dict[str, str] | None, shown: int = 3
) -> str:
    """The most frequent reasons with their counts. Rejection reasons are codes, shown by their
    labels; cancellation reasons are the officers' own words, shown as written."""
    items = [
        f"{reader.gettext(label(reason, table)) if table is not None else reason} ({count})"
        for reason, count in list(counts.items())[:shown]
    ]
    if len(counts) > shown:
        items.append(reader.text(Text("+%(count)s more", count=len(counts) - shown)))
    return "; ".join(items)


def _score(reader: Translator, score: float) -> str:
    """The outlier score signed, two decimals, with the reader's decimal sign (CLDR)."""
    return format_decimal(score, "+0.00;-0.00", locale=cldr_locale(reader.language))


def _local_time(reader: Translator, stored: str) -> str:
    """A stored UTC timestamp in Astana time as the reader's language writes it."""
    try:
        return reader.date_time(datetime.fromisoformat(stored))
    except ValueError:
        return stored


@ops_app.command("seed-vehicles")
def seed_vehicles(
    file: Annotated[
        Path,
        typer.Argument(
            help="JSON lines: one vehicle object per line.", exists=True, dir_okay=False
        ),
    ],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Load vehicles into the embedded vehicle register, replacing entries with the same plate.

    Every line is checked (plate, IIN/BIN check digit, phone, e-mail) before anything is written.

    A bad line is reported by its number, and then nothing is loaded.
    """
    _, store, reader = _open_store(config, data_dir, create=True)
    try:
        count = SqliteVehicleRegister(store).load_seed(file)
    except VehicleDataError as exc:
        say(reader, Text("Nothing was loaded from %(path)s.", path=str(file)), err=True)
        # Each bad line by its number, as the validator words it (English field names).
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    say(
        reader,
        PluralText(
            "Loaded %(count)s vehicle from %(path)s.",
            "Loaded %(count)s vehicles from %(path)s.",
            count,
            count=reader.number(count),
            path=str(file),
        ),
    )


@ops_app.command("deliver-notifications")
def deliver_notifications(
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="Deliver what is due now, then exit, instead of running until stopped."
        ),
    ] = False,
    outbox_file: Annotated[
        Path | None,
        typer.Option(
            "--outbox-file",
            dir_okay=False,
            help="JSON-lines file the messages of channels without a configured SMSC or mail"
            " relay ([notices] in the config) are written to (default: DATA_DIR/outbox.jsonl).",
        ),
    ] = None,
    interval: Annotated[
        float,
        typer.Option("--interval", min=0.1, help="Seconds between polls when nothing is due."),
    ] = 5.0,
    max_attempts: Annotated[
        int,
        typer.Option("--max-attempts", min=1, help="Tries before a notification is marked failed."),
    ] = MAX_ATTEMPTS,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Send queued SMS and e-mail notices with retries and backoff.

    SMS go to the SMSC over SMPP and e-mail to the relay over SMTP with STARTTLS where the
    configuration's [notices.sms] and [notices.email] say so; the SMSC's delivery receipts mark
    notices delivered or failed. A channel not configured is written to a file, one JSON line
    per message.

    Several workers may run at once.
    """
    registry_config, store, reader = _open_store(config, data_dir)
    outbox = outbox_file or registry_config.data_dir / "outbox.jsonl"
    try:
        sender = make_sender(registry_config, outbox=outbox)
    except SenderConfigError as exc:
        raise refuse(reader, exc.text) from None
    if once:
        total_sent = total_retried = total_failed = total_delivered = 0
        while True:
            stats = deliver_due(store, sender, now_utc(), max_attempts=max_attempts)
            total_sent += stats.sent
            total_retried += stats.retried
            total_failed += stats.failed + stats.abandoned + stats.undelivered
            total_delivered += stats.delivered
            if stats.claimed + stats.abandoned == 0:
                break
        if not isinstance(sender, FileSender):
            _close(sender)
            say(
                reader,
                Text(
                    "Notices sent: %(sent)s, to retry: %(retried)s, failed: %(failed)s; confirmed"
                    " delivered so far: %(delivered)s.",
                    sent=reader.number(total_sent),
                    retried=reader.number(total_retried),
                    failed=reader.number(total_failed),
                    delivered=reader.number(total_delivered),
                ),
            )
            return
        # Counts follow their nouns ("sent: 3"), so no noun needs a plural form here.
        say(
            reader,
            Text(
                "Notices sent: %(sent)s, to retry: %(retried)s, failed: %(failed)s; written to"
                " %(path)s.",
                sent=reader.number(total_sent),
                retried=reader.number(total_retried),
                failed=reader.number(total_failed),
                path=str(sender.path),
            ),
        )
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    if isinstance(sender, FileSender):
        say(reader, Text("Delivering notices to %(path)s; Ctrl-C stops.", path=str(sender.path)))
    else:
        say(
            reader,
            Text(
                "Delivering notices: SMS to %(sms)s, e-mail to %(email)s; Ctrl-C stops.",
                sms=_destination(registry_config.notices.sms, outbox),
                email=_destination(registry_config.notices.email, outbox),
            ),
        )
    try:
        run_worker(store, sender, stop, interval, max_attempts=max_attempts)
    finally:
        _close(sender)


def _destination(settings: SmppSettings | SmtpSettings | None, outbox: Path) -> str:
    return str(outbox) if settings is None else f"{settings.host}:{settings.port}"


def _close(sender: object) -> None:
    """Unbind from the SMSC (the receipts it still holds come at the next bind)."""
    close = getattr(sender, "close", None)
    if callable(close):
        close()


@ops_app.command("report-removals")
def report_removals(
    by: Annotated[
        Dimension, typer.Option("--by", help="Group by vehicle plate, reviewing officer or camera.")
    ] = Dimension.PLATE,
    min_events: Annotated[
        int, typer.Option("--min-events", min=1, help="Leave out groups with fewer decided events.")
    ] = 3,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to show.")] = 50,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Who removes fines and why: rejections and cancellations per plate, officer or camera.

    Most suspicious first: the lower 95% bound of a group's removal rate minus everyone's rate.

    A group ranks high only with both a high rate and enough events to rule out chance.
    """
    _, store, reader = _open_store(config, data_dir)
    rows = removal_report(store, _DIMENSIONS[by], min_events=min_events, limit=limit)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        say(reader, _NO_GROUP[by](reader.number(min_events)))
        return
    table = Table(title=reader.text(_REMOVALS_TITLE[by]))
    table.add_column(reader.gettext(_GROUP_COLUMN[by]))
    # Counts of events, not the statuses of one item: their own words, not the status labels.
    for column in (
        N_("decided"),
        N_("rejections"),
        N_("cancellations"),
        N_("removal rate"),
        N_("score"),
    ):
        table.add_column(reader.gettext(column), justify="right")
    table.add_column(reader.gettext("rejection reasons"))
    table.add_column(reader.gettext("cancellation reasons"))
    for row in rows:
        table.add_row(
            str(row["key"]),
            reader.number(row["events"]),
            reader.number(row["rejected"]),
            reader.number(row["cancelled"]),
            reader.percent(row["removal_rate"], 0),
            _score(reader, row["score"]),
            _reasons(reader, row["rejection_reasons"], dict(REJECT_REASONS)),
            _reasons(reader, row["cancellation_reasons"], None),
        )
    console = Console()
    console.print(table)
    say(
        reader,
        Text(
            "Removal rate of all groups: %(rate)s.", rate=reader.percent(rows[0]["baseline_rate"])
        ),
    )


@ops_app.command("report-payments")
def report_payments(
    as_json: JsonOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Payments that need manual follow-up: unknown case, under- or overpaid, case closed."""
    _, store, reader = _open_store(config, data_dir)
    rows = unmatched_payments_report(store)
    if as_json:
        _print_json(rows)
        return
    # Amounts as CLDR writes them in the reader's language (``21 625,00 ₸``); channels and
    # devices are codes, shown as the payment message gave them.
    money = reader.money
    table = Table(title=reader.gettext("Payments to follow up"))
    for column in (
        N_("paid at (Astana time)"),
        N_("status"),
        N_("case"),
        N_("amount paid"),
        N_("amount due"),
        N_("channel"),
        N_("device"),
        N_("RRN"),
    ):
        table.add_column(reader.gettext(column))
    for row in rows:
        table.add_row(
            _local_time(reader, row["paid_at"]),
            reader.gettext(label(row["match_status"], PAYMENT_MATCHES)),
            row["case_number"],
            money(row["amount_minor"]),
            "" if row["due_minor"] is None else money(row["due_minor"]),
            row["channel"],
            row["device_id"],
            row["rrn"] or "",
        )
    Console().print(table)


@ops_app.command("report-dead-letters")
def report_dead_letters(
    by_source: Annotated[
        bool, typer.Option("--by-source", help="Count by where they came from, not by reason.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="Sources to list (--by-source).")] = 20,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Rejected incoming messages counted by reason, or by source."""
    _, store, reader = _open_store(config, data_dir)
    if by_source:
        _report_dead_letter_sources(store, reader, limit, as_json)
        return
    rows = dead_letter_summary(store)
    if as_json:
        _print_json(rows)
        return
    # Reasons are the stable codes devices and engineers search the logs and /metrics by.
    table = Table(title=reader.gettext("Refused incoming messages by reason"))
    for column in (
        N_("reason code"),
        N_("count"),
        N_("retryable"),
        N_("devices"),
        N_("first (Astana time)"),
        N_("last (Astana time)"),
    ):
        table.add_column(reader.gettext(column))
    for row in rows:
        table.add_row(
            row["reason"],
            reader.number(row["count"]),
            reader.number(row["retryable"]),
            reader.number(row["devices"]),
            _local_time(reader, row["first_received_at"]),
            _local_time(reader, row["last_received_at"]),
        )
    Console().print(table)


def _report_dead_letter_sources(
    store: Store, reader: Translator, limit: int, as_json: bool
) -> None:
    rows = dead_letter_sources_report(store, limit=limit)
    if as_json:
        _print_json(rows)
        return
    # Sources are addresses and topics, as the logs and the 429s name them: not translated.
    table = Table(title=reader.gettext("Refused incoming messages by source"))
    for column in (
        N_("source"),
        N_("count"),
        N_("signed"),
        N_("first (Astana time)"),
        N_("last (Astana time)"),
    ):
        table.add_column(reader.gettext(column))
    for row in rows:
        table.add_row(
            row["source"] or "-",
            reader.number(row["count"]),
            reader.number(row["signed"]),
            _local_time(reader, row["first_received_at"]),
            _local_time(reader, row["last_received_at"]),
        )
    Console().print(table)
