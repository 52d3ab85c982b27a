"""Flood benchmark: strangers send junk to POST /v1/messages while a camera sends signed
fixations to the same registry (issue 18, finding 2).

A real registry process (``erap-registry serve --no-mqtt --no-jobs``, uvicorn, one SQLite file)
on 127.0.0.1. Several junk clients, each on its own loopback address (127.0.0.2, .3, ...: the
registry throttles per source address), send ``--junk`` unauthenticated POSTs of 70 KB of
random bytes as fast as they can, over keep-alive connections. Meanwhile a camera on its own
address (127.0.0.100) sends signed fixations at a steady rate, each with its own evidence
JPEG uploaded first (PUT, signed headers), then the message (POST).

Timed region: from the first junk request sent to the last junk answer received. A camera
fixation counts as "during the flood" when its evidence upload started inside that region;
``legit_p95_ms`` is the p95 of its message POST (request sent to answer received),
``legit_with_evidence_p95_ms`` of upload plus POST. ``legit_lost`` = fixations the camera
sent minus those stored in the database at the end (an answer other than 201 counts too).

``db_growth_bytes_per_junk``: the pages of the ``dead_letters`` table and its index (SQLite's
dbstat, after a WAL checkpoint), after minus before, divided by the junk sent: the disk the
flood cost. ``db_file_growth_bytes`` is the whole file's growth, the camera's rows included.

``--no-throttle`` gives every source a burst larger than the flood: every junk message is then
stored, as when an attacker has as many addresses as messages.

Prints progress, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from central_ingest.store.db import open_store
from contract import DeviceKind, EvidenceRole, MessageKind, now_utc
from contract.signing import device_request_headers
from tests.support.broker import free_port
from tests.support.devices import SimulatedDevice, evidence_ref, speeding_fixation
from tests.support.evidence_images import evidence_jpeg

JUNK_BYTES = 70_000
CAMERA_ADDRESS = "127.0.0.100"


def cpu_flags() -> list[str]:
    text = Path("/proc/cpuinfo").read_text()
    return sorted({word for word in text.split() if word.startswith("avx512")})


def p95(values: list[float]) -> float | None:
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def dead_letter_pages(db_path: Path) -> tuple[int, int]:
    """(bytes of the dead_letters table and its index, bytes of the database file), after
    folding the WAL into the file."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (pages,) = conn.execute(
            "SELECT coalesce(sum(pgsize), 0) FROM dbstat"
            " WHERE name IN ('dead_letters', 'dead_letters_reason')"
        ).fetchone()
    return int(pages), db_path.stat().st_size


class Registry:
    def __init__(self, data_dir: Path, port: int, config: Path | None) -> None:
        self.log = (data_dir / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "central_ingest",
                "serve",
                *(["--config", str(config)] if config else []),
                "--data-dir",
                str(data_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-mqtt",
                "--no-jobs",
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the registry did not answer /healthz within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def junk_client(
    url: str, address: str, count: int, seed: int, statuses: Counter[int], lock: threading.Lock
) -> None:
    body = bytearray(os.urandom(JUNK_BYTES))
    mine: Counter[int] = Counter()
    with httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30) as client:
        for index in range(count):
            body[:16] = hashlib.md5(f"{seed}/{index}".encode()).digest()  # each one different
            try:
                mine[client.post(f"{url}/v1/messages", content=bytes(body)).status_code] += 1
            except httpx.HTTPError:
                mine[0] += 1
    with lock:
        statuses.update(mine)


class Camera(threading.Thread):
    def __init__(self, url: str, camera: SimulatedDevice, frames: list[bytes], rate: float):
        super().__init__(daemon=True)
        self.url, self.camera, self.frames, self.interval = url, camera, frames, 1 / rate
        self.stop = threading.Event()
        # (started, post latency s, upload + post latency s, status)
        self.samples: list[tuple[float, float, float, int]] = []

    def run(self) -> None:
        transport = httpx.HTTPTransport(local_address=CAMERA_ADDRESS)
        with httpx.Client(transport=transport, timeout=30) as client:
            next_at = time.perf_counter()
            for frame in self.frames:
                if self.stop.is_set():
                    return
                time.sleep(max(0.0, next_at - time.perf_counter()))
                next_at += self.interval
                self.samples.append(self._send(client, frame))

    def _send(self, client: httpx.Client, frame: bytes) -> tuple[float, float, float, int]:
        sha = hashlib.sha256(frame).hexdigest()
        path = f"/v1/evidence/{sha}"
        started = time.perf_counter()
        headers = device_request_headers(
            self.camera.key,
            self.camera.device_id,
            method="PUT",
            path=path,
            body=frame,
            now=now_utc(),
        )
        uploaded = client.put(f"{self.url}{path}", content=frame, headers=headers)
        body = speeding_fixation(
            self.camera, evidence=[evidence_ref(EvidenceRole.FULL_FRAME, frame)]
        )
        raw = self.camera.seal(MessageKind.FIXATION, body)
        posted_at = time.perf_counter()
        answer = client.post(f"{self.url}/v1/messages", content=raw)
        done = time.perf_counter()
        status = answer.status_code if uploaded.status_code in (200, 201) else uploaded.status_code
        return started, done - posted_at, done - started, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junk", type=int, default=10_000, help="junk POSTs in all")
    parser.add_argument("--clients", type=int, default=8, help="junk clients, one address each")
    parser.add_argument("--camera-rate", type=float, default=25.0, help="fixations per second")
    parser.add_argument("--max-fixations", type=int, default=1_500)
    parser.add_argument(
        "--no-throttle",
        action="store_true",
        help="a burst no source exhausts: what every junk message costs when an attacker has"
        " as many addresses as messages",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="erap-flood-"))
    data_dir = workdir / "registry"
    try:
        store = open_store(data_dir / "registry.sqlite3")
        camera = SimulatedDevice("cam-astana-0001", DeviceKind.CAMERA).register(store)
        store.db.conn.close()
        print(f"rendering {args.max_fixations} evidence frames", file=sys.stderr)
        frames = [evidence_jpeg(f"{i % 1000:03d}ABC01", seed=i) for i in range(args.max_fixations)]
        config = None
        if args.no_throttle:
            config = workdir / "registry.toml"
            config.write_text(f"[http_ingest]\nburst = {args.junk * 10}\n")
        registry = Registry(data_dir, free_port(), config)
        db_path = data_dir / "registry.sqlite3"
        try:
            pages_before, file_before = dead_letter_pages(db_path)
            sender = Camera(registry.url, camera, frames, args.camera_rate)
            sender.start()
            time.sleep(1.0)  # the camera's steady state before the flood
            statuses: Counter[int] = Counter()
            lock = threading.Lock()
            share = args.junk // args.clients
            threads = [
                threading.Thread(
                    target=junk_client,
                    args=(
                        registry.url,
                        f"127.0.0.{2 + i}",
                        share + (1 if i < args.junk % args.clients else 0),
                        i,
                        statuses,
                        lock,
                    ),
                )
                for i in range(args.clients)
            ]
            print(
                f"flooding with {args.junk} junk POSTs from {args.clients} addresses",
                file=sys.stderr,
            )
            flood_start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            flood_end = time.perf_counter()
            time.sleep(1.0)
            sender.stop.set()
            sender.join(timeout=60)
            pages_after, file_after = dead_letter_pages(db_path)
            with sqlite3.connect(db_path) as conn:
                (stored,) = conn.execute(
                    "SELECT count(*) FROM fixations WHERE device_id = ?", (camera.device_id,)
                ).fetchone()
                (junk_rows,) = conn.execute(
                    "SELECT count(*) FROM dead_letters WHERE signed = 0"
                ).fetchone()
        finally:
            registry.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    during = [s for s in sender.samples if flood_start <= s[0] <= flood_end]
    flood_s = flood_end - flood_start
    result = {
        "junk_sent": sum(statuses.values()),
        "junk_statuses": {str(code): count for code, count in sorted(statuses.items())},
        "junk_rows_stored": junk_rows,
        "junk_per_s": round(sum(statuses.values()) / flood_s, 1),
        "flood_s": round(flood_s, 2),
        "db_growth_bytes_per_junk": round((pages_after - pages_before) / args.junk, 2),
        "db_file_growth_bytes": file_after - file_before,
        "legit_sent": len(sender.samples),
        "legit_during_flood": len(during),
        "legit_not_201": sum(1 for s in sender.samples if s[3] != 201),
        "legit_lost": len(sender.samples) - stored,
        "legit_p95_ms": round(1000 * (p95([s[1] for s in during]) or 0), 1),
        "legit_median_ms": round(1000 * statistics.median([s[1] for s in during]), 1),
        "legit_with_evidence_p95_ms": round(1000 * (p95([s[2] for s in during]) or 0), 1),
        "throttled": not args.no_throttle,
        "cpu_flags": cpu_flags(),
        "cores": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
