"""Store dialects on the ingest's write path: hand-written SQL through each driver, against
SQLAlchemy Core 2.x, on SQLite and on PostgreSQL 15. Decides how the PostgreSQL store is written.

The write path is ``central_ingest/store/ingest.py``'s: one transaction per batch holding, for
each fixation, its message row (the verbatim signed envelope), its fixation row, its evidence
links (two per fixation) and its ledger entry with the Merkle nodes it completes; the ledger's
tail and frontier are read at the start of the transaction. Variants, each on its own database:

- ``sqlite_raw``: the registry's own code (``Store.transaction``, ``store.ingest.write_batch``,
  ``LedgerAppender``): sqlite3 ``executemany``, WAL, ``synchronous=NORMAL``, BEGIN IMMEDIATE.
- ``sqlite_core``: SQLAlchemy Core ``insert(table)`` with lists of dicts on the same file
  settings (pysqlite, BEGIN IMMEDIATE).
- ``pg_raw``: psycopg 3 ``executemany`` (pipeline mode) with ``%s`` statements, after
  ``pg_advisory_xact_lock`` (the ledger's total order, deploy/SCALING.md section 7).
- ``pg_unnest``: one ``INSERT ... SELECT * FROM unnest(%s::text[], ...)`` per table, each
  column's values as one array parameter, same lock (works with ``ON CONFLICT`` too).
- ``pg_copy``: psycopg 3 ``COPY ... FROM STDIN`` for every table, same lock.
- ``pg_core``: SQLAlchemy Core ``insert(table)`` with lists of dicts (psycopg 3 dialect, which
  hands them to ``cursor.executemany``), same lock.
- ``pg_core_values``: the same with SQLAlchemy's "insertmanyvalues" (multi-row VALUES).

Timed region, per batch: from building the rows (tuples, or dicts for SQLAlchemy, from the
already verified messages, as ``ingest.service._BulkWriter`` does, ledger hashing included) to
the COMMIT's return. ``sql_us`` is the part from the transaction's start to the commit's
return. Batches run round-robin over the variants, so that load from elsewhere on the machine
falls on all of them alike. PostgreSQL is started here (tests/support/postgres_server.py) with its
durable defaults: fsync on, synchronous_commit on.

SQLAlchemy is not a dependency of the project: install it beside, for this bench only:

    .venv/bin/pip install --target /tmp/sqla sqlalchemy==2.1.9
    PYTHONPATH=/tmp/sqla .venv/bin/python bench/store_dialects.py

Prints progress, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg

from bench.dialect_core import pg_core, sqlite_core
from bench.dialect_variants import (
    EVIDENCE,
    VARIANTS,
    Ledger,
    PgRaw,
    SqliteRaw,
    Variant,
    Verified,
)
from central_ingest.core.clock import iso
from central_ingest.core.ledger import GENESIS_HASH
from central_ingest.store.postgres.schema import migrate
from contract import DeviceKind, MessageKind, now_utc
from tests.support.devices import SimulatedDevice, speeding_fixation
from tests.support.postgres_server import PostgresServer, RegistryDatabase

# --- running ------------------------------------------------------------------------------------


def verified_messages(cameras: Sequence[SimulatedDevice], count: int) -> list[Verified]:
    """Signed fixations as the cameras send them, already through the ingest's checks."""
    from uuid import uuid4

    items = []
    for index in range(count):
        camera = cameras[index % len(cameras)]
        body = speeding_fixation(camera, plate=f"{index % 1000:03d}ABC01", evidence=EVIDENCE)
        message_id = uuid4()
        line = camera.seal(MessageKind.FIXATION, body, message_id=message_id)
        items.append(
            Verified(
                str(message_id),
                camera.device_id,
                hashlib.sha256(line).hexdigest(),
                line.decode(),
                body,
            )
        )
    return items


def ledger_hashing_us(items: Sequence[Verified], received_at: str) -> float:
    """The ledger's hashing alone (no database), the same in every variant."""
    ledger = Ledger(0, GENESIS_HASH, {})
    start = time.perf_counter()
    for item in items:
        ledger.append(item, received_at)
    return (time.perf_counter() - start) / len(items) * 1e6


def cpu() -> dict[str, Any]:
    text = Path("/proc/cpuinfo").read_text()
    flags = next(
        (line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")),
        [],
    )
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in text.splitlines()
            if line.startswith("model name")
        ),
        "",
    )
    return {"cpu_model": model, "cpu_flags_avx512": sorted(f for f in flags if "avx512" in f)}


def p95(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def summary(totals: list[float], txns: list[float], size: int, rows: int) -> dict[str, float]:
    median_total = statistics.median(totals)
    return {
        "us_per_fixation_median": round(median_total / size * 1e6, 1),
        "us_per_fixation_p95": round(p95(totals) / size * 1e6, 1),
        "txn_us_per_fixation_median": round(statistics.median(txns) / size * 1e6, 1),
        "txn_us_per_fixation_p95": round(p95(txns) / size * 1e6, 1),
        "fixations_per_s": round(size / median_total),
        "rows_per_s": round(rows / median_total),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--batches", type=int, default=40, help="measured batches per variant")
    parser.add_argument("--warmup", type=int, default=4, help="batches before measuring")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--cameras", type=int, default=20)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    chosen = args.variants.split(",")
    if any(name.endswith("_core") for name in chosen):
        try:
            import sqlalchemy
        except ImportError:
            sys.exit(
                "SQLAlchemy is not installed (nor a dependency of the project): install it"
                " beside for this bench, `.venv/bin/pip install --target /tmp/sqla"
                " sqlalchemy==2.1.9`, and run with PYTHONPATH=/tmp/sqla; or leave the"
                " *_core variants out with --variants"
            )
        sqlalchemy_version: str | None = sqlalchemy.__version__
    else:
        sqlalchemy_version = None

    cameras = [
        SimulatedDevice(f"cam-bench-{n:04d}", DeviceKind.CAMERA) for n in range(args.cameras)
    ]
    total = (args.warmup + args.batches) * args.batch_size
    print(f"signing {total} fixations ...", file=sys.stderr)
    items = verified_messages(cameras, total)
    batches = [items[i : i + args.batch_size] for i in range(0, total, args.batch_size)]

    with (
        tempfile.TemporaryDirectory(prefix="erap-dialects-") as tmp,
        PostgresServer(durable=True) as server,
    ):
        variants: list[Variant] = []
        for name in chosen:
            if name == "sqlite_raw":
                variants.append(SqliteRaw(Path(tmp) / "raw.sqlite3", cameras))
            elif name == "sqlite_core":
                variants.append(sqlite_core(Path(tmp) / "core.sqlite3", cameras))
            else:
                # Migrated by the owner role, written by the application role, as deployed.
                database = RegistryDatabase(server, name)
                with psycopg.connect(database.owner_url, autocommit=True) as conn:
                    migrate(conn)
                url = database.app_url
                if name.startswith("pg_core"):
                    variants.append(pg_core(url, cameras, values=name == "pg_core_values"))
                else:
                    variants.append(PgRaw(url, cameras, how=name.removeprefix("pg_")))
        timings: dict[str, tuple[list[float], list[float]]] = {v.name: ([], []) for v in variants}
        print(
            f"{len(batches)} batches of {args.batch_size} over {len(variants)} variants ...",
            file=sys.stderr,
        )
        for number, batch in enumerate(batches):
            received_at = iso(now_utc())
            for variant in variants:
                total_s, txn_s = variant.write(batch, received_at)
                if number >= args.warmup:
                    timings[variant.name][0].append(total_s)
                    timings[variant.name][1].append(txn_s)
        # Rows per batch: messages, fixations, evidence links, ledger entries, Merkle nodes
        # (2n - popcount growth: about one node per leaf more).
        fixations_written = len(batches) * args.batch_size
        for variant in variants:
            stored = variant.stored()
            if stored != (fixations_written, fixations_written):
                sys.exit(
                    f"{variant.name} holds {stored} (fixations, ledger entries), expected"
                    f" {fixations_written} of each"
                )
        merkle_nodes = 2 * fixations_written - bin(fixations_written).count("1")
        rows_per_batch = round(
            (fixations_written * (3 + len(EVIDENCE)) + merkle_nodes - fixations_written)
            / len(batches)
        )
        postgres_version = server.psql("SHOW server_version").strip()
        for variant in variants:
            variant.close()

    result: dict[str, Any] = {
        "batch_size": args.batch_size,
        "batches_measured": args.batches,
        "rows_per_batch": rows_per_batch,
        "ledger_hashing_us_per_fixation": round(ledger_hashing_us(batches[0], iso(now_utc())), 1),
        "variants": {
            name: summary(totals, txns, args.batch_size, rows_per_batch)
            for name, (totals, txns) in timings.items()
        },
        "versions": {
            "sqlite": __import__("sqlite3").sqlite_version,
            "postgresql": postgres_version,
            "psycopg": psycopg.__version__,
            "sqlalchemy": sqlalchemy_version,
        },
        **cpu(),
    }
    for name, figures in result["variants"].items():
        print(
            f"{name:15} {figures['us_per_fixation_median']:8.1f} µs/fixation median,"
            f" {figures['us_per_fixation_p95']:8.1f} p95, {figures['rows_per_s']:>9} rows/s",
            file=sys.stderr,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
