"""The SQLite store hands each thread its own connection and write-lock file: a server's worker
threads come and go (uvicorn's, anyio's), so what a thread opened must close when it ends,
or a long-running registry runs out of descriptors."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

from central_ingest.store.sqlite_db import SqliteStore


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_threads_that_wrote_and_ended_leave_no_descriptor_behind(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "registry.db")
    store.close()
    gc.collect()
    before = open_descriptors()

    def write_once(n: int) -> None:
        with store.transaction() as db:
            db.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"thread-{n}", str(n)))

    for n in range(40):
        thread = threading.Thread(target=write_once, args=(n,))
        thread.start()
        thread.join()
    gc.collect()

    # Each of the 40 threads opened a connection and a lock file; none of them is left open
    # (a few descriptors of slack for whatever the interpreter itself opened meanwhile).
    assert open_descriptors() - before < 5
    (written,) = store.db.conn.execute(
        "SELECT count(*) FROM meta WHERE key LIKE 'thread-%'"
    ).fetchone()
    assert written == 40
    store.close()
