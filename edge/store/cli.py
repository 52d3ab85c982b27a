"""``python -m edge.store``: run the sender, or look at the outbox of a box."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from contract import DeviceKey
from edge.store.db import Durability
from edge.store.outbox import Outbox
from edge.store.sender import Sender, SenderSettings

app = typer.Typer(help="Store-and-forward of the camera box.", no_args_is_help=True)
console = Console(stderr=True)

DataDir = Annotated[Path, typer.Option("--data-dir", help="Folder of the box database and files")]


def open_outbox(data_dir: Path, durability: Durability) -> Outbox:
    return Outbox(data_dir / "outbox.sqlite3", data_dir / "files", durability=durability)


@app.command()
def send(
    data_dir: DataDir,
    key_file: Annotated[Path, typer.Option(help="The box's Ed25519 private key (PEM)")],
    device_id: Annotated[str, typer.Option(help="The box's device id, as provisioned")],
    registry_url: Annotated[str, typer.Option(help="Registry base URL for evidence uploads")],
    mqtt_host: Annotated[str, typer.Option(help="Broker host")] = "127.0.0.1",
    mqtt_port: Annotated[int, typer.Option(help="Broker port")] = 1883,
    mqtt_username: Annotated[
        str | None, typer.Option(help="Broker user name (per-device ACLs); default none")
    ] = None,
    receipt_timeout: Annotated[
        float, typer.Option(help="Resend what has no receipt after this many silent seconds")
    ] = 30.0,
    status_interval: Annotated[float, typer.Option(help="Seconds between status reports")] = 60.0,
    reconnect_cap: Annotated[
        float, typer.Option(help="Longest wait between reconnection attempts, seconds")
    ] = 30.0,
) -> None:
    """Drain the outbox to the registry until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # Deleting delivered rows needs no fsync: a lost delete is a resend the registry drops.
    outbox = open_outbox(data_dir, Durability.NORMAL)
    settings = SenderSettings(
        device_id=device_id,
        registry_url=registry_url,
        mqtt_host=mqtt_host,
        mqtt_port=mqtt_port,
        mqtt_username=mqtt_username,
        receipt_timeout_s=receipt_timeout,
        status_interval_s=status_interval,
        reconnect_cap_s=reconnect_cap,
    )
    sender = Sender(outbox, DeviceKey.load(key_file), settings).start()
    console.print(f"sender {device_id}: {outbox.depth()} message(s) queued")
    while not stop.wait(5.0):
        counters = sender.counters
        console.print(
            f"delivered {counters.delivered}, queued {outbox.depth()}, "
            f"dead letters {counters.dead_lettered}, broker refusals {counters.broker_refusals}"
        )
    sender.stop()
    outbox.close()


@app.command()
def inspect(data_dir: DataDir) -> None:
    """Print queue depth, dead letters and evictions of a box."""
    outbox = open_outbox(data_dir, Durability.NORMAL)
    console.print(f"queued: {outbox.depth()}")
    console.print(f"evictions: {outbox.eviction_count()}")
    for letter in outbox.dead_letters():
        console.print(f"dead letter #{letter.sequence} {letter.message_id}: {letter.reason}")
    outbox.close()
