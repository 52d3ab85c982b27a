"""The SQLAlchemy Core 2.x variants of bench/store_dialects.py, on SQLite and on PostgreSQL
(the rows, the ledger and the hand-written variants are in dialect_variants.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.dialect_variants import (
    TABLES,
    Batch,
    Ledger,
    Variant,
    Verified,
    fixation_rows,
    seed_rows,
)
from central_ingest.core.ledger import GENESIS_HASH
from central_ingest.store.db import open_store
from central_ingest.store.postgres.connection import LEDGER_LOCK
from tests.support.devices import SimulatedDevice


class Core(Variant):
    """SQLAlchemy Core 2.x: reflected tables, ``insert(table)`` with lists of dicts."""

    def __init__(
        self,
        name: str,
        engine: Any,
        cameras: Sequence[SimulatedDevice],
        lock: Callable[[Any], None],
    ) -> None:
        import sqlalchemy as sa

        self.sa = sa
        self.name = name
        self.engine = engine
        self.lock = lock
        self.meta = sa.MetaData()
        self.meta.reflect(engine, only=["devices", "evidence", *(t for t, _ in TABLES)])
        self.t = self.meta.tables
        devices, evidence = seed_rows(cameras)
        with engine.begin() as conn:
            conn.execute(
                sa.insert(self.t["devices"]),
                [
                    dict(
                        zip(("device_id", "kind", "public_key", "registered_at"), row, strict=True)
                    )
                    for row in devices
                ],
            )
            conn.execute(
                sa.insert(self.t["evidence"]),
                [
                    dict(
                        zip(
                            ("sha256", "size_bytes", "content_type", "uploaded_by", "stored_at"),
                            row,
                            strict=True,
                        )
                    )
                    for row in evidence
                ],
            )

    def write(self, items: Sequence[Verified], received_at: str) -> tuple[float, float]:
        sa, t = self.sa, self.t
        start = time.perf_counter()
        batch = Batch(fixation_rows(items, received_at))
        begin = time.perf_counter()
        with self.engine.begin() as conn:
            self.lock(conn)
            ledger_t, nodes_t = t["ledger"], t["merkle_nodes"]
            tail = conn.execute(
                sa.select(ledger_t.c.seq, ledger_t.c.entry_hash)
                .order_by(ledger_t.c.seq.desc())
                .limit(1)
            ).first()
            size = tail[0] if tail else 0
            wanted = Ledger.wanted(size)
            frontier: dict[tuple[int, int], bytes] = {}
            if wanted:
                found = conn.execute(
                    sa.select(nodes_t.c.level, nodes_t.c.idx, nodes_t.c.hash).where(
                        sa.tuple_(nodes_t.c.level, nodes_t.c.idx).in_(wanted)
                    )
                ).all()
                frontier = {(level, idx): bytes(node) for level, idx, node in found}
            ledger = Ledger(size, tail[1] if tail else GENESIS_HASH, frontier)
            for item in items:
                ledger.append(item, received_at)
            batch.rows["ledger"], batch.rows["merkle_nodes"] = ledger.entries, ledger.nodes
            for table, values in batch.as_dicts().items():
                conn.execute(sa.insert(t[table]), values)
        end = time.perf_counter()
        return end - start, end - begin

    def stored(self) -> tuple[int, int]:
        sa = self.sa
        with self.engine.connect() as conn:
            fixations = conn.execute(sa.select(sa.func.count()).select_from(self.t["fixations"]))
            entries = conn.execute(sa.select(sa.func.count()).select_from(self.t["ledger"]))
            return int(fixations.scalar_one()), int(entries.scalar_one())

    def close(self) -> None:
        self.engine.dispose()


def sqlite_core(path: Path, cameras: Sequence[SimulatedDevice]) -> Core:
    """The registry's schema (``Store``), then an engine with ``Store``'s settings."""
    import sqlalchemy as sa

    open_store(path).close()
    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def settings(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's BEGIN below, not pysqlite's
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
        ):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @sa.event.listens_for(engine, "begin")
    def begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return Core("sqlite_core", engine, cameras, lock=lambda conn: None)


def pg_core(url: str, cameras: Sequence[SimulatedDevice], *, values: bool = False) -> Core:
    """SQLAlchemy's psycopg dialect: ``cursor.executemany`` (its default), or with ``values``
    its "insertmanyvalues" (multi-row ``VALUES`` statements, 1,000 rows each), the default of
    its psycopg2 dialect, enabled here by the dialect's own flag."""
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    engine.dialect.use_insertmanyvalues_wo_returning = values

    def lock(conn: Any) -> None:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LEDGER_LOCK)))

    return Core("pg_core_values" if values else "pg_core", engine, cameras, lock=lock)
