"""CLI: run the microcontroller simulator on a serial port or a fresh socat pty pair."""

from __future__ import annotations

import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from firmware_bridge.simulator.device import McuSimulator
from firmware_bridge.simulator.script import ScriptError, run_step, steps
from firmware_bridge.transport import BridgeError, PtyPair

app = typer.Typer(add_completion=False, help=__doc__)
console = Console(stderr=True)


@app.command()
def run(
    port: Annotated[
        str | None,
        typer.Option(help="serial port or pyserial URL; omit to create a socat pty pair"),
    ] = None,
    script: Annotated[
        str | None,
        typer.Option(help="steps separated by ';' (see firmware_bridge.simulator.script)"),
    ] = None,
    stdin: Annotated[bool, typer.Option(help="read further steps from standard input")] = False,
    boot: Annotated[int, typer.Option(help="boot counter to start from")] = 1,
    heartbeat_s: Annotated[
        float, typer.Option(help="period of heartbeat and GPS sentences; 0 for none")
    ] = 1.0,
) -> None:
    """Simulate the camera box's microcontroller until interrupted (Ctrl-C or SIGTERM)."""
    # SIGTERM unwinds like Ctrl-C, so the socat child of a self-made pty pair is stopped too.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    with tempfile.TemporaryDirectory(prefix="mcu-sim-") as scratch:
        pair = None
        if port is None:
            pair = PtyPair(Path(scratch)).start()
            port = str(pair.mcu)
            console.print(f"host end of the simulated serial line: [bold]{pair.host}[/bold]")
        try:
            with McuSimulator(port, boot=boot) as simulator:
                stop = threading.Event()
                if heartbeat_s > 0:
                    ticker = threading.Thread(
                        target=_tick_until, args=(simulator, heartbeat_s, stop), daemon=True
                    )
                    ticker.start()
                for step in steps(script or ""):
                    console.print(f"step: {step}")
                    run_step(simulator, step)
                if stdin:
                    _interactive(simulator)
                stop.wait()
        except (BridgeError, ScriptError) as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(1) from error
        except KeyboardInterrupt:
            pass
        finally:
            if pair is not None:
                pair.stop()


def _tick_until(simulator: McuSimulator, period_s: float, stop: threading.Event) -> None:
    while not stop.wait(period_s):
        simulator.tick()


def _interactive(simulator: McuSimulator) -> None:
    """Steps typed by a technician: a mistyped step is explained, not fatal."""
    for line in sys.stdin:
        for step in steps(line):
            try:
                run_step(simulator, step)
            except ScriptError as error:
                console.print(f"[red]{error}[/red]")


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    app()
