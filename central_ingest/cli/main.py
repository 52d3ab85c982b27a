"""``erap-registry``: run and operate the central registry.

It speaks Kazakh, Russian or English: ``--language`` before the command, else ``ERAP_LANGUAGE``,
else the configuration's ``language`` (see ``cli.common``).
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from central_ingest.api.app import create_app
from central_ingest.cli.appeals import appeals_app
from central_ingest.cli.audit import audit_app
from central_ingest.cli.backup import BACKUP_HELP, backup
from central_ingest.cli.common import (
    LANGUAGE_ENV,
    LanguageChoice,
    cli_translator,
    refuse,
    remember_language,
    say,
)
from central_ingest.cli.common import open_config as _open_config
from central_ingest.cli.operators import operators_app
from central_ingest.cli.ops import ops_app
from central_ingest.cli.payments import payments_app
from central_ingest.cli.pki import pki_app
from central_ingest.cli.undelivered import UNDELIVERED_HELP, undelivered
from central_ingest.config import RegistryConfig
from central_ingest.pki import CertificateAuthority, PkiError
from central_ingest.store.db import is_postgres_target, migrate_database, redacted
from central_ingest.store.devices import DeviceError, list_devices, register_device, revoke_device
from central_ingest.store.errors import StoreError
from central_ingest.wiring import (
    build_case_service,
    build_ingest_worker,
    build_jobs,
    open_registry_store,
)
from contract import DeviceKey, DeviceKind, now_utc
from i18n import Message, PluralText, Text, Translator

app = typer.Typer(
    help="The unified registry of administrative cases: ingest, review, audit.",
    no_args_is_help=True,
)
device_app = typer.Typer(help="Device identities: provision, revoke, list.", no_args_is_help=True)
app.add_typer(device_app, name="device")
app.add_typer(audit_app, name="audit")
app.add_typer(operators_app, name="operator")
app.add_typer(ops_app, name="ops")
app.add_typer(pki_app, name="pki")
app.add_typer(payments_app, name="payments")
app.add_typer(appeals_app, name="appeals")
app.command("backup", help=BACKUP_HELP)(backup)
app.command("undelivered", help=UNDELIVERED_HELP)(undelivered)

console = Console()


@app.callback()
def main(
    context: typer.Context,
    language: Annotated[
        LanguageChoice | None,
        typer.Option(
            "--language",
            case_sensitive=False,
            help=f"Language of what the commands print: kk, ru or en (default: ${LANGUAGE_ENV},"
            " else the configuration's language). Help texts stay English.",
        ),
    ] = None,
) -> None:
    """The unified registry of administrative cases: ingest, review, audit."""
    remember_language(context, language)


ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Registry TOML file (defaults built in)")
]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Folder for the database, evidence and keys")
]


def open_config(config: Path | None, data_dir: Path | None, **overrides: object) -> RegistryConfig:
    return _open_config(config, data_dir, **overrides)


def _refusal(reader: Translator, message: Message) -> typer.Exit:
    return refuse(reader, message, 1)


@device_app.command("provision")
def provision(
    device_id: Annotated[str, typer.Argument(help="e.g. cam-astana-0001 or term-patrol-017")],
    kind: Annotated[DeviceKind, typer.Option(help="What the device is")],
    key_out: Annotated[Path, typer.Option(help="Where to write the device's private key (0600)")],
    description: Annotated[str, typer.Option(help="Where it stands, who holds it")] = "",
    operator: Annotated[str, typer.Option(help="Who is provisioning (recorded in the ledger)")] = (
        "admin"
    ),
    tls_ca_dir: Annotated[
        Path | None,
        typer.Option(help="Also issue its broker client certificate (CN = device id) from this CA"),
    ] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create a key pair for a device and register its public key with the registry.

    The private key file is written once and never overwritten; copy it to the device and
    delete it here. With --tls-ca-dir, the device's TLS certificate and key for the broker are
    written beside it.
    """
    settings = open_config(config, data_dir)
    reader = cli_translator(settings)
    if key_out.exists():
        raise _refusal(
            reader,
            Text("%(path)s already exists: refusing to overwrite a device key.", path=str(key_out)),
        )
    key = DeviceKey.generate()
    store = open_registry_store(settings)
    try:
        register_device(
            store,
            device_id=device_id,
            kind=kind,
            public_key_b64=key.public_key_b64,
            description=description,
            actor=f"officer:{operator}",
            now=now_utc(),
        )
    except DeviceError as exc:
        raise _refusal(reader, exc.text) from None
    key.save(key_out)
    say(
        reader,
        Text(
            "Registered %(kind)s %(device)s; its private key is written to %(path)s.",
            kind=kind.value,
            device=device_id,
            path=str(key_out),
        ),
    )
    if tls_ca_dir is not None:
        try:
            issued = CertificateAuthority.load(tls_ca_dir).issue(
                key_out.parent, device_id, now_utc()
            )
        except PkiError as exc:
            raise _refusal(reader, exc.text) from None
        say(
            reader,
            Text(
                "Broker certificate %(certificate)s, key %(key)s.",
                certificate=str(issued.certificate),
                key=str(issued.private_key),
            ),
        )


@device_app.command("revoke")
def revoke(
    device_id: str,
    reason: Annotated[str, typer.Option(help="Why, in words (recorded in the ledger)")],
    operator: Annotated[str, typer.Option(help="Who is revoking")] = "admin",
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Revoke a device key: its messages are refused from now on."""
    settings = open_config(config, data_dir)
    reader = cli_translator(settings)
    store = open_registry_store(settings)
    try:
        revoke_device(store, device_id, reason=reason, actor=f"officer:{operator}", now=now_utc())
    except DeviceError as exc:
        raise _refusal(reader, exc.text) from None
    say(reader, Text("Revoked %(device)s.", device=device_id))


@device_app.command("list")
def list_command(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """List registered devices."""
    settings = open_config(config, data_dir)
    reader = cli_translator(settings)
    # Kinds and statuses are the registry's codes (camera, terminal; active, revoked), shown
    # as they are given on the command line.
    table = Table(
        reader.gettext("device"),
        reader.gettext("kind"),
        reader.gettext("status"),
        reader.gettext("registered (Astana time)"),
        reader.gettext("description"),
    )
    for row in list_devices(open_registry_store(settings)):
        table.add_row(
            str(row["device_id"]),
            str(row["kind"]),
            str(row["status"]),
            _local_time(reader, row["registered_at"]),
            str(row["description"]),
        )
    console.print(table)


def _local_time(reader: Translator, stored: object) -> str:
    """A stored UTC timestamp in Astana time as the reader's language writes it."""
    try:
        return reader.date_time(datetime.fromisoformat(str(stored)))
    except ValueError:
        return str(stored)


@app.command("migrate")
def migrate_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database: Annotated[
        str | None,
        typer.Option(
            help="The database to bring forward, if not the configured one: a postgresql:// URL"
            " of the owner role erap_owner (the registry's processes run as erap_app, which may"
            " not change the schema), or a SQLite file."
        ),
    ] = None,
) -> None:
    """Bring the registry's database to this release's schema version (a deploy step)."""
    settings = open_config(config, data_dir)
    reader = cli_translator(settings)
    target = database or settings.database_target
    location = redacted(str(target)) if is_postgres_target(target) else str(target)
    try:
        before, after = migrate_database(target)
    except (StoreError, OSError) as exc:
        raise refuse(
            reader,
            Text(
                "The registry database %(location)s cannot be brought forward: %(problem)s.",
                location=location,
                problem=str(exc).strip().rstrip("."),
            ),
        ) from None
    if before is None:
        message = Text(
            "The registry database %(location)s was created at schema version %(version)s.",
            location=location,
            version=after,
        )
    elif before == after:
        message = Text(
            "The registry database %(location)s is at schema version %(version)s already:"
            " nothing to do.",
            location=location,
            version=after,
        )
    else:
        message = Text(
            "The registry database %(location)s was brought from schema version %(old)s to"
            " %(new)s.",
            location=location,
            old=before,
            new=after,
        )
    say(reader, message)


@app.command("ingest-worker")
def ingest_worker(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    mqtt_host: Annotated[str | None, typer.Option(help="Broker host")] = None,
    mqtt_port: Annotated[int | None, typer.Option(help="Broker port")] = None,
    client_id: Annotated[str | None, typer.Option(help="MQTT client id, unique per worker")] = None,
) -> None:
    """Consume device messages from MQTT (shared subscription) until SIGTERM or Ctrl-C.

    Run several with different --client-id values to split the load. With one broker per
    region ([[mqtt.brokers]] in the config), it consumes from every one of them.
    """
    settings = open_config(config, data_dir)
    reader = cli_translator(settings)
    if settings.mqtt.brokers and (mqtt_host is not None or mqtt_port is not None):
        raise _refusal(
            reader,
            Text(
                "--mqtt-host and --mqtt-port name one broker, but the configuration lists one"
                " broker per region ([[mqtt.brokers]]): change their host and port there.",
            ),
        )
    mqtt_overrides = {
        key: value
        for key, value in {"host": mqtt_host, "port": mqtt_port, "client_id": client_id}.items()
        if value is not None
    }
    mqtt_settings = settings.mqtt.model_copy(update=mqtt_overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    worker = build_ingest_worker(open_registry_store(settings), settings, mqtt_settings)
    worker.start()
    say(
        reader,
        Text(
            "Ingest worker %(client)s is consuming from %(brokers)s into %(path)s.",
            client=mqtt_settings.client_id,
            brokers=", ".join(worker.brokers()),
            path=str(settings.db_path),
        ),
    )
    stop.wait()
    worker.stop()


@app.command("serve")
def serve(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    host: Annotated[str | None, typer.Option(help="HTTP listen address")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port")] = None,
    mqtt_port: Annotated[int | None, typer.Option(help="Broker port")] = None,
    mqtt: Annotated[bool, typer.Option(help="Also consume device messages from MQTT")] = True,
    jobs: Annotated[bool, typer.Option(help="Run the periodic jobs in this process")] = True,
) -> None:
    """Run the registry: HTTP API and console, MQTT ingest, periodic jobs. Stops on Ctrl-C."""
    import uvicorn

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["http_host"] = host
    if port is not None:
        overrides["http_port"] = port
    settings = open_config(config, data_dir, **overrides)
    if mqtt_port is not None:
        settings = settings.model_copy(
            update={"mqtt": settings.mqtt.model_copy(update={"port": mqtt_port})}
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    store = open_registry_store(settings)
    registry = build_case_service(store, settings)
    stop = threading.Event()
    worker = None
    if mqtt:
        worker = build_ingest_worker(store, settings)
        worker.start()
    if jobs:
        build_jobs(store, settings, registry).start(stop)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, store=store, registry=registry),
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
        )
    )
    address = f"http://{settings.http_host}:{settings.http_port}"
    say(cli_translator(settings), Text("The registry is serving on %(url)s.", url=address))
    try:
        server.run()
    finally:
        stop.set()
        if worker is not None:
            worker.stop()


@app.command("run-jobs")
def run_jobs(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Run the periodic jobs once: expiry, hand-over to bailiffs, notices, a signed tree head."""
    settings = open_config(config, data_dir)
    store = open_registry_store(settings)
    report = build_jobs(store, settings, build_case_service(store, settings))
    result = report.run_once()
    reader = cli_translator(settings)
    # Counts follow their nouns ("time-barred: 2"), so no noun needs a plural form here.
    counts = {
        "expired": reader.number(len(result.expired)),
        "handed_over": reader.number(len(result.handed_over)),
        "sent": reader.number(result.notifications_sent),
    }
    say(
        reader,
        Text(
            "Cases time-barred: %(expired)s; handed to bailiffs: %(handed_over)s; notices sent:"
            " %(sent)s; tree head signed at size %(size)s.",
            size=result.tree_size,
            **counts,
        )
        if result.tree_size is not None
        else Text(
            "Cases time-barred: %(expired)s; handed to bailiffs: %(handed_over)s; notices sent:"
            " %(sent)s; no new tree head (the ledger has not grown).",
            **counts,
        ),
    )


@app.command("export-bailiffs")
def export_bailiffs(
    out: Annotated[Path, typer.Option(help="JSON lines file to write")],
    after: Annotated[int, typer.Option(help="Cursor: last seq the bailiffs already have")] = 0,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write hand-over and recall documents after a cursor, as JSON lines."""
    settings = open_config(config, data_dir)
    store = open_registry_store(settings)
    export = build_case_service(store, settings).export_bailiff_feed(out, after_seq=after)
    reader = cli_translator(settings)
    say(
        reader,
        PluralText(
            "Wrote %(documents)s document to %(path)s; the next cursor is %(cursor)s.",
            "Wrote %(documents)s documents to %(path)s; the next cursor is %(cursor)s.",
            export.documents,
            documents=reader.number(export.documents),
            path=str(export.path),
            cursor=export.last_seq,
        ),
    )
