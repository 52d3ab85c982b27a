"""Ingest workers as separate processes, started the way a deployment starts them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class IngestWorkerProcess:
    """``erap-registry ingest-worker``; the constructor returns once it has subscribed."""

    def __init__(self, data_dir: Path, port: int, client_id: str) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "central_ingest",
                "ingest-worker",
                "--data-dir",
                str(data_dir),
                "--mqtt-port",
                str(port),
                "--client-id",
                client_id,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.log: list[str] = []
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.log.append(raw.decode(errors="replace"))
            if "ingest subscribed" in self.log[-1]:
                break
        else:
            raise RuntimeError(f"the ingest worker exited before subscribing: {''.join(self.log)}")
        # Keep draining its log so a chatty worker never blocks on a full pipe.
        self._drain = threading.Thread(target=self._read_log, daemon=True)
        self._drain.start()

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.log.append(raw.decode(errors="replace"))

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
        self.process.wait(timeout=30)
        self._drain.join(timeout=5)
