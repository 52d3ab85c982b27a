"""Ingest benchmark: signed fixations through a real Mosquitto broker into ingest workers.

Each camera is its own MQTT 5 client: Mosquitto's C client ``mosquitto_pub -l -q 1`` fed one
signed fixation per line, so the load generator costs little of the two cores it shares with
the broker and the workers. The registry's receipts, published only after its commit, tell
when each fixation was verified and stored; the database is counted at the end.

Phase 1 (throughput): every camera sends its share as fast as it can; the rate is the number
committed divided by the time from the first line written to the last receipt.
Phase 2 (latency): a steady offered rate (default 3,000/s) for a few seconds; p99 of
line written -> committed receipt.

Prints progress, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from uuid import UUID

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from central_ingest.config import RegistryConfig
from central_ingest.store.db import Store
from central_ingest.store.evidence import EvidenceStore
from contract import DeviceKind, EvidenceRef, EvidenceRole, MessageKind, device_topic, now_utc
from demo.broker import MosquittoBroker
from demo.scene import evidence_jpeg
from tests.support.devices import SimulatedDevice, evidence_ref, speeding_fixation
from tests.support.workers import IngestWorkerProcess

Message = tuple[str, int, bytes]  # message id, camera index, one line of canonical JSON


class ReceiptWatcher:
    def __init__(self, port: int) -> None:
        self.committed: dict[str, float] = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("erap/v1/+/receipt", qos=1)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        arrived = time.perf_counter()
        entries = json.loads(message.payload)["entries"]
        with self._lock:
            for entry in entries:
                if entry["status"] in ("stored", "duplicate"):
                    self.committed.setdefault(entry["message_id"], arrived)

    def count(self) -> int:
        with self._lock:
            return len(self.committed)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class CameraLink:
    """One camera's MQTT connection: ``mosquitto_pub`` reading signed fixations from a pipe."""

    def __init__(self, port: int, camera: SimulatedDevice) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-V",
                "mqttv5",
                "-q",
                "1",
                "-l",
                "-i",
                camera.device_id,
                "-t",
                device_topic(camera.device_id, MessageKind.FIXATION),
            ],
            stdin=subprocess.PIPE,
        )

    def send(self, line: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def make_messages(cameras: list[SimulatedDevice], count: int, sha: str, size: int) -> list[Message]:
    evidence = [EvidenceRef(role=EvidenceRole.FULL_FRAME, sha256=sha, size_bytes=size)]
    messages = []
    for index in range(count):
        camera_index = index % len(cameras)
        camera = cameras[camera_index]
        body = speeding_fixation(camera, plate=f"{index % 1000:03d}ABC01", evidence=evidence)
        line = camera.seal(MessageKind.FIXATION, body)
        assert b"\n" not in line  # canonical JSON escapes newlines inside strings
        messages.append((str(body.fixation_id), camera_index, line))
    return messages


def send_all(
    links: list[CameraLink], messages: list[Message], rate: float | None
) -> dict[str, float]:
    sent_at: dict[str, float] = {}
    start = time.perf_counter()
    for index, (message_id, camera_index, line) in enumerate(messages):
        if rate is not None:
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        sent_at[message_id] = time.perf_counter()
        links[camera_index].send(line)
    return sent_at


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(
    workers: list[IngestWorkerProcess], broker: MosquittoBroker, links: list[CameraLink]
) -> dict[str, float]:
    return {
        "ingest_workers": sum(cpu_seconds(w.process.pid) for w in workers),
        "broker": cpu_seconds(broker.pid),
        "cameras": sum(cpu_seconds(link.process.pid) for link in links),
        "load_generator": time.process_time(),
    }


def cpu_per_fixation(
    before: dict[str, float], after: dict[str, float], count: int
) -> dict[str, int]:
    return {part: round((after[part] - before[part]) / count * 1e6) for part in before}


def wait_for(watcher: ReceiptWatcher, expected: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while watcher.count() < expected and time.monotonic() < deadline:
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixations", type=int, default=30_000, help="phase 1 message count")
    parser.add_argument("--rate", type=float, default=3000.0, help="phase 2 offered rate per s")
    parser.add_argument("--seconds", type=float, default=5.0, help="phase 2 duration")
    parser.add_argument("--workers", type=int, default=2, help="ingest worker processes")
    parser.add_argument("--cameras", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as temp:
        workdir = Path(temp)
        config = RegistryConfig(data_dir=workdir / "registry")
        store = Store(config.db_path)
        cameras = [
            SimulatedDevice(f"cam-bench-{n:04d}", DeviceKind.CAMERA).register(store)
            for n in range(args.cameras)
        ]
        frame = evidence_jpeg("bench frame")
        ref = evidence_ref(EvidenceRole.FULL_FRAME, frame)
        EvidenceStore(store, config.evidence_dir, config.max_evidence_bytes).put(
            ref.sha256, frame, uploaded_by="bench", now=now_utc()
        )
        latency_count = int(args.rate * args.seconds)
        print(f"signing {args.fixations + latency_count} fixations ...", file=sys.stderr)
        blast = make_messages(cameras, args.fixations, ref.sha256, ref.size_bytes)
        steady = make_messages(cameras, latency_count, ref.sha256, ref.size_bytes)

        # The broker must let an ingest worker hold a whole batch unacknowledged.
        broker = MosquittoBroker(workdir / "broker", extra_config=["max_inflight_messages 1000"])
        broker.start()
        workers = [
            IngestWorkerProcess(config.data_dir, broker.port, f"bench-ingest-{n}")
            for n in range(args.workers)
        ]
        watcher = ReceiptWatcher(broker.port)
        links = [CameraLink(broker.port, camera) for camera in cameras]
        try:
            time.sleep(0.5)  # the cameras connect
            cpu_before = cpu_snapshot(workers, broker, links)
            print(f"phase 1: {args.fixations} fixations as fast as possible ...", file=sys.stderr)
            sent = send_all(links, blast, rate=None)
            wait_for(watcher, args.fixations, timeout_s=120)
            committed_blast = [watcher.committed[m] for m, _, _ in blast if m in watcher.committed]
            throughput = len(committed_blast) / (max(committed_blast) - min(sent.values()))
            cpu_phase1 = cpu_per_fixation(
                cpu_before, cpu_snapshot(workers, broker, links), args.fixations
            )

            print(f"phase 2: {args.rate:.0f}/s for {args.seconds} s ...", file=sys.stderr)
            cpu_before = cpu_snapshot(workers, broker, links)
            sent = send_all(links, steady, rate=args.rate)
            wait_for(watcher, args.fixations + latency_count, timeout_s=120)
            cpu_phase2 = cpu_per_fixation(
                cpu_before, cpu_snapshot(workers, broker, links), latency_count
            )
            latencies = sorted(
                (watcher.committed[m] - sent[m]) * 1000
                for m, _, _ in steady
                if m in watcher.committed
            )
            p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
        finally:
            for link in links:
                link.close()
            watcher.stop()
            for worker in workers:
                worker.stop()
            broker.stop()
        stored = int(store.db.conn.execute("SELECT count(*) FROM fixations").fetchone()[0])
        expected_ids = {UUID(m) for m, _, _ in blast + steady}
        result = {
            "fixations_per_s": round(throughput, 1),
            "p99_ms": round(p99, 1),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "offered_rate_per_s": args.rate,
            "published": len(expected_ids),
            "committed_in_registry": stored,
            "lost": len(expected_ids) - stored,
            "workers": args.workers,
            "cameras": args.cameras,
            "signature_verification": True,
            "cpu_us_per_fixation_phase1": cpu_phase1,
            "cpu_us_per_fixation_phase2": cpu_phase2,
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()
