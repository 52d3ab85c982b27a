"""Ingest benchmark: signed fixations through a real Mosquitto broker into ingest workers, run
without and with evidence uploads, on the SQLite store or on PostgreSQL.

``--store sqlite`` (the default): the registry's one SQLite file. ``--store postgresql``: a
PostgreSQL 15 primary with a synchronous streaming standby started for the run
(``bench/_postgres.py``), configured as a deployment is: ``fsync`` on, ``full_page_writes`` on,
``synchronous_commit = on`` with ``synchronous_standby_names`` naming the standby, WAL archived.
A receipt therefore goes out only once its fixation is on disk on both servers. The workers and
the HTTP registry get the ``erap_app`` multi-host URL through ``$ERAP_DATABASE``.

Each camera is its own MQTT 5 client: Mosquitto's C client ``mosquitto_pub -l -q 1`` fed one
signed fixation per line, so the load generator costs little of the two cores it shares with
the broker and the workers. The registry's receipts, published only after its commit, tell
when each fixation was verified and stored; the database is counted at the end.

Two runs in one invocation (``--runs`` picks one), against the same broker, workers and HTTP
registry (``central_ingest serve --no-mqtt``):

- ``without``: every fixation names the same frame, put into the evidence store before the
  timed regions; the figure is the MQTT ingest alone (evidence cost excluded).
- ``with``: every fixation has its own full frame (~150 KB) and plate crop (~10 KB) JPEGs,
  made before the timed regions; in the timed regions the camera's thread uploads both by
  signed PUT /v1/evidence/<sha256> (the request signed then, as a box does) and only then
  publishes the fixation, as the box's sender does.

Each run has two timed regions. Phase 1 (throughput): every camera sends its share as fast as
it can; the rate is the number committed divided by the time from the first send to the last
commit receipt. Phase 2 (latency): a steady offered rate for a few seconds; each message's
latency runs from the moment it was scheduled to be sent (so a camera falling behind shows,
uploads included in the ``with`` run) to its commit receipt. Percentiles are over ALL
messages scheduled: one not receipted within ``--receipt-timeout`` after the last send, or
whose upload failed, or that the registry refused, is a failure, counted, and ranks above
every answered one (a percentile that lands on failures is null, not a fast figure).

Prints progress, then one JSON object as the last line: at its top ``fixations_per_s`` (phase
1), ``p99_ms`` (phase 2), ``lost`` (fixations whose receipt said stored but that the database,
counted once every writer has stopped, does not hold; ``scheduled_not_in_registry`` beside it
counts every scheduled one missing, failures to send included) and ``cpu_us_per_fixation``
(phase 1: the ingest workers, the HTTP registry and, on PostgreSQL, every process of both
servers), from the first run made (``without`` unless only ``with`` runs); then each run's
median, p95, p99, failures and CPU by part, the load average when each run began, the servers'
settings and the CPU's avx512 flags.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._postgres import BenchDatabase, bench_database, process_cpu_s
from bench._report import cpu, latency_summary
from central_ingest.cli.common import DATABASE_ENV
from central_ingest.config import RegistryConfig
from central_ingest.store.evidence import EvidenceStore
from central_ingest.store.postgres.db import PostgresStore
from central_ingest.wiring import open_registry_store
from contract import (
    DeviceKind,
    EvidenceRef,
    EvidenceRole,
    MessageKind,
    device_topic,
    now_utc,
    receipt_topic,
)
from contract.signing import device_request_headers
from tests.support.broker import MosquittoBroker, free_port, wait_for_port
from tests.support.devices import SimulatedDevice, evidence_ref, speeding_fixation
from tests.support.evidence_images import evidence_jpeg
from tests.support.workers import IngestWorkerProcess

COMMITTED = ("stored", "duplicate")


@dataclass
class Message:
    message_id: str
    camera: int
    line: bytes  # one line of canonical JSON
    images: list[tuple[str, bytes]]  # (sha256, JPEG) to upload first; empty without evidence


class ReceiptWatcher:
    def __init__(self, port: int) -> None:
        self.committed: dict[str, float] = {}
        self.statuses: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(receipt_topic("+"), qos=1)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        arrived = time.perf_counter()
        entries = json.loads(message.payload)["entries"]
        with self._lock:
            for entry in entries:
                self.statuses[entry["status"]] += 1
                if entry["status"] in COMMITTED:
                    self.committed.setdefault(entry["message_id"], arrived)

    def count(self, ids: set[str]) -> int:
        with self._lock:
            return len(ids & self.committed.keys())

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class CameraLink:
    """One camera: ``mosquitto_pub`` reading signed fixations from a pipe, and an HTTP client
    for its evidence."""

    def __init__(self, port: int, camera: SimulatedDevice, registry_url: str) -> None:
        self.camera = camera
        self.http = httpx.Client(base_url=registry_url, timeout=30)
        self.process = subprocess.Popen(
            [
                shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub",
                *("-h", "127.0.0.1", "-p", str(port), "-V", "mqttv5", "-q", "1", "-l"),
                *("-i", camera.device_id),
                *("-t", device_topic(camera.device_id, MessageKind.FIXATION)),
            ],
            stdin=subprocess.PIPE,
        )

    def upload(self, sha256: str, data: bytes) -> str | None:
        """None once the registry holds the file, else what went wrong."""
        path = f"/v1/evidence/{sha256}"
        headers = device_request_headers(
            self.camera.key, self.camera.device_id, method="PUT", path=path, body=data
        )
        headers["Content-Type"] = "image/jpeg"
        try:
            answer = self.http.put(path, content=data, headers=headers)
        except httpx.HTTPError as exc:
            return type(exc).__name__
        return None if answer.status_code in (200, 201) else f"HTTP {answer.status_code}"

    def send(self, line: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.http.close()


def noise_jpeg(size: tuple[int, int]) -> bytes:
    """A real JPEG of camera-like weight: noise does not compress, as a busy street barely does."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=75)
    return buffer.getvalue()


def unique_copy(jpeg: bytes, tag: str) -> bytes:
    """The same picture with a comment segment (COM) after SOI: a valid JPEG with its own hash."""
    comment = tag.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[2:]


def make_messages(
    cameras: list[SimulatedDevice], count: int, evidence: str, shared: tuple[str, int]
) -> list[Message]:
    """Signed fixations; with ``evidence == "with"`` each has its own frame and crop."""
    frame, crop = noise_jpeg((680, 360)), noise_jpeg((220, 70))
    messages = []
    for index in range(count):
        camera_index = index % len(cameras)
        camera = cameras[camera_index]
        images: list[tuple[str, bytes]] = []
        if evidence == "with":
            tag = f"{camera.device_id} {camera.sequence + 1}"
            mine = [
                (EvidenceRole.FULL_FRAME, unique_copy(frame, tag)),
                (EvidenceRole.PLATE_CROP, unique_copy(crop, tag)),
            ]
            refs = [evidence_ref(role, data) for role, data in mine]
            images = [(ref.sha256, data) for ref, (_, data) in zip(refs, mine, strict=True)]
        else:
            refs = [
                EvidenceRef(role=EvidenceRole.FULL_FRAME, sha256=shared[0], size_bytes=shared[1])
            ]
        body = speeding_fixation(camera, plate=f"{index % 1000:03d}ABC01", evidence=refs)
        line = camera.seal(MessageKind.FIXATION, body)
        assert b"\n" not in line  # canonical JSON escapes newlines inside strings
        # The box seals a fixation under its own id as message id: receipts name it.
        messages.append(Message(str(body.fixation_id), camera_index, line, images))
    return messages


@dataclass
class Sent:
    scheduled: dict[str, float]  # message id -> when it was due (or, flat out, its start)
    first_send: float
    last_send: float
    upload_errors: Counter[str]


def send_all(links: list[CameraLink], messages: list[Message], rate: float | None) -> Sent:
    """Every camera's thread uploads (if any) then publishes its own messages in order; with a
    rate, message i is due at start + i / rate and its camera waits for that moment."""
    scheduled: dict[str, float] = {}
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    start = time.perf_counter() + 0.05
    last = [start]

    def camera(index: int) -> None:
        link = links[index]
        for position, message in enumerate(messages):
            if message.camera != index:
                continue
            due = start + position / rate if rate is not None else time.perf_counter()
            if (delay := due - time.perf_counter()) > 0:
                time.sleep(delay)
            due = due if rate is not None else time.perf_counter()
            with lock:
                scheduled[message.message_id] = due
            failed = next(
                (error for sha, data in message.images if (error := link.upload(sha, data))),
                None,
            )
            if failed is not None:
                with lock:
                    errors[failed] += 1
                continue  # a box does not publish a fixation whose evidence is not there
            link.send(message.line)
            with lock:
                last[0] = max(last[0], time.perf_counter())

    threads = [threading.Thread(target=camera, args=(n,)) for n in range(len(links))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Sent(scheduled, min(scheduled.values(), default=start), last[0], errors)


# The parts whose CPU is the registry's cost per fixation (the broker, the cameras and the
# load generator are reported beside it, not in it).
REGISTRY_PARTS = ("ingest_workers", "http_registry", "postgres_primary", "postgres_standby")


def cpu_snapshot(pids: dict[str, list[int]], database: BenchDatabase) -> dict[str, float]:
    snapshot = {part: sum(process_cpu_s(pid) for pid in ids) for part, ids in pids.items()}
    return {**snapshot, **database.cpu_s(), "load_generator": time.process_time()}


def cpu_per_fixation(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, int]:
    parts = {part: round((after[part] - before[part]) / max(n, 1) * 1e6) for part in before}
    return {**parts, "registry_total": sum(parts.get(part, 0) for part in REGISTRY_PARTS)}


def wait_for(watcher: ReceiptWatcher, ids: set[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while watcher.count(ids) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.02)


def run(
    name: str,
    links: list[CameraLink],
    watcher: ReceiptWatcher,
    pids: dict[str, list[int]],
    database: BenchDatabase,
    blast: list[Message],
    steady: list[Message],
    rate: float,
    receipt_timeout: float,
) -> dict[str, Any]:
    load = [round(value, 2) for value in os.getloadavg()]
    print(f"[{name} evidence] load average {load}", file=sys.stderr)
    print(f"[{name} evidence] phase 1: {len(blast)} fixations flat out ...", file=sys.stderr)
    before = cpu_snapshot(pids, database)
    sent = send_all(links, blast, rate=None)
    ids = {m.message_id for m in blast}
    wait_for(watcher, ids, receipt_timeout)
    receipts = [watcher.committed[m] for m in ids if m in watcher.committed]
    throughput = len(receipts) / (max(receipts) - sent.first_send) if receipts else 0.0
    cpu_phase1 = cpu_per_fixation(before, cpu_snapshot(pids, database), len(blast))
    phase1_failed = len(ids) - len(receipts)

    print(f"[{name} evidence] phase 2: {len(steady)} at {rate:.0f}/s ...", file=sys.stderr)
    before = cpu_snapshot(pids, database)
    steady_sent = send_all(links, steady, rate=rate)
    steady_ids = {m.message_id for m in steady}
    wait_for(watcher, steady_ids, receipt_timeout)
    cpu_phase2 = cpu_per_fixation(before, cpu_snapshot(pids, database), len(steady))
    latencies = [
        (watcher.committed[m] - steady_sent.scheduled[m]) * 1000
        if m in watcher.committed and m in steady_sent.scheduled
        else math.inf
        for m in steady_ids
    ]
    summary = latency_summary(latencies)
    return {
        "load_average_at_start": load,
        "fixations_per_s": round(throughput, 1),
        "phase1_sent": len(blast),
        "phase1_not_committed": phase1_failed,
        "offered_rate_per_s": rate,
        "phase2_seconds": round(len(steady) / rate, 2),
        **summary,
        "upload_errors": dict(sent.upload_errors + steady_sent.upload_errors),
        "evidence_bytes_per_fixation": sum(len(d) for _, d in (blast + steady)[0].images),
        "cpu_us_per_fixation_phase1": cpu_phase1,
        "cpu_us_per_fixation_phase2": cpu_phase2,
    }


def start_http(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The registry's HTTP API alone (no MQTT consumer, no jobs): it takes the evidence."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            *("-m", "central_ingest", "serve", "--data-dir", str(data_dir)),
            *("--port", str(port), "--no-mqtt", "--no-jobs"),
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, timeout_s=30)
    return process, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", choices=["both", "without", "with"], default="both")
    parser.add_argument("--fixations", type=int, default=20_000, help="phase 1, no evidence")
    parser.add_argument("--rate", type=float, default=1000.0, help="phase 2 rate, no evidence")
    parser.add_argument("--evidence-fixations", type=int, default=1_000, help="phase 1, with")
    parser.add_argument("--evidence-rate", type=float, default=50.0, help="phase 2 rate, with")
    parser.add_argument("--seconds", type=float, default=5.0, help="phase 2 duration")
    parser.add_argument("--receipt-timeout", type=float, default=30.0, help="after the last send")
    parser.add_argument("--workers", type=int, default=2, help="ingest worker processes")
    parser.add_argument("--cameras", type=int, default=20)
    args = parser.parse_args()
    runs = ["without", "with"] if args.runs == "both" else [args.runs]

    with (
        tempfile.TemporaryDirectory(prefix="bench-ingest-") as temp,
        bench_database(args.store) as database,
    ):
        print(json.dumps(bench(args, runs, Path(temp), database)))


def bench(
    args: argparse.Namespace, runs: list[str], workdir: Path, database: BenchDatabase
) -> dict[str, Any]:
    # The registry's processes (HTTP, ingest workers) inherit this: the command line's way.
    os.environ.pop(DATABASE_ENV, None)
    if database.url is not None:
        os.environ[DATABASE_ENV] = database.url
    config = RegistryConfig(data_dir=workdir / "registry", database=database.url)
    config.data_dir.mkdir(parents=True)
    store = open_registry_store(config)
    cameras = [
        SimulatedDevice(f"cam-bench-{n:04d}", DeviceKind.CAMERA).register(store)
        for n in range(args.cameras)
    ]
    frame = evidence_jpeg("bench frame")
    shared = evidence_ref(EvidenceRole.FULL_FRAME, frame)
    EvidenceStore(store, config.evidence_dir, config.max_evidence_bytes).put(
        shared.sha256, frame, uploaded_by="bench", now=now_utc()
    )
    plans: dict[str, tuple[list[Message], list[Message], float]] = {}
    for name in runs:
        count, rate = (
            (args.fixations, args.rate)
            if name == "without"
            else (args.evidence_fixations, args.evidence_rate)
        )
        print(f"signing {count + int(rate * args.seconds)} fixations ({name})", file=sys.stderr)
        plans[name] = (
            make_messages(cameras, count, name, (shared.sha256, shared.size_bytes)),
            make_messages(
                cameras, int(rate * args.seconds), name, (shared.sha256, shared.size_bytes)
            ),
            rate,
        )

    # The broker must let an ingest worker hold a whole batch unacknowledged.
    broker = MosquittoBroker(workdir / "broker", extra_config=["max_inflight_messages 1000"])
    broker.start()
    http, url = start_http(config.data_dir)
    workers = [
        IngestWorkerProcess(config.data_dir, broker.port, f"bench-ingest-{n}")
        for n in range(args.workers)
    ]
    watcher = ReceiptWatcher(broker.port)
    links = [CameraLink(broker.port, camera, url) for camera in cameras]
    pids = {
        "ingest_workers": [w.process.pid for w in workers],
        "http_registry": [http.pid],
        "broker": [broker.pid],
        "cameras": [link.process.pid for link in links],
    }
    results: dict[str, Any] = {}
    try:
        time.sleep(0.5)  # the cameras connect
        for name, (blast, steady, rate) in plans.items():
            results[f"{name}_evidence"] = run(
                name, links, watcher, pids, database, blast, steady, rate, args.receipt_timeout
            )
        statuses = dict(watcher.statuses)
        acknowledged = set(watcher.committed)
    finally:
        for link in links:
            link.close()
        watcher.stop()
        for worker in workers:
            worker.stop()
        http.terminate()
        http.wait(timeout=30)
        broker.stop()
    # Counted in the database, after every writer has stopped: the receipts are not trusted.
    stored = {str(row[0]) for row in store.db.conn.execute("SELECT message_id FROM fixations")}
    if isinstance(store, PostgresStore):
        store.shutdown()  # before the servers stop
    else:
        store.close()
    published = {m.message_id for blast, steady, _ in plans.values() for m in blast + steady}
    first = results[f"{runs[0]}_evidence"]
    return {
        "store": args.store,
        "fixations_per_s": first["fixations_per_s"],
        "p99_ms": first["p99_ms"],
        "offered_rate_per_s": first["offered_rate_per_s"],
        "lost": len(acknowledged & published - stored),
        "cpu_us_per_fixation": first["cpu_us_per_fixation_phase1"]["registry_total"],
        **results,
        "scheduled": len(published),
        "acknowledged": len(acknowledged & published),
        "committed_in_registry": len(published & stored),
        "scheduled_not_in_registry": len(published - stored),
        "receipt_statuses": statuses,
        "workers": args.workers,
        "cameras": args.cameras,
        "signature_verification": True,
        "database_settings": database.settings,
        **cpu(),
    }


if __name__ == "__main__":
    main()
