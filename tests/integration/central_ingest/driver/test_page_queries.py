"""Every query the driver's page makes is answered from an index, never by reading a whole table
(SQLite's query plans; 100,000 cases is bench/case_page.py's figure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from central_ingest.store.db import Store
from tests.support.registry_fixtures import RegistryWorld

# The page's reads with the arguments they take (store/case_links.py, store/notifications.py,
# store/case_reads.py), as the statements are written there.
QUERIES = {
    "link": ("SELECT case_number, purpose, expires_at FROM case_links WHERE token_hash = ?", 1),
    "plate": ("SELECT plate FROM cases WHERE case_number = ?", 1),
    "case": ("SELECT * FROM cases WHERE case_number = ?", 1),
    "history": (
        "SELECT seq, recorded_at, entity_type, action, payload FROM ledger"
        " WHERE (entity_type = 'case' AND entity_id = ?)"
        " OR (entity_type = 'bailiff' AND entity_id = ?) ORDER BY seq",
        2,
    ),
    "payments": (
        "SELECT amount_minor, paid_at, channel FROM payments WHERE matched_case = ?"
        " ORDER BY paid_at",
        1,
    ),
    "photo": (
        "SELECT fe.role FROM cases c JOIN fixation_evidence fe ON fe.fixation_id = c.fixation_id"
        " WHERE c.case_number = ? AND fe.sha256 = ?",
        2,
    ),
    "notices": (
        "SELECT n.notification_id FROM notifications n WHERE n.case_number = ?"
        " ORDER BY n.notification_id",
        1,
    ),
    "evidence": ("SELECT sha256, role FROM fixation_evidence WHERE fixation_id = ?", 1),
    "purge": ("DELETE FROM case_links WHERE expires_at < ? AND purpose = 'lookup'", 1),
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path: Path = tmp_path_factory.mktemp("plans")
    world = RegistryWorld.create(path, database=str(path / "registry.sqlite3"))
    world.open_case()
    return world.store


@pytest.mark.parametrize("name", QUERIES)
def test_the_query_reads_by_an_index(store: Store, name: str) -> None:
    sql, arguments = QUERIES[name]
    plan = [
        str(row[-1])
        for row in store.db.conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("x",) * arguments)
    ]
    assert plan, sql
    scans = [step for step in plan if step.startswith("SCAN") and "USING" not in step]
    assert not scans, plan
    assert any("USING" in step for step in plan), plan
