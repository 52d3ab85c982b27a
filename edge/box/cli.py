"""``erap-box``: the camera box's three processes, each started by systemd with the same
configuration file (deploy/systemd/erap-box-*.service), and a configuration check."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from contract import DeviceKey
from contract.config_file import ConfigError
from edge.box.config import BoxConfig, load_box_config
from edge.box.journal import SensorJournal
from edge.box.recorder import Recorder
from edge.box.wiring import build_sender, open_outbox
from edge.store.db import Durability

app = typer.Typer(help="The camera box's processes.", no_args_is_help=True)
console = Console(stderr=True)

ConfigPath = Annotated[Path, typer.Option("--config", help="The box's TOML configuration file")]
DEFAULT_CONFIG = Path("/etc/erap/box.toml")


def _load(path: Path) -> BoxConfig:
    try:
        return load_box_config(path)
    except ConfigError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


def _key(config: BoxConfig) -> DeviceKey:
    try:
        return DeviceKey.load(config.key_file)
    except (OSError, ValueError) as error:
        console.print(
            f"[red]The box key {config.key_file} cannot be read ({error}); provision the box "
            "with 'erap-registry device provision'.[/red]"
        )
        raise typer.Exit(2) from None


@contextmanager
def _until_signalled() -> Iterator[threading.Event]:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    yield stop


def _logging(device_id: str, role: str) -> None:
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s {device_id} {role} %(levelname)s %(message)s"
    )


@app.command("check-config")
def check_config(config: ConfigPath = DEFAULT_CONFIG) -> None:
    """Validate the configuration file and say what the box will do."""
    box = _load(config)
    rules = box.rules
    enforced = [
        name
        for name, rule in (
            ("speeding", rules.speeding),
            ("red light", rules.red_light),
            ("bus lane", rules.bus_lane),
        )
        if rule is not None
    ]
    console.print(
        f"[green]{config} is valid[/green]: box {box.device_id} at {rules.zone!r} enforces "
        f"{', '.join(enforced)}; video {box.video.source}; microcontroller on {box.serial.port}; "
        f"broker {box.mqtt.host}:{box.mqtt.port}{' (TLS)' if box.mqtt.ca_file else ''}; "
        f"data in {box.data_dir}"
    )


@app.command()
def bridge(config: ConfigPath = DEFAULT_CONFIG) -> None:
    """Own the microcontroller's serial port: sensor readings to the journal, box state."""
    from edge.box.bridge_service import BridgeService
    from firmware_bridge import BridgeError, FirmwareBridge

    box = _load(config)
    _logging(box.device_id, "bridge")
    journal = SensorJournal(box.journal_path)
    try:
        link = FirmwareBridge(box.serial.port, baudrate=box.serial.baudrate)
    except BridgeError as error:
        journal.update_state(mcu_link_error=str(error))
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    service = BridgeService(link, journal)
    with link, _until_signalled() as stop:
        console.print(
            f"bridge {box.device_id}: listening to the microcontroller on {box.serial.port}"
        )
        status = service.run(stop)
    journal.close()
    raise typer.Exit(status)


@app.command()
def recorder(config: ConfigPath = DEFAULT_CONFIG) -> None:
    """Read the video, join sensor readings, record signed fixations in the outbox."""
    from edge.box.recorder import Recorder
    from edge.box.wiring import build_pipeline
    from edge.video import SourceUnavailable, open_source

    box = _load(config)
    key = _key(box)
    _logging(box.device_id, "recorder")
    journal = SensorJournal(box.journal_path)
    outbox = open_outbox(box, Durability.FULL)
    source = open_source(box.video.source)
    recorder = Recorder(box, key, outbox, journal, build_pipeline(box), source)
    with _until_signalled() as stop:
        threading.Thread(target=_stop_when_set, args=(stop, recorder), daemon=True).start()
        try:
            counters = recorder.run()
        except SourceUnavailable as error:
            journal.update_state(camera_error=str(error))
            console.print(f"[red]The camera cannot be read: {error}[/red]")
            raise typer.Exit(1) from None
        finally:
            outbox.close()
            journal.close()
    console.print(
        f"recorder {box.device_id}: {counters.frames} frames, {counters.vehicles} vehicles, "
        f"{counters.fixations} fixations recorded, {recorder.joiner.counters.unread_violations} "
        f"violations without a plate read, {counters.dropped_frames} frames dropped to keep up"
    )


def _stop_when_set(stop: threading.Event, recorder: Recorder) -> None:
    stop.wait()
    recorder.stop()


@app.command()
def sender(config: ConfigPath = DEFAULT_CONFIG) -> None:
    """Drain the outbox to the registry; publish the box's status with its alarms."""
    box = _load(config)
    key = _key(box)
    _logging(box.device_id, "sender")
    journal = SensorJournal(box.journal_path)
    # Deleting delivered rows needs no fsync: a lost delete is a resend the registry drops.
    outbox = open_outbox(box, Durability.NORMAL)
    running = build_sender(box, key, outbox, journal).start()
    console.print(f"sender {box.device_id}: {outbox.depth()} message(s) queued")
    with _until_signalled() as stop:
        while not stop.wait(10.0):
            counters = running.counters
            logging.info(
                "delivered %d, queued %d, dead letters %d, broker refusals %d",
                counters.delivered,
                outbox.depth(),
                counters.dead_lettered,
                counters.broker_refusals,
            )
    running.stop()
    outbox.close()
    journal.close()
