"""Store-and-forward benchmark: a backlog drained through a real broker into the real registry.

1. Start Mosquitto and the registry process (HTTP evidence + MQTT ingest), provision a camera.
2. Stop the broker, start the box's sender (it keeps trying the broker, and uploads evidence
   over HTTP meanwhile) and queue N signed fixations in the outbox (durable, synchronous FULL).
3. Start the broker and a receipt watcher (subscribed to every device's receipt topic); the
   timed region (the drain) runs from when the registry's ingest has subscribed again (its
   reconnection wait is reported apart, as registry_reconnect_s) until every queued fixation
   is in the registry or ``--timeout`` passes; once a third is in the registry, the sender is
   killed with SIGKILL and started again (the outbox, not paho's memory, is the truth).
4. Count, per fixation, what the registry itself says: its receipts (``stored`` once when
   committed, ``duplicate`` for every resend it recognised) and its ledger's ``received``
   entries (one per commit: the ledger has no unique key on the fixation, so a fixation
   committed twice would show as two).

Evidence: each fixation carries a full-frame JPEG drawn from a pool of ``--images`` distinct
pictures (uploaded once each by idempotent PUT), so the figure measures the outbox and MQTT
path rather than JPEG uploads (bench/ingest.py measures uploads per fixation).

Prints progress, then one JSON object as the last line: queued, in_registry, lost,
duplicates_delivered (resends the registry acknowledged as duplicates), committed_twice (must
be 0), receipts per fixation, drain_per_s, the median and p95 time from the drain's start to
each fixation's commit receipt (a fixation never receipted counts as a failure), and the CPU's
avx512 flags.
"""

from __future__ import annotations

import json
import math
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import paho.mqtt.client as mqtt
import typer
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import cpu, latency_summary
from central_ingest.config import RegistryConfig
from contract import EvidenceRole, receipt_topic
from edge.store import EvidenceImage
from tests.support.broker import MosquittoBroker
from tests.support.devices import evidence_ref, speeding_fixation
from tests.support.edge_box import Box, RegistryServer, SenderProcess
from tests.support.evidence_images import evidence_jpeg
from tests.support.workers import IngestWorkerProcess

DEVICE = "cam-bench-001"
console = Console(stderr=True)


class ReceiptWatcher:
    """Every receipt the registry publishes, counted per message id and status."""

    def __init__(self, port: int) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.first_stored: dict[str, float] = {}
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(receipt_topic("+"), qos=1)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise SystemExit("the receipt watcher could not subscribe to the broker")

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        arrived = time.perf_counter()
        if message.dup:
            return  # the broker resending to this watcher is not the registry answering again
        entries = json.loads(message.payload)["entries"]
        with self._lock:
            for entry in entries:
                self.counts[entry["message_id"], entry["status"]] += 1
                if entry["status"] == "stored":
                    self.first_stored.setdefault(entry["message_id"], arrived)

    def snapshot(self) -> tuple[Counter[tuple[str, str]], dict[str, float]]:
        with self._lock:
            return Counter(self.counts), dict(self.first_stored)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def registry_count(data_dir: Path) -> int:
    path = RegistryConfig(data_dir=data_dir).db_path
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM fixations").fetchone()[0])


def commits_per_message(data_dir: Path) -> dict[str, int]:
    """Message id -> how many times the registry committed its fixation, from the ledger's
    ``received`` entries (entity_id is the fixation id; nothing makes it unique)."""
    path = RegistryConfig(data_dir=data_dir).db_path
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
        rows = conn.execute(
            "SELECT f.message_id, count(l.seq) FROM fixations f JOIN ledger l"
            " ON l.entity_type = 'fixation' AND l.entity_id = f.fixation_id"
            " AND l.action = 'received' GROUP BY f.message_id"
        )
        return {str(message_id): int(count) for message_id, count in rows}


def counts_of(counts: Counter[tuple[str, str]], ours: set[str], status: str) -> int:
    return sum(
        n for (message_id, said), n in counts.items() if said == status and message_id in ours
    )


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
            watcher = ReceiptWatcher(broker.port)
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
            time.sleep(1.0)  # the last receipts reach the watcher
            counts, first_stored = watcher.snapshot()
            watcher.stop()
            commits = commits_per_message(data_dir)
            ours = set(queued)
            in_registry = ours & set(commits)
            receipts_per_id: Counter[str] = Counter()
            stored_receipts: Counter[str] = Counter()
            statuses: Counter[str] = Counter()
            for (message_id, status), n in counts.items():
                if message_id in ours:
                    receipts_per_id[message_id] += n
                    stored_receipts[message_id] += n if status == "stored" else 0
                    statuses[status] += n
            receipted_ms = [
                (first_stored[m] - drain_started) * 1000 if m in first_stored else math.inf
                for m in queued
            ]
            summary = latency_summary(receipted_ms, prefix="commit_receipt_")
            result = {
                "queued": count,
                "in_registry": len(in_registry),
                "lost": len(ours - in_registry),
                "duplicates_delivered": counts_of(counts, ours, "duplicate"),
                "committed_twice": sum(1 for m in in_registry if commits[m] > 1),
                "stored_receipt_twice": sum(1 for n in stored_receipts.values() if n > 1),
                "never_receipted": sum(1 for m in ours if receipts_per_id[m] == 0),
                "receipts_per_fixation_max": max(receipts_per_id.values(), default=0),
                "fixations_received_more_than_once": sum(
                    1 for n in receipts_per_id.values() if n > 1
                ),
                "receipt_statuses": dict(sorted(statuses.items())),
                "drain_per_s": round(len(in_registry) / drain_s),
                "drain_s": round(drain_s, 2),
                **summary,
                "registry_reconnect_s": round(drain_started - broker_started, 2),
                "queue_per_s": round(count / queue_s),
                "sender_killed_once": killed,
                "distinct_images": images,
                "ingest_workers": 1 + extra_workers,
                **cpu(),
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
