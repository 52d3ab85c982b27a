"""CLI: watch the camera box's microcontroller on a serial port (``erap-bridge monitor``, or
``python -m firmware_bridge monitor``)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console

from firmware_bridge.bridge import FirmwareBridge
from firmware_bridge.link import PeerReset, Received, SendFailed, Undecodable
from firmware_bridge.runner import LinkDown
from firmware_bridge.transport import DEFAULT_BAUD, BridgeError

app = typer.Typer(add_completion=False, help="The serial link to the camera box's microcontroller.")
console = Console(soft_wrap=True)


@app.callback()
def main() -> None:
    """The serial link to the camera box's microcontroller."""


@app.command()
def monitor(
    port: Annotated[str, typer.Option(help="serial device (/dev/ttyUSB0) or pyserial URL")],
    baud: Annotated[int, typer.Option(help="baud rate")] = DEFAULT_BAUD,
    seconds: Annotated[float, typer.Option(help="stop after this long; 0 runs until Ctrl-C")] = 0,
    illuminator: Annotated[
        bool | None, typer.Option("--illuminator-on/--illuminator-off", help="send a command")
    ] = None,
) -> None:
    """Print every message from the microcontroller, then the link counters."""
    try:
        bridge = FirmwareBridge(port, baudrate=baud).start()
    except BridgeError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    if illuminator is not None:
        bridge.set_illuminator(illuminator)
    deadline = time.monotonic() + seconds if seconds > 0 else None
    try:
        while deadline is None or time.monotonic() < deadline:
            try:
                event = bridge.next_event(0.5)
            except BridgeError:
                continue
            _show(event)
            if isinstance(event, LinkDown):
                raise typer.Exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        console.print(f"gps: {bridge.gps_reading().reason or 'position valid'}")
        console.print("counters: " + ", ".join(f"{k}={v}" for k, v in bridge.counters.items()))
        bridge.close()


def _show(event: object) -> None:
    if isinstance(event, Received):
        console.print(f"boot {event.peer_boot} seq {event.seq}: {event.message}", markup=False)
    elif isinstance(event, PeerReset):
        console.print(
            f"[yellow]microcontroller restarted: boot {event.previous_boot} -> {event.boot}"
            "[/yellow]"
        )
    elif isinstance(event, SendFailed):
        console.print(
            f"[red]not acknowledged after {event.attempts} attempts: {event.message}[/red]"
        )
    elif isinstance(event, Undecodable):
        console.print(f"[red]frame {event.seq} not understood: {event.reason}[/red]")
    elif isinstance(event, LinkDown):
        console.print(f"[red]{event.reason}[/red]")
