"""The variants of bench/store_dialects.py: the ingest's rows, the ledger's arithmetic, and one
class per way of writing them (hand-written SQL through sqlite3 or psycopg 3, or SQLAlchemy
Core on either). SQLAlchemy is imported only by the variants that use it."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from central_ingest.core import merkle
from central_ingest.core.clock import iso
from central_ingest.core.ledger import GENESIS_HASH, LedgerEntry
from central_ingest.store.db import open_store
from central_ingest.store.ingest import write_batch
from central_ingest.store.ledger import LedgerAppender
from central_ingest.store.postgres.connection import LEDGER_LOCK, configure
from contract import EvidenceRef, EvidenceRole, Fixation, now_utc
from tests.support.devices import SimulatedDevice

Row = tuple[Any, ...]
VARIANTS = (
    "sqlite_raw",
    "sqlite_core",
    "pg_raw",
    "pg_unnest",
    "pg_copy",
    "pg_core",
    "pg_core_values",
)
EVIDENCE = [
    EvidenceRef(
        role=EvidenceRole.FULL_FRAME,
        sha256=hashlib.sha256(b"frame").hexdigest(),
        size_bytes=180_000,
    ),
    EvidenceRef(
        role=EvidenceRole.PLATE_CROP, sha256=hashlib.sha256(b"crop").hexdigest(), size_bytes=9_000
    ),
]
MESSAGE_COLUMNS = (
    "message_id",
    "device_id",
    "kind",
    "channel",
    "received_at",
    "envelope_sha256",
    "envelope",
)
FIXATION_COLUMNS = (
    "fixation_id",
    "message_id",
    "device_id",
    "sequence",
    "captured_at",
    "received_at",
    "violation",
    "plate_text",
    "plate_confidence",
    "plate_format",
    "speed_kmh",
    "limit_kmh",
    "light_phase",
    "zone",
    "lat",
    "lon",
)
EVIDENCE_COLUMNS = ("fixation_id", "sha256", "role")
LEDGER_COLUMNS = (
    "seq",
    "recorded_at",
    "entity_type",
    "entity_id",
    "action",
    "actor",
    "payload",
    "prev_hash",
    "entry_hash",
    "leaf_hash",
)
NODE_COLUMNS = ("level", "idx", "hash")
TABLES = (
    ("messages", MESSAGE_COLUMNS),
    ("fixations", FIXATION_COLUMNS),
    ("fixation_evidence", EVIDENCE_COLUMNS),
    ("ledger", LEDGER_COLUMNS),
    ("merkle_nodes", NODE_COLUMNS),
)


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
        messages.append(
            (
                item.message_id,
                item.device_id,
                "fixation",
                "mqtt",
                received_at,
                item.envelope_sha256,
                item.envelope_json,
            )
        )
        fixations.append(
            (
                fixation_id,
                item.message_id,
                item.device_id,
                fixation.sequence,
                iso(fixation.captured_at),
                received_at,
                fixation.violation.value,
                fixation.plate.text,
                fixation.plate.confidence,
                fixation.plate.format,
                measured.speed_kmh,
                measured.limit_kmh,
                measured.light_phase,
                fixation.zone,
                position.lat if position else None,
                position.lon if position else None,
            )
        )
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
        return [
            (level, (size >> level) - 1) for level in range(size.bit_length()) if size >> level & 1
        ]

    def append(self, item: Verified, recorded_at: str) -> None:
        entry = LedgerEntry(
            seq=self.size + 1,
            recorded_at=recorded_at,
            entity_type="fixation",
            entity_id=str(item.fixation.fixation_id),
            action="received",
            actor=f"device:{item.device_id}",
            payload=ledger_payload(item),
            prev_hash=self.tail_hash,
        )
        leaf = entry.leaf_hash
        self.entries.append(
            (
                entry.seq,
                recorded_at,
                "fixation",
                entry.entity_id,
                "received",
                entry.actor,
                json.dumps(entry.payload, sort_keys=True, ensure_ascii=False),
                entry.prev_hash,
                entry.entry_hash,
                leaf.hex(),
            )
        )
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
    evidence = [
        (ref.sha256, ref.size_bytes, "image/jpeg", cameras[0].device_id, now) for ref in EVIDENCE
    ]
    return devices, evidence


class SqliteRaw(Variant):
    name = "sqlite_raw"

    def __init__(self, path: Path, cameras: Sequence[SimulatedDevice]) -> None:
        self.store = open_store(path)
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
                ledger.append(
                    recorded_at=received_at,
                    entity_type="fixation",
                    entity_id=str(item.fixation.fixation_id),
                    action="received",
                    actor=f"device:{item.device_id}",
                    payload=ledger_payload(item),
                )
            write_batch(
                db,
                messages=rows["messages"],
                fixations=rows["fixations"],
                evidence=rows["fixation_evidence"],
                statuses=[],
                dead_letters=[],
                ledger=ledger,
            )
        end = time.perf_counter()
        return end - start, end - begin

    def stored(self) -> tuple[int, int]:
        conn = self.store.db.conn
        return (
            conn.execute("SELECT count(*) FROM fixations").fetchone()[0],
            conn.execute("SELECT count(*) FROM ledger").fetchone()[0],
        )

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
