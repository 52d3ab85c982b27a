"""The audit ledger, its Merkle nodes and its signed tree heads as stored, for the audit package
(``central_ingest.audit``): the reads of the verifier and of the inclusion proofs, the read
snapshot they run in, and the tree heads' own table. Appending entries is ``store.ledger``.

The audit code recomputes everything and trusts nothing it reads here, so these functions hand
back what the rows hold, unchecked, except that a Merkle hash which is not a BLOB (an edit with
the sqlite3 shell often writes text) becomes bytes that can never equal a real hash.

Ledger rows are tuples in the order of ``LEDGER_FIELDS``; tree head rows are
``(tree_size, root_hash, signed_at, key_id, signature)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from central_ingest.store.db import Database, Store
from central_ingest.store.errors import translated_errors

LEDGER_FIELDS = (
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
_LEDGER_COLUMNS = ", ".join(LEDGER_FIELDS)
_TREE_HEAD_COLUMNS = "tree_size, root_hash, signed_at, key_id, signature"

# The state table and key column of each kind of ledger entity that has one.
_STATE_TABLES = {"fixation": ("fixations", "fixation_id"), "case": ("cases", "case_number")}

LedgerRow = tuple[Any, ...]
TreeHeadRow = tuple[Any, ...]


def as_hash(value: object) -> bytes:
    """A stored hash as bytes; anything that is not a BLOB (an edit with the sqlite3 shell
    often writes text) becomes bytes that can never equal a real hash."""
    if isinstance(value, bytes):
        return value
    return b"not a hash: " + str(value).encode()


class AuditTables:
    """The audit tables on one connection: inside a write transaction (``Store.transaction``)
    or a read snapshot (``read_snapshot``). Iterators stream their rows; several may be open
    at once."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- the ledger ---------------------------------------------------------------------------

    def ledger_size(self) -> int:
        """The highest seq in the ledger, 0 when it is empty."""
        (size,) = self._db.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM ledger").fetchone()
        return int(size)

    def ledger_rows(self) -> Iterator[LedgerRow]:
        """Every ledger row, by seq."""
        cursor: Iterator[LedgerRow] = self._db.stream(
            f"SELECT {_LEDGER_COLUMNS} FROM ledger ORDER BY seq"
        )
        return cursor

    def ledger_rows_about(self, entities: Sequence[tuple[str, str]]) -> list[LedgerRow]:
        """The ledger rows about any of the (entity_type, entity_id) pairs, by seq."""
        if not entities:
            return []
        condition = " OR ".join(["(entity_type = ? AND entity_id = ?)"] * len(entities))
        rows: list[LedgerRow] = self._db.conn.execute(
            f"SELECT {_LEDGER_COLUMNS} FROM ledger WHERE {condition} ORDER BY seq",
            [value for entity in entities for value in entity],
        ).fetchall()
        return rows

    # --- the Merkle tree ------------------------------------------------------------------------

    def merkle_node(self, level: int, idx: int) -> bytes | None:
        """One stored node (a perfect subtree, see store/ledger.py), None when it is absent."""
        row = self._db.conn.execute(
            "SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?", (level, idx)
        ).fetchone()
        return None if row is None else as_hash(row[0])

    def merkle_level(self, level: int) -> Iterator[tuple[int, bytes]]:
        """The stored nodes of one level as (idx, hash), by idx."""
        rows = self._db.stream(
            "SELECT idx, hash FROM merkle_nodes WHERE level = ? ORDER BY idx", (level,)
        )
        return ((idx, as_hash(value)) for idx, value in rows)

    def inner_node_count(self) -> int:
        """How many nodes are stored above the leaves."""
        return self._count("SELECT COUNT(*) FROM merkle_nodes WHERE level > 0")

    def nodes_outside_levels(self, top: int) -> Iterator[tuple[int, int]]:
        """(level, idx) of the stored nodes at a negative level or at ``top`` and above."""
        cursor: Iterator[tuple[int, int]] = self._db.stream(
            "SELECT level, idx FROM merkle_nodes WHERE level < 0 OR level >= ? ORDER BY level, idx",
            (top,),
        )
        return cursor

    # --- signed tree heads --------------------------------------------------------------------

    def latest_tree_head(self) -> TreeHeadRow | None:
        """The tree head with the largest tree_size, or None when none was signed."""
        row: TreeHeadRow | None = self._db.conn.execute(
            f"SELECT {_TREE_HEAD_COLUMNS} FROM tree_heads ORDER BY tree_size DESC LIMIT 1"
        ).fetchone()
        return row

    def tree_heads(self) -> Iterator[TreeHeadRow]:
        """Every stored tree head, by tree_size."""
        cursor: Iterator[TreeHeadRow] = self._db.stream(
            f"SELECT {_TREE_HEAD_COLUMNS} FROM tree_heads ORDER BY tree_size"
        )
        return cursor

    def tree_head_count(self) -> int:
        return self._count("SELECT COUNT(*) FROM tree_heads")

    def add_tree_head(
        self, tree_size: int, root_hash: str, signed_at: str, key_id: str, signature: str
    ) -> None:
        """Store a signed tree head; StoreConflict when one of that size exists already."""
        with translated_errors():
            self._db.conn.execute(
                f"INSERT INTO tree_heads ({_TREE_HEAD_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (tree_size, root_hash, signed_at, key_id, signature),
            )

    # --- the state the ledger records -----------------------------------------------------------

    def case_exists(self, case_number: str) -> bool:
        row = self._db.conn.execute(
            "SELECT 1 FROM cases WHERE case_number = ?", (case_number,)
        ).fetchone()
        return row is not None

    def case_fixation_ids(self, case_number: str) -> list[str]:
        """The fixation the case was opened from (none for an unknown case)."""
        return self._ids("SELECT fixation_id FROM cases WHERE case_number = ?", (case_number,))

    def case_payment_ids(self, case_number: str) -> list[str]:
        """The payments matched to the case or naming it."""
        return self._ids(
            "SELECT payment_id FROM payments WHERE matched_case = ? OR case_number = ?",
            (case_number, case_number),
        )

    def case_inbound_payment_ids(self, case_number: str) -> list[str]:
        """The payments made elsewhere matched to the case or naming it, as the ledger names
        them (store/inbound_payments.py ledger_id: institution:reference)."""
        return self._ids(
            "SELECT institution || ':' || reference FROM inbound_payments"
            " WHERE matched_case = ? OR case_number = ?",
            (case_number, case_number),
        )

    def case_cancellation_ids(self, case_number: str) -> list[str]:
        """The case's cancellation requests."""
        return self._ids(
            "SELECT request_id FROM cancellation_requests WHERE case_number = ?", (case_number,)
        )

    def state_record_count(self) -> int:
        """How many fixations and cases there are."""
        return self._count("SELECT (SELECT COUNT(*) FROM fixations) + (SELECT COUNT(*) FROM cases)")

    def state_rows(self, kind: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """The rows of ``kind``'s state table ("fixation" or "case"), key first and then
        ``columns``, by key. For fixations, the envelope of the message with the fixation's
        id (a fixation's message_id is its fixation_id) is appended, None when there is none."""
        table, key = _STATE_TABLES[kind]
        selected = ", ".join(f"s.{column}" for column in (key, *columns))
        if kind == "fixation":
            sql = (
                f"SELECT {selected}, m.envelope FROM {table} AS s"
                " LEFT JOIN messages AS m ON m.message_id = s.fixation_id"
            )
        else:
            sql = f"SELECT {selected} FROM {table} AS s"
        cursor: Iterator[tuple[Any, ...]] = self._db.stream(f"{sql} ORDER BY s.{key}")
        return cursor

    def ledger_by_entity(self, kind: str) -> Iterator[tuple[Any, Any, Any, Any, Any]]:
        """(entity_id, seq, action, actor, payload) of every ledger entry about ``kind``, by
        entity_id and then seq (the ledger_entity index gives this order without sorting)."""
        cursor: Iterator[tuple[Any, Any, Any, Any, Any]] = self._db.stream(
            "SELECT entity_id, seq, action, actor, payload FROM ledger WHERE entity_type = ?"
            " ORDER BY entity_id, seq",
            (kind,),
        )
        return cursor

    def keyed_rows(self, table: str, key: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """(key, *columns) of every row of ``table``, by key. ``table``, ``key`` (an SQL
        expression over the row) and ``columns`` are the audit package's constants, never
        input."""
        cursor: Iterator[tuple[Any, ...]] = self._db.stream(
            f"SELECT {key}, {', '.join(columns)} FROM {table} ORDER BY 1"
        )
        return cursor

    def ledger_entries_of(
        self, kind: str, actions: Sequence[str] = ()
    ) -> Iterator[tuple[Any, Any, Any, Any, Any, Any]]:
        """(entity_id, seq, action, actor, payload, recorded_at) of the ledger entries about
        ``kind`` (only those of ``actions`` when given), by entity_id and then seq."""
        only = f" AND action IN ({', '.join('?' * len(actions))})" if actions else ""
        cursor: Iterator[tuple[Any, Any, Any, Any, Any, Any]] = self._db.stream(
            "SELECT entity_id, seq, action, actor, payload, recorded_at FROM ledger"
            f" WHERE entity_type = ?{only} ORDER BY entity_id, seq",
            (kind, *actions),
        )
        return cursor

    def appeal_attachments(self) -> Iterator[tuple[Any, Any, Any, Any]]:
        """(case_number, sha256, content_type, size_bytes) of every appeal's attachments, by
        case number and position."""
        cursor: Iterator[tuple[Any, Any, Any, Any]] = self._db.stream(
            "SELECT a.case_number, t.sha256, t.content_type, t.size_bytes"
            " FROM appeal_attachments AS t JOIN appeals AS a ON a.appeal_id = t.appeal_id"
            " ORDER BY a.case_number, t.position"
        )
        return cursor

    def fixation_evidence(self) -> Iterator[tuple[Any, Any, Any]]:
        """(fixation_id, role, sha256) of every evidence link, by fixation_id and sha256."""
        cursor: Iterator[tuple[Any, Any, Any]] = self._db.stream(
            "SELECT fixation_id, role, sha256 FROM fixation_evidence ORDER BY fixation_id, sha256"
        )
        return cursor

    def device_keys(self) -> tuple[dict[str, str], dict[str, str]]:
        """The devices' public keys: as their ledger registration entries record them (the
        first registration of each id), and as the devices table holds them."""
        recorded: dict[str, str] = {}
        for device_id, payload in self._db.conn.execute(
            "SELECT entity_id, payload FROM ledger WHERE entity_type = 'device'"
            " AND action = 'registered' ORDER BY seq"
        ):
            key = _json_field(payload, "public_key")
            if isinstance(key, str):
                recorded.setdefault(str(device_id), key)
        stored = {
            str(device_id): str(key)
            for device_id, key in self._db.conn.execute("SELECT device_id, public_key FROM devices")
        }
        return recorded, stored

    # --- helpers --------------------------------------------------------------------------------

    def _count(self, sql: str) -> int:
        return int(self._db.conn.execute(sql).fetchone()[0])

    def _ids(self, sql: str, params: Sequence[Any]) -> list[str]:
        return [str(value) for (value,) in self._db.conn.execute(sql, tuple(params))]


def _json_field(text: object, name: str) -> object:
    try:
        parsed = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return parsed.get(name) if isinstance(parsed, dict) else None


@contextmanager
def read_snapshot(store: Store) -> Iterator[AuditTables]:
    """One read transaction, so that entries appended while a check runs cannot make the
    tables disagree with each other (WAL readers see a fixed snapshot). Inside a transaction
    already open on this thread's connection, that transaction is the snapshot."""
    db = store.db
    if db.conn.in_transaction:
        yield AuditTables(db)
        return
    with db.snapshot():
        yield AuditTables(db)
