"""Store-and-forward benchmark: a backlog drained through a real broker into the real registry.

1. Start Mosquitto and the registry process (HTTP evidence + MQTT ingest), provision a camera.
2. Stop the broker, start the box's sender (it keeps trying the broker, and uploads evidence
   over HTTP meanwhile) and queue N signed fixations in the outbox (durable, synchronous FULL).
3. Start the broker; time the drain from when the registry's ingest has subscribed again (its
   reconnection wait is reported apart, as registry_reconnect_s); once a third is in the registry,
   kill the sender with SIGKILL and start it again (the outbox, not paho's memory, is the truth).
4. Count the registry's fixations table against what was queued.

Evidence: each fixation carries a full-frame JPEG drawn from a pool of ``--images`` distinct
pictures (uploaded once each by idempotent PUT), so the figure measures the outbox and MQTT
path rather than JPEG uploads.

Prints progress, then one JSON object as the last line: queued, in_registry, lost, duplicates,
drain_per_s.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from central_ingest.config import RegistryConfig
from contract import EvidenceRole
from demo.broker import MosquittoBroker
from demo.scene import evidence_jpeg
from edge.store import EvidenceImage
from tests.support.devices import evidence_ref, speeding_fixation
from tests.support.edge_box import Box, RegistryServer, SenderProcess
from tests.support.workers import IngestWorkerProcess

DEVICE = "cam-bench-001"
console = Console(stderr=True)


def registry_rows(data_dir: Path) -> list[str]:
    path = RegistryConfig(data_dir=data_dir).db_path
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
        return [row[0] for row in conn.execute("SELECT fixation_id FROM fixations")]


def registry_count(data_dir: Path) -> int:
    path = RegistryConfig(data_dir=data_dir).db_path
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM fixations").fetchone()[0])


def queue_fixations(box: Box, count: int, pool_size: int) -> list[str]:
    pool = [evidence_jpeg(f"bench {index}", seed=index) for index in range(pool_size)]
    images = [EvidenceImage(evidence_ref(EvidenceRole.FULL_FRAME, data), data) for data in pool]
    ids: list[str] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("queueing fixations (broker down)", total=count)
        for index in range(count):
            image = images[index % pool_size]
            fixation = speeding_fixation(box.camera, evidence=[image.ref])
            ids.append(box.outbox.record_fixation(fixation, [image], DEVICE, box.key).message_id)
            progress.advance(task)
    return ids


def main(
    count: Annotated[int, typer.Option("--count", "-n", help="Fixations to queue")] = 20_000,
    images: Annotated[int, typer.Option(help="Distinct evidence JPEGs in the pool")] = 200,
    timeout: Annotated[float, typer.Option(help="Give up the drain after this many s")] = 300.0,
    receipt_timeout: Annotated[
        float, typer.Option(help="Sender: resend after this many s without receipts")
    ] = 10.0,
    extra_workers: Annotated[
        int,
        typer.Option(
            help="Ingest workers besides the registry's own (erap-ingest@N as deployed; "
            "they share the subscription)"
        ),
    ] = 1,
) -> None:
    """Queue fixations while the broker is down, then drain them with one sender crash."""
    with tempfile.TemporaryDirectory(prefix="outbox-bench-") as temp:
        root = Path(temp)
        # As deployed (deploy/mosquitto/erap.conf): the ingest acknowledges a batch after its
        # commit, so the broker must let a batch wait unacknowledged.
        broker = MosquittoBroker(
            root / "broker", extra_config=["max_inflight_messages 1000"]
        ).start()
        box = Box(root / "box", DEVICE)
        data_dir = root / "registry"
        RegistryServer.provision(data_dir, DEVICE, box.key)
        registry = RegistryServer(data_dir, broker.port)
        workers = [
            IngestWorkerProcess(data_dir, broker.port, f"ingest-{number}")
            for number in range(2, 2 + extra_workers)
        ]
        sender: SenderProcess | None = None
        try:
            broker.stop()
            # The box's sender runs all along: it cannot reach the broker, but it may upload
            # evidence over HTTP while it waits.
            sender = SenderProcess(box, registry, broker.port, receipt_timeout)
            started = time.perf_counter()
            queued = queue_fixations(box, count, images)
            queue_s = time.perf_counter() - started
            console.print(f"queued {count} fixations in {queue_s:.1f} s ({count / queue_s:.0f}/s)")

            broker.start()
            broker_started = time.perf_counter()
            # The registry's own ingest reconnects on its own backoff (up to 30 s): the drain
            # clock starts once it is subscribed again, and that wait is reported apart.
            logs = [registry.log, *(worker.log for worker in workers)]
            while any(sum("ingest subscribed" in line for line in log) < 2 for log in logs):
                time.sleep(0.02)
            drain_started = time.perf_counter()
            killed = False
            next_report = 0.0
            deadline = drain_started + timeout
            while (done := registry_count(data_dir)) < count and time.perf_counter() < deadline:
                if not killed and done >= count // 3:
                    sender.stop(signal.SIGKILL)
                    console.print(f"killed the sender with SIGKILL at {done} delivered")
                    sender = SenderProcess(box, registry, broker.port, receipt_timeout)
                    killed = True
                if (tick := time.perf_counter()) >= next_report:
                    console.print(f"{tick - drain_started:6.1f} s  {done} in the registry")
                    next_report = tick + 1.0
                time.sleep(0.05)
            drain_s = time.perf_counter() - drain_started
            rows = registry_rows(data_dir)
            ours = set(queued)
            result = {
                "queued": count,
                "in_registry": len(ours & set(rows)),
                "lost": len(ours - set(rows)),
                "duplicates": len(rows) - len(set(rows)),
                "drain_per_s": round(len(ours & set(rows)) / drain_s),
                "drain_s": round(drain_s, 2),
                "registry_reconnect_s": round(drain_started - broker_started, 2),
                "queue_per_s": round(count / queue_s),
                "sender_killed_once": killed,
                "distinct_images": images,
                "ingest_workers": 1 + extra_workers,
            }
        finally:
            if sender is not None:
                sender.stop()
            for worker in workers:
                worker.stop()
            registry.stop()
            broker.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    typer.run(main)
