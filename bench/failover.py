"""Failover benchmark: the registry's PostgreSQL primary is SIGKILLed midway through a steady
stream of fixations, the synchronous standby is promoted, and the ingest workers carry on there.

1. Start (tests/support/failover.py) a PostgreSQL 15 primary with a synchronous standby made
   from deploy/postgresql (fsync on in both, as deployed), the registry's database migrated as
   ``erap_owner``, Mosquitto, ``erap-registry serve --no-mqtt`` (the boxes' evidence uploads)
   and ``--workers`` ``erap-registry ingest-worker`` processes, all connecting as ``erap_app``
   through the libpq multi-host URL with ``target_session_attrs=read-write``; ``--cameras``
   boxes, each a durable outbox with its sender, and an observer of every receipt topic.
2. Record ``--count`` fixations round-robin over the cameras at ``--rate`` per second (each
   with its own full-frame JPEG and plate crop). Once half of them have been acknowledged:
   SIGKILL the primary's postmaster and promote the standby at once (deploy/postgresql/README.md,
   Failover: clear synchronous_standby_names, ``pg_ctl promote``), as a watchdog would.
3. Wait until every outbox is empty (or ``--timeout``), then count on the promoted server.

Figures in the last line (one JSON object):
- ``acknowledged``: recorded fixations a receipt told their box are stored (or duplicates).
- ``on_new_primary``: recorded fixations in the promoted server's ``fixations`` table.
- ``lost``: acknowledged fixations not there exactly once (target 0).
- ``duplicates``: fixations committed more than once (``received`` ledger entries; target 0).
- ``failover_s``, the timed region: from the SIGKILL (wall clock, just before the signal) to the
  first fixation committed on the promoted standby (its commit timestamp,
  ``track_commit_timestamp``). It covers the workers' failed batch, the promotion, and the
  workers' reconnection through the multi-host URL. ``promote_s`` is the part from the SIGKILL
  to the promoted server accepting writes.
- ``drain_s``: from the SIGKILL until every outbox is empty.
- The CPU's model and avx512 flags.

Progress goes to stderr.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import cpu
from tests.support.failover import FailoverRig

console = Console(stderr=True)


def run(rig: FailoverRig, count: int, rate: float, timeout: float) -> dict[str, object]:
    """Feed, kill and promote midway, drain; the figures."""
    cameras = rig.camera_count
    console.print(
        f"primary :{rig.cluster.primary.port}, standby :{rig.cluster.standby.port},"
        f" {rig.worker_count} ingest workers, {cameras} cameras"
    )
    recorded: list[str] = []
    rounds = max(1, count // cameras)
    interval = cameras / rate

    def feed() -> None:
        next_at = time.perf_counter()
        for _ in range(rounds):
            recorded.extend(rig.record(per_camera=1))
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    total = rounds * cameras
    while len(rig.acknowledged() & set(recorded)) < total // 2:
        time.sleep(0.01)
    acknowledged_at_kill = len(rig.acknowledged() & set(recorded))
    console.print(f"{acknowledged_at_kill} of {total} acknowledged: SIGKILL the primary")
    killed_wall = time.time()
    killed = time.perf_counter()
    rig.cluster.kill_primary()
    rig.cluster.promote()
    promote_s = time.perf_counter() - killed
    console.print(f"standby promoted {promote_s:.2f} s after the kill")
    feeder.join()
    deadline = time.perf_counter() + timeout
    while (depth := rig.outbox_depth()) > 0 and time.perf_counter() < deadline:
        console.print(f"{time.perf_counter() - killed:6.1f} s  {depth} in the outboxes")
        time.sleep(1.0)
    drain_s = time.perf_counter() - killed
    first_commit = rig.first_commit_after(killed_wall)
    ours = set(recorded)
    acknowledged = rig.acknowledged() & ours
    rows = rig.fixation_rows()
    commits = rig.ledger_commits()
    assert rig.observer is not None
    return {
        "recorded": len(recorded),
        "acknowledged": len(acknowledged),
        "acknowledged_at_kill": acknowledged_at_kill,
        "on_new_primary": len(ours & set(rows)),
        "lost": sum(1 for m in acknowledged if rows[m] != 1),
        "duplicates": sum(1 for m in ours if commits[m] > 1 or rows[m] > 1),
        "left_in_outboxes": rig.outbox_depth(),
        "failover_s": None if first_commit is None else round(first_commit - killed_wall, 3),
        "promote_s": round(promote_s, 3),
        "drain_s": round(drain_s, 2),
        "receipt_statuses": dict(sorted(rig.observer.statuses().items())),
        "rate_per_s": rate,
        "cameras": cameras,
        "ingest_workers": rig.worker_count,
        "fsync": "on",
        "synchronous_commit": "on",
        **cpu(),
    }


def main(
    count: Annotated[int, typer.Option("--count", "-n", help="Fixations to record")] = 1000,
    rate: Annotated[float, typer.Option(help="Fixations recorded per second")] = 100.0,
    cameras: Annotated[int, typer.Option(help="Camera boxes, each with its outbox")] = 4,
    workers: Annotated[int, typer.Option(help="Ingest worker processes")] = 2,
    timeout: Annotated[float, typer.Option(help="Give up draining after this many s")] = 120.0,
) -> None:
    """Kill the primary midway through a stream of fixations; count what the standby has."""
    with (
        tempfile.TemporaryDirectory(prefix="failover-bench-") as temp,
        FailoverRig(Path(temp), cameras=cameras, workers=workers, durable=True) as rig,
    ):
        result = run(rig, count, rate, timeout)
    print(json.dumps(result))


if __name__ == "__main__":
    typer.run(main)
