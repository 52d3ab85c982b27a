"""``python -m edge.store``: a technician's look at a box's outbox (the sender itself runs as
``erap-box sender``, from the box's configuration file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from edge.store.db import Durability
from edge.store.outbox import Outbox

app = typer.Typer(
    help="A technician's look at the camera box's outbox; the sender is 'erap-box sender'.",
    no_args_is_help=True,
)
console = Console(stderr=True)

DataDir = Annotated[Path, typer.Option("--data-dir", help="Folder of the box database and files")]


@app.callback()
def _tools() -> None:
    """Keeps ``inspect`` a named command (a typer app of one command would drop its name)."""


@app.command()
def inspect(data_dir: DataDir) -> None:
    """Print queue depth, dead letters and evictions of a box."""
    outbox = Outbox(data_dir / "outbox.sqlite3", data_dir / "files", durability=Durability.NORMAL)
    console.print(f"queued: {outbox.depth()}")
    console.print(f"evictions: {outbox.eviction_count()}")
    for letter in outbox.dead_letters():
        console.print(f"dead letter #{letter.sequence} {letter.message_id}: {letter.reason}")
    outbox.close()
