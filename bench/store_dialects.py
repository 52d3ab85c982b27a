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
- ``pg_core``: SQLAlchemy Core ``insert(table)`` with lists of dicts (psycopg 3 dialect,
  "insertmanyvalues" batching), same lock.

Timed region, per batch: from building the rows (tuples, or dicts for SQLAlchemy, from the
already verified messages, as ``ingest.service._BulkWriter`` does, ledger hashing included) to
the COMMIT's return. ``sql_us`` is the part from the transaction's start to the commit's
return. Batches run round-robin over the variants, so that load from elsewhere on the machine
falls on all of them alike. PostgreSQL is started here (tests/support/postgres.py) with its
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg

from central_ingest.core import merkle
from central_ingest.core.clock import iso
from central_ingest.core.ledger import GENESIS_HASH, LedgerEntry
from central_ingest.store.db import Store
from central_ingest.store.ingest import write_batch
from central_ingest.store.ledger import LedgerAppender
from central_ingest.store.postgres.connection import LEDGER_LOCK, configure
from central_ingest.store.postgres.schema import migrate
from contract import DeviceKind, EvidenceRef, EvidenceRole, Fixation, MessageKind, now_utc
from tests.support.devices import SimulatedDevice, speeding_fixation
from tests.support.postgres import PostgresServer, RegistryDatabase

Row = tuple[Any, ...]
VARIANTS = ("sqlite_raw", "sqlite_core", "pg_raw", "pg_unnest", "pg_copy", "pg_core")
EVIDENCE = [
    EvidenceRef(role=EvidenceRole.FULL_FRAME, sha256=hashlib.sha256(b"frame").hexdigest(),
                size_bytes=180_000),
    EvidenceRef(role=EvidenceRole.PLATE_CROP, sha256=hashlib.sha256(b"crop").hexdigest(),
                size_bytes=9_000),
]
MESSAGE_COLUMNS = ("message_id", "device_id", "kind", "channel", "received_at",
                   "envelope_sha256", "envelope")
FIXATION_COLUMNS = ("fixation_id", "message_id", "device_id", "sequence", "captured_at",
                    "received_at", "violation", "plate_text", "plate_confidence",
                    "plate_format", "speed_kmh", "limit_kmh", "light_phase", "zone", "lat", "lon")
EVIDENCE_COLUMNS = ("fixation_id", "sha256", "role")
LEDGER_COLUMNS = ("seq", "recorded_at", "entity_type", "entity_id", "action", "actor", "payload",
                  "prev_hash", "entry_hash", "leaf_hash")
NODE_COLUMNS = ("level", "idx", "hash")
TABLES = (("messages", MESSAGE_COLUMNS), ("fixations", FIXATION_COLUMNS),
          ("fixation_evidence", EVIDENCE_COLUMNS), ("ledger", LEDGER_COLUMNS),
          ("merkle_nodes", NODE_COLUMNS))


@dataclass(frozen=True)
class Verified:
    """A fixation message as the ingest holds it after its checks, before the store."""

    message_id: str
    device_id: str
    envelope_sha256: str
    envelope_json: str
    fixation: Fixation


@dataclass
class Batch:
    """The rows of one batch, by table, in ``TABLES``' column order."""

    rows: dict[str, list[Row]]

    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def as_dicts(self) -> dict[str, list[dict[str, Any]]]:
        return {
            table: [dict(zip(columns, row, strict=True)) for row in self.rows[table]]
            for table, columns in TABLES
        }


# --- the rows, built as the ingest builds them ---------------------------------------------------


def fixation_rows(items: Sequence[Verified], received_at: str) -> dict[str, list[Row]]:
    messages, fixations, evidence = [], [], []
    for item in items:
        fixation = item.fixation
        measured, position = fixation.measurement, fixation.position
        fixation_id = str(fixation.fixation_id)
        messages.append((item.message_id, item.device_id, "fixation", "mqtt", received_at,
                         item.envelope_sha256, item.envelope_json))
        fixations.append((fixation_id, item.message_id, item.device_id, fixation.sequence,
                          iso(fixation.captured_at), received_at, fixation.violation.value,
                          fixation.plate.text, fixation.plate.confidence, fixation.plate.format,
                          measured.speed_kmh, measured.limit_kmh, measured.light_phase,
                          fixation.zone, position.lat if position else None,
                          position.lon if position else None))
        evidence.extend((fixation_id, ref.sha256, ref.role.value) for ref in fixation.evidence)
    return {"messages": messages, "fixations": fixations, "fixation_evidence": evidence}


def ledger_payload(item: Verified) -> dict[str, Any]:
    fixation = item.fixation
    return {
        "status": "awaiting_review",
        "envelope_sha256": item.envelope_sha256,
        "violation": fixation.violation.value,
        "plate": fixation.plate.text,
        "captured_at": iso(fixation.captured_at),
    }


class Ledger:
    """``store.ledger.LedgerAppender``'s arithmetic, for the variants not on the registry's
    SQLite code: the tail and the frontier come from ``fetch`` (one dialect's queries)."""

    def __init__(self, size: int, tail_hash: str, frontier: dict[tuple[int, int], bytes]) -> None:
        self.size, self.tail_hash, self.frontier = size, tail_hash, frontier
        self.entries: list[Row] = []
        self.nodes: list[Row] = []

    @staticmethod
    def wanted(size: int) -> list[tuple[int, int]]:
        return [(level, (size >> level) - 1) for level in range(size.bit_length())
                if size >> level & 1]

    def append(self, item: Verified, recorded_at: str) -> None:
        entry = LedgerEntry(seq=self.size + 1, recorded_at=recorded_at, entity_type="fixation",
                            entity_id=str(item.fixation.fixation_id), action="received",
                            actor=f"device:{item.device_id}", payload=ledger_payload(item),
                            prev_hash=self.tail_hash)
        leaf = entry.leaf_hash
        self.entries.append((entry.seq, recorded_at, "fixation", entry.entity_id, "received",
                             entry.actor, json.dumps(entry.payload, sort_keys=True,
                                                     ensure_ascii=False),
                             entry.prev_hash, entry.entry_hash, leaf.hex()))
        level, idx, node = 0, self.size, leaf
        self.nodes.append((0, idx, leaf))
        while idx % 2 == 1:
            node = merkle.node_hash(self.frontier.pop((level, idx - 1)), node)
            level, idx = level + 1, idx // 2
            self.nodes.append((level, idx, node))
        self.frontier[(level, idx)] = node
        self.size += 1
        self.tail_hash = entry.entry_hash


# --- the variants -----------------------------------------------------------------------------


class Variant:
    """One dialect on one database: ``write`` a batch and return (total s, transaction s)."""

    name = ""

    def write(self, items: Sequence[Verified], received_at: str) -> tuple[float, float]:
        raise NotImplementedError

    def stored(self) -> tuple[int, int]:
        """(fixations, ledger entries) in the database, to check every batch landed."""
        raise NotImplementedError

    def close(self) -> None:
        pass


def seed_sql(placeholder: str) -> tuple[str, str]:
    marks = ", ".join([placeholder] * 4)
    return (
        f"INSERT INTO devices (device_id, kind, public_key, registered_at) VALUES ({marks})",
        "INSERT INTO evidence (sha256, size_bytes, content_type, uploaded_by, stored_at)"
        f" VALUES ({', '.join([placeholder] * 5)})",
    )


def seed_rows(cameras: Sequence[SimulatedDevice]) -> tuple[list[Row], list[Row]]:
    now = iso(now_utc())
    devices = [(c.device_id, "camera", c.key.public_key_b64, now) for c in cameras]
    evidence = [(ref.sha256, ref.size_bytes, "image/jpeg", cameras[0].device_id, now)
                for ref in EVIDENCE]
    return devices, evidence


class SqliteRaw(Variant):
    name = "sqlite_raw"

    def __init__(self, path: Path, cameras: Sequence[SimulatedDevice]) -> None:
        self.store = Store(path)
        devices_sql, evidence_sql = seed_sql("?")
        devices, evidence = seed_rows(cameras)
        with self.store.transaction() as db:
            db.conn.executemany(devices_sql, devices)
            db.conn.executemany(evidence_sql, evidence)

    def write(self, items: Sequence[Verified], received_at: str) -> tuple[float, float]:
        start = time.perf_counter()
        rows = fixation_rows(items, received_at)
        begin = time.perf_counter()
        with self.store.transaction() as db:
            ledger = LedgerAppender(db)
            for item in items:
                ledger.append(recorded_at=received_at, entity_type="fixation",
                              entity_id=str(item.fixation.fixation_id), action="received",
                              actor=f"device:{item.device_id}", payload=ledger_payload(item))
            write_batch(db, messages=rows["messages"], fixations=rows["fixations"],
                        evidence=rows["fixation_evidence"], statuses=[], dead_letters=[],
                        ledger=ledger)
        end = time.perf_counter()
        return end - start, end - begin

    def stored(self) -> tuple[int, int]:
        conn = self.store.db.conn
        return (conn.execute("SELECT count(*) FROM fixations").fetchone()[0],
                conn.execute("SELECT count(*) FROM ledger").fetchone()[0])

    def close(self) -> None:
        self.store.close()


class PgRaw(Variant):
    """Hand-written statements through psycopg 3, one of three ways per table: ``executemany``
    of an ``INSERT ... VALUES (%s, ...)`` (``pg_raw``), one ``INSERT ... SELECT FROM
    unnest(%s::type[], ...)`` with a column of values per array (``pg_unnest``), or
    ``COPY ... FROM STDIN`` (``pg_copy``)."""

    def __init__(self, url: str, cameras: Sequence[SimulatedDevice], *, how: str) -> None:
        self.name = f"pg_{how}"
        self.how = how
        self.conn = psycopg.connect(url)
        configure(self.conn)
        devices_sql, evidence_sql = seed_sql("%s")
        devices, evidence = seed_rows(cameras)
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(devices_sql, devices)
            cur.executemany(evidence_sql, evidence)
        self.inserts = {
            table: f"INSERT INTO {table} ({', '.join(columns)})"
            f" VALUES ({', '.join(['%s'] * len(columns))})"
            for table, columns in TABLES
        }
        self.unnests = {
            table: f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest("
            + ", ".join(f"%s::{self._type(table, column)}[]" for column in columns)
            + ")"
            for table, columns in TABLES
        }
        self.conn.rollback()

    def _type(self, table: str, column: str) -> str:
        row = self.conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attname = %s",
            (table, column),
        ).fetchone()
        assert row is not None
        return str(row[0])

    def write(self, items: Sequence[Verified], received_at: str) -> tuple[float, float]:
        start = time.perf_counter()
        rows = fixation_rows(items, received_at)
        begin = time.perf_counter()
        conn = self.conn
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (LEDGER_LOCK,))
            tail = cur.execute(
                "SELECT seq, entry_hash FROM ledger ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            size = tail[0] if tail else 0
            wanted = Ledger.wanted(size)
            frontier: dict[tuple[int, int], bytes] = {}
            if wanted:
                found = cur.execute(
                    "SELECT level, idx, hash FROM merkle_nodes WHERE (level, idx) IN"
                    f" (VALUES {', '.join(['(%s, %s)'] * len(wanted))})",
                    [number for key in wanted for number in key],
                ).fetchall()
                frontier = {(level, idx): node for level, idx, node in found}
            ledger = Ledger(size, tail[1] if tail else GENESIS_HASH, frontier)
            for item in items:
                ledger.append(item, received_at)
            rows["ledger"], rows["merkle_nodes"] = ledger.entries, ledger.nodes
            for table, columns in TABLES:
                if self.how == "copy":
                    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows[table]:
                            copy.write_row(row)
                elif self.how == "unnest":
                    columns_of_values = [list(column) for column in zip(*rows[table], strict=True)]
                    # Binary: the arrays' elements travel as they are, with no text escaping.
                    cur.execute(self.unnests[table], columns_of_values, binary=True)
                else:
                    cur.executemany(self.inserts[table], rows[table])
        end = time.perf_counter()
        return end - start, end - begin

    def stored(self) -> tuple[int, int]:
        fixations = self.conn.execute("SELECT count(*) FROM fixations").fetchone()
        entries = self.conn.execute("SELECT count(*) FROM ledger").fetchone()
        self.conn.rollback()
        assert fixations is not None and entries is not None
        return int(fixations[0]), int(entries[0])

    def close(self) -> None:
        self.conn.close()


class Core(Variant):
    """SQLAlchemy Core 2.x: reflected tables, ``insert(table)`` with lists of dicts."""

    def __init__(self, name: str, engine: Any, cameras: Sequence[SimulatedDevice],
                 lock: Callable[[Any], None]) -> None:
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
            conn.execute(sa.insert(self.t["devices"]),
                         [dict(zip(("device_id", "kind", "public_key", "registered_at"), row,
                                   strict=True)) for row in devices])
            conn.execute(sa.insert(self.t["evidence"]),
                         [dict(zip(("sha256", "size_bytes", "content_type", "uploaded_by",
                                    "stored_at"), row, strict=True)) for row in evidence])

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
                .order_by(ledger_t.c.seq.desc()).limit(1)
            ).first()
            size = tail[0] if tail else 0
            wanted = Ledger.wanted(size)
            frontier: dict[tuple[int, int], bytes] = {}
            if wanted:
                found = conn.execute(
                    sa.select(nodes_t.c.level, nodes_t.c.idx, nodes_t.c.hash)
                    .where(sa.tuple_(nodes_t.c.level, nodes_t.c.idx).in_(wanted))
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

    Store(path).close()
    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def settings(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's BEGIN below, not pysqlite's
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       "busy_timeout=30000"):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @sa.event.listens_for(engine, "begin")
    def begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return Core("sqlite_core", engine, cameras, lock=lambda conn: None)


def pg_core(url: str, cameras: Sequence[SimulatedDevice]) -> Core:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))

    def lock(conn: Any) -> None:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LEDGER_LOCK)))

    return Core("pg_core", engine, cameras, lock=lock)


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
        items.append(Verified(str(message_id), camera.device_id,
                              hashlib.sha256(line).hexdigest(), line.decode(), body))
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
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                  if line.startswith("flags")), [])
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines()
                  if line.startswith("model name")), "")
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
            sys.exit("SQLAlchemy is not installed (nor a dependency of the project): install it"
                     " beside for this bench, `.venv/bin/pip install --target /tmp/sqla"
                     " sqlalchemy==2.1.9`, and run with PYTHONPATH=/tmp/sqla; or leave the"
                     " *_core variants out with --variants")
        sqlalchemy_version: str | None = sqlalchemy.__version__
    else:
        sqlalchemy_version = None

    cameras = [SimulatedDevice(f"cam-bench-{n:04d}", DeviceKind.CAMERA)
               for n in range(args.cameras)]
    total = (args.warmup + args.batches) * args.batch_size
    print(f"signing {total} fixations ...", file=sys.stderr)
    items = verified_messages(cameras, total)
    batches = [items[i:i + args.batch_size] for i in range(0, total, args.batch_size)]

    with tempfile.TemporaryDirectory(prefix="erap-dialects-") as tmp, \
            PostgresServer(durable=True) as server:
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
                if name == "pg_core":
                    variants.append(pg_core(url, cameras))
                else:
                    variants.append(PgRaw(url, cameras, how=name.removeprefix("pg_")))
        timings: dict[str, tuple[list[float], list[float]]] = {v.name: ([], []) for v in variants}
        print(f"{len(batches)} batches of {args.batch_size} over {len(variants)} variants ...",
              file=sys.stderr)
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
                sys.exit(f"{variant.name} holds {stored} (fixations, ledger entries), expected"
                         f" {fixations_written} of each")
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
        print(f"{name:12} {figures['us_per_fixation_median']:8.1f} µs/fixation median,"
              f" {figures['us_per_fixation_p95']:8.1f} p95, {figures['rows_per_s']:>9} rows/s",
              file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
