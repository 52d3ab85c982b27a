"""The registry on a PostgreSQL primary with a synchronous standby, fed by cameras through
Mosquitto, ready to lose its primary: the failover test's and bench/failover.py's rig.

Everything is real and runs as deployed: the cluster of tests/support/postgres_cluster.py (the
registry's database made with deploy/postgresql's roles.sql and database.sql, migrated as
``erap_owner``), a Mosquitto broker, ``erap-registry serve --no-mqtt`` for the boxes' evidence
uploads and ``erap-registry ingest-worker`` processes, all connecting as ``erap_app`` through
the libpq multi-host URL in ``database =`` of their registry.toml. Each camera is a box's
durable outbox with its sender (edge/store), publishing signed fixations with real JPEG
evidence; an observer subscribed to every receipt topic records each receipt the registry sends.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from central_ingest.store.db import open_store
from central_ingest.store.postgres.schema import migrate
from contract.topics import PREFIX
from edge.store import Durability, Outbox, Sender, SenderSettings
from tests.support.broker import MosquittoBroker, free_port, wait_for_port
from tests.support.edge_box import Box
from tests.support.postgres_cluster import PostgresCluster
from tests.support.postgres_server import RegistryDatabase

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "erap"


class RegistryProcess:
    """An ``erap-registry`` command as its own process, its stderr kept (and drained)."""

    def __init__(self, args: list[str], ready: Callable[[list[str]], bool]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "central_ingest", *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.log: list[str] = []
        self._ready = threading.Event()
        self._is_ready = ready
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.log.append(raw.decode(errors="replace"))
            if self._is_ready(self.log):
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        if not self._ready.wait(timeout_s) or self.process.poll() is not None:
            raise RuntimeError(f"{self.process.args!r} did not start:\n{''.join(self.log)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)


class ReceiptObserver:
    """Every receipt the registry publishes, as (message id, status), in arrival order."""

    def __init__(self, port: int) -> None:
        self.entries: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="failover-observer", protocol=mqtt.MQTTv5
        )
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.connect("127.0.0.1", port)
        self._client.subscribe(f"{PREFIX}/+/receipt", qos=1)
        self._client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("the receipt observer could not subscribe")

    def _on_message(self, client: mqtt.Client, userdata: object, message: Any) -> None:
        body = json.loads(message.payload)
        with self._lock:
            self.entries.extend((e["message_id"], e["status"]) for e in body["entries"])

    def acknowledged(self) -> set[str]:
        """Message ids a device was told are in the registry (stored, or a duplicate of it)."""
        with self._lock:
            return {mid for mid, status in self.entries if status in ("stored", "duplicate")}

    def statuses(self) -> Counter[str]:
        with self._lock:
            return Counter(status for _, status in self.entries)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


class FailoverRig:
    """As a context manager: everything started on entry, stopped on exit. ``record`` puts
    fixations into the boxes' outboxes; ``kill_primary`` and ``promote`` fail over."""

    def __init__(
        self, workdir: Path, *, cameras: int = 4, workers: int = 2, durable: bool = False
    ) -> None:
        """``durable``: fsync on in both servers (a bench's figures), else off (a test's)."""
        self.workdir = workdir
        self.camera_count = cameras
        self.worker_count = workers
        # Commit timestamps: when the promoted server committed its first fixation.
        self.cluster = PostgresCluster(durable=durable, settings={"track_commit_timestamp": "on"})
        self.broker = MosquittoBroker(workdir / "broker")
        self.config_path = workdir / "registry.toml"
        self.boxes: list[Box] = []
        self.senders: list[Sender] = []
        self.workers: list[RegistryProcess] = []
        self.serve: RegistryProcess | None = None
        self.observer: ReceiptObserver | None = None
        self.app_url = ""

    # -- starting ------------------------------------------------------------------------------

    def __enter__(self) -> FailoverRig:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        self.cluster.create()
        database = RegistryDatabase(self.cluster.primary, DATABASE)
        with psycopg.connect(database.owner_url, autocommit=True) as conn:
            migrate(conn)
        self.app_url = self.cluster.multi_host_url(DATABASE, "erap_app")
        self.broker.start()
        http_port = free_port()
        self.config_path.write_text(
            f'data_dir = "{self.workdir / "registry"}"\n'
            f'database = "{self.app_url}"\n'
            f"http_port = {http_port}\n"
            "[mqtt]\n"
            f"port = {self.broker.port}\n"
            "batch_wait_ms = 10\n"
        )
        store = open_store(self.app_url, pool_size=1)
        try:
            for number in range(1, self.camera_count + 1):
                box = Box(self.workdir / f"box-{number}", f"cam-failover-{number:03d}")
                box.camera.register(store)
                self.boxes.append(box)
        finally:
            store.close()
        self.serve = RegistryProcess(
            ["serve", "--config", str(self.config_path), "--no-mqtt", "--no-jobs"],
            lambda log: False,  # it says so on stdout; its port tells
        )
        wait_for_port(http_port, timeout_s=30)
        registry_url = f"http://127.0.0.1:{http_port}"
        self.observer = ReceiptObserver(self.broker.port)
        for number in range(1, self.worker_count + 1):
            worker = RegistryProcess(
                [
                    "ingest-worker",
                    "--config",
                    str(self.config_path),
                    "--client-id",
                    f"ingest-failover-{number}",
                ],
                lambda log: "ingest subscribed" in log[-1],
            )
            self.workers.append(worker)
        for worker in self.workers:
            worker.wait_ready()
        for box in self.boxes:
            settings = SenderSettings(
                device_id=box.device_id,
                registry_url=registry_url,
                mqtt_port=self.broker.port,
                # The deployed default (30 s): a box resends only long after the failover, so
                # the fixations in flight at the crash reach the new primary through the
                # ingest workers' own retry, not through the boxes.
                receipt_timeout_s=30.0,
                reconnect_base_s=0.1,
                reconnect_cap_s=0.5,
            )
            outbox = Outbox(box.outbox.db_path, box.outbox.files.root, durability=Durability.NORMAL)
            self.senders.append(Sender(outbox, box.key, settings).start())

    # -- running -------------------------------------------------------------------------------

    def record(self, per_camera: int) -> list[str]:
        """``per_camera`` fixations into each box's outbox, round-robin; their message ids."""
        recorded: list[str] = []
        for _ in range(per_camera):
            for box in self.boxes:
                recorded.extend(box.record(1))
        return recorded

    def outbox_depth(self) -> int:
        return sum(box.outbox.depth() for box in self.boxes)

    def acknowledged(self) -> set[str]:
        assert self.observer is not None
        return self.observer.acknowledged()

    def sign_tree_head(self) -> str:
        """``erap-registry audit sign-tree-head``: the signed head, as a line kept outside."""
        return self.registry_command("audit", "sign-tree-head").stdout.strip().splitlines()[-1]

    def registry_command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """An ``erap-registry`` command on this registry's configuration (it must succeed)."""
        done = subprocess.run(
            [sys.executable, "-m", "central_ingest", *args, "--config", str(self.config_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise AssertionError(
                f"erap-registry {' '.join(args)} failed ({done.returncode}):"
                f"\n{done.stdout}\n{done.stderr}"
            )
        return done

    def fixation_rows(self) -> Counter[str]:
        """Each fixation's message id on whichever server accepts writes, with its number of
        rows in ``fixations``."""
        with psycopg.connect(self.cluster.multi_host_url(DATABASE)) as conn:
            rows = conn.execute("SELECT message_id::text FROM fixations").fetchall()
        return Counter(str(row[0]) for row in rows)

    def ledger_commits(self) -> Counter[str]:
        """Each fixation's message id with its number of ``received`` ledger entries: one per
        commit of it (nothing in the ledger makes a fixation unique, so a second commit would
        show as two)."""
        with psycopg.connect(self.cluster.multi_host_url(DATABASE)) as conn:
            rows = conn.execute(
                "SELECT f.message_id::text, count(l.seq) FROM fixations f JOIN ledger l"
                " ON l.entity_type = 'fixation' AND l.entity_id = f.fixation_id"
                " AND l.action = 'received' GROUP BY f.message_id"
            ).fetchall()
        return Counter({str(message_id): int(n) for message_id, n in rows})

    def first_commit_after(self, wall_time: float) -> float | None:
        """When the first fixation committed after ``wall_time`` (seconds since the epoch),
        by the server's commit timestamps; None if none has."""
        with psycopg.connect(self.cluster.multi_host_url(DATABASE)) as conn:
            row = conn.execute(
                "SELECT extract(epoch FROM min(pg_xact_commit_timestamp(xmin)))"
                " FROM fixations WHERE pg_xact_commit_timestamp(xmin) > to_timestamp(%s)",
                (wall_time,),
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def logs(self) -> str:
        """The registry processes' logs, for a failure message."""
        parts = [("serve", self.serve)] if self.serve is not None else []
        parts += [(f"worker {n}", w) for n, w in enumerate(self.workers, start=1)]
        return "\n".join(f"--- {name}\n{''.join(p.log[-30:])}" for name, p in parts if p)

    # -- stopping ------------------------------------------------------------------------------

    def close(self) -> None:
        for sender in self.senders:
            sender.stop()
        for box in self.boxes:
            box.outbox.close()
        for process in [*self.workers, *([self.serve] if self.serve else [])]:
            process.stop()
        if self.observer is not None:
            self.observer.close()
        self.broker.stop()
        self.cluster.close()


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)
