"""The officer's commands on the terminal: find a case, take a payment, settle what is pending.

Every command reads the terminal's TOML configuration (``--config``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import typer
from rich.console import Console

from contract import DeviceKey
from contract.config_file import ConfigError
from terminal.config import build_terminal, load_config
from terminal.emv import CardError
from terminal.money import format_kzt
from terminal.receipt import PrinterUnavailable
from terminal.registry_client import RegistryUnavailable
from terminal.service import PaymentTerminal

app = typer.Typer(help=__doc__, no_args_is_help=True)
console = Console()
ConfigOption = typer.Option(Path("/etc/erap/terminal.toml"), "--config", help="TOML file")


@contextmanager
def _terminal(config_path: Path) -> Iterator[PaymentTerminal]:
    """The configured terminal; a refusal or an unreachable part ends the command with its
    message instead of a traceback."""
    try:
        config = load_config(config_path)
        key = DeviceKey.load(config.key_path)
    except (OSError, ValueError, ConfigError) as exc:
        console.print(f"[red]The terminal configuration {config_path} is not usable: {exc}[/red]")
        raise typer.Exit(2) from exc
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with httpx.Client(base_url=config.registry_url, timeout=15.0) as http:
        terminal, journal = build_terminal(config, key=key, http=http)
        try:
            yield terminal
        except (RegistryUnavailable, PrinterUnavailable, CardError, ValueError) as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
        finally:
            journal.close()


@app.command()
def find(
    case_number: str = typer.Option("", help="case number"),
    plate: str = typer.Option("", help="vehicle plate, e.g. 123ABC01"),
    iin: str = typer.Option("", help="the person's IIN (12 digits)"),
    config: Path = ConfigOption,
) -> None:
    """Show the cases found and the amount due now, as the registry computes it."""
    with _terminal(config) as terminal:
        cases = terminal.find_cases(case_number=case_number, plate=plate, iin=iin)
    if not cases:
        console.print("No case found.")
    for case in cases:  # one short block per case: the screen in a patrol car is small
        console.print(f"[bold]{case.case_number}[/bold]  {case.plate}  {case.legal_basis}")
        console.print(
            f"  full {format_kzt(case.full_minor)}, due now"
            f" {format_kzt(case.amount_due_now_minor)} ({case.status})",
            highlight=False,
        )


@app.command()
def pay(
    case_number: str = typer.Argument(..., help="the case to pay"),
    payment_id: str = typer.Option("", help="repeat a payment id to retry it safely"),
    config: Path = ConfigOption,
) -> None:
    """Charge the amount due now on the case; print the receipt; report to the registry."""
    key = UUID(payment_id) if payment_id else uuid4()
    with _terminal(config) as terminal:
        result = terminal.pay(case_number, key)
    console.print(f"payment {result.payment_id}: {result.state.value}")
    console.print(result.message)
    if not result.charged:
        raise typer.Exit(1)


@app.command()
def reprint(
    payment_id: str = typer.Argument(..., help="the approved payment's id"),
    config: Path = ConfigOption,
) -> None:
    """Print the receipt of an approved payment again."""
    with _terminal(config) as terminal:
        terminal.reprint(UUID(payment_id))
    console.print("Receipt printed.")


@app.command()
def settle(
    every: float = typer.Option(
        0.0, help="repeat every this many seconds (a reversal is resent until acknowledged)"
    ),
    config: Path = ConfigOption,
) -> None:
    """Resend due reversals, settle payments in doubt, send queued payment reports."""
    with _terminal(config) as terminal:
        while True:
            for result in terminal.settle_pending():
                console.print(
                    f"payment {result.payment_id}: {result.state.value}: {result.message}"
                )
            if every <= 0:
                return
            time.sleep(every)
