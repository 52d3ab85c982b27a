"""A camera box's store-and-forward against a real registry process and a real broker.

``RegistryServer`` runs ``python -m central_ingest serve`` (HTTP evidence uploads and the MQTT
ingest in one process) on a registry database where the camera is provisioned; ``Box`` records
signed fixations with real JPEG evidence into a real outbox; ``SenderProcess`` runs the sender
as its own process so a test can kill it with SIGKILL.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from central_ingest.config import RegistryConfig
from central_ingest.store.db import open_store
from contract import DeviceKey, DeviceKind, EvidenceRole
from edge.store import (
    Durability,
    EvidenceImage,
    Outbox,
    Sender,
    SenderSettings,
    StorageLimits,
)
from tests.support.broker import free_port, wait_for_port
from tests.support.devices import SimulatedDevice, evidence_ref, speeding_fixation
from tests.support.evidence_images import evidence_jpeg

ROOT = Path(__file__).resolve().parents[2]


def wait_until(
    condition: Callable[[], bool],
    timeout_s: float,
    what: str,
    detail: Callable[[], object] | None = None,
) -> None:
    """Poll a condition that has no event to wait on (another process's database); on
    timeout, ``detail`` (a process's last log lines, say) goes into the message."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            extra = f": {detail()}" if detail is not None else ""
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}{extra}")
        time.sleep(0.02)


class _LoggedProcess:
    def __init__(self, command: list[str], ready_marker: str | None) -> None:
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.log: list[str] = []
        self._ready = threading.Event()
        self._marker = ready_marker
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode(errors="replace")
            self.log.append(line)
            if self._marker is not None and self._marker in line:
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout_s: float = 20.0) -> None:
        if not self._ready.wait(timeout_s) or self.process.poll() is not None:
            raise RuntimeError(f"{self.process.args!r} did not start:\n{''.join(self.log)}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)


class RegistryServer(_LoggedProcess):
    """The registry (HTTP + MQTT ingest, no periodic jobs) as a separate process."""

    def __init__(self, data_dir: Path, mqtt_port: int, config_file: Path | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "central_ingest",
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            str(self.port),
            "--mqtt-port",
            str(mqtt_port),
            "--no-jobs",
        ]
        if config_file is not None:
            command += ["--config", str(config_file)]
        super().__init__(command, "ingest subscribed")
        self.wait_ready()
        wait_for_port(self.port)

    @staticmethod
    def provision(data_dir: Path, device_id: str, key: DeviceKey) -> None:
        store = open_store(RegistryConfig(data_dir=data_dir).db_path)
        try:
            SimulatedDevice(device_id, DeviceKind.CAMERA, key=key).register(store)
        finally:
            store.close()

    def fixation_ids(self) -> list[str]:
        """Every row of the registry's fixations table (a list: duplicates would show)."""
        path = RegistryConfig(data_dir=self.data_dir).db_path
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as conn:
            return [row[0] for row in conn.execute("SELECT fixation_id FROM fixations")]

    def device_status(self, device_id: str) -> dict[str, object] | None:
        """The latest status the registry stored for a device (its signed body), if any."""
        path = RegistryConfig(data_dir=self.data_dir).db_path
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as conn:
            row = conn.execute(
                "SELECT body FROM device_status WHERE device_id = ?", (device_id,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def sequences(self, device_id: str) -> list[int]:
        path = RegistryConfig(data_dir=self.data_dir).db_path
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as conn:
            rows = conn.execute(
                "SELECT sequence FROM fixations WHERE device_id = ? ORDER BY sequence",
                (device_id,),
            )
            return [row[0] for row in rows]


class Box:
    """The recording side of a camera box: an outbox with its own key and real JPEG evidence."""

    def __init__(self, root: Path, device_id: str, limits: StorageLimits | None = None) -> None:
        self.root = root
        self.device_id = device_id
        self.key = DeviceKey.generate()
        self.key_file = root / "box.key"
        self.key.save(self.key_file)
        self.outbox = Outbox(root / "outbox.sqlite3", root / "files", limits=limits)
        self.camera = SimulatedDevice(device_id, DeviceKind.CAMERA, key=self.key)
        self._images = 0

    def image(self) -> bytes:
        self._images += 1
        return evidence_jpeg(f"{self.device_id} {self._images}", seed=self._images)

    def record(self, count: int = 1) -> list[str]:
        """Record ``count`` fixations, each with its own full frame and plate crop."""
        ids: list[str] = []
        for _ in range(count):
            frame, crop = self.image(), self.image()
            images = [
                EvidenceImage(evidence_ref(EvidenceRole.FULL_FRAME, frame), frame),
                EvidenceImage(evidence_ref(EvidenceRole.PLATE_CROP, crop), crop),
            ]
            fixation = speeding_fixation(self.camera, evidence=[image.ref for image in images])
            ids.append(
                self.outbox.record_fixation(fixation, images, self.device_id, self.key).message_id
            )
        return ids


class SenderProcess(_LoggedProcess):
    """``erap-box sender`` for a box, as the box runs it: from a box configuration file."""

    def __init__(
        self,
        box: Box,
        registry: RegistryServer,
        mqtt_port: int,
        receipt_timeout_s: float = 3.0,
        reconnect_cap_s: float = 1.0,
    ) -> None:
        config = box.root / "box.toml"
        config.write_text(
            sender_config_text(box, registry.url, mqtt_port, receipt_timeout_s, reconnect_cap_s),
            encoding="utf-8",
        )
        super().__init__(
            [sys.executable, "-m", "edge.box", "sender", "--config", str(config)],
            ready_marker=None,
        )


def sender_config_text(
    box: Box,
    registry_url: str,
    mqtt_port: int,
    receipt_timeout_s: float,
    reconnect_cap_s: float,
) -> str:
    """A box configuration for the sender alone: the video and serial settings are required by
    the file's schema but the sender never opens them."""
    return f"""device_id = "{box.device_id}"
key_file = "{box.key_file}"
data_dir = "{box.root}"
clock_source = "ntp"

[registry]
url = "{registry_url}"

[mqtt]
host = "127.0.0.1"
port = {mqtt_port}

[video]
source = "0"

[serial]
port = "loop://"

[rules]
zone = "Test road"

[rules.speeding]
limit_kmh = 60

[sender]
receipt_timeout_s = {receipt_timeout_s}
reconnect_cap_s = {reconnect_cap_s}
"""


def start_sender(box: Box, registry: RegistryServer, port: int, **options: object) -> Sender:
    """A sender in this process for the box, with short timeouts so tests stay fast."""
    settings = SenderSettings(
        device_id=box.device_id,
        registry_url=registry.url,
        mqtt_port=port,
        receipt_timeout_s=3.0,
        reconnect_base_s=0.1,
        reconnect_cap_s=0.5,
        **options,  # type: ignore[arg-type]
    )
    outbox = Outbox(box.outbox.db_path, box.outbox.files.root, durability=Durability.NORMAL)
    return Sender(outbox, box.key, settings).start()


def assert_exactly_once(
    registry: RegistryServer,
    box: Box,
    recorded: list[str],
    *,
    contiguous_sequences: bool = True,
) -> None:
    """Every recorded fixation is in the registry once and the outbox is empty; with
    ``contiguous_sequences`` also that the camera's sequence numbers run 1..N."""
    wait_until(lambda: len(registry.fixation_ids()) >= len(recorded), 30, "every fixation")
    wait_until(lambda: box.outbox.depth() == 0, 15, "the outbox to empty")
    in_registry = registry.fixation_ids()
    assert len(in_registry) == len(recorded)
    assert sorted(in_registry) == sorted(recorded)
    if contiguous_sequences:
        assert registry.sequences(box.device_id) == list(range(1, len(recorded) + 1))
