"""`erap-registry ops seed-vehicles` writes into the database the registry is configured with:
the SQLite file of its data directory, or PostgreSQL when `database`/`$ERAP_DATABASE` names it
(the command used to open the data directory's SQLite file whatever the configuration said)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from central_ingest.cli.ops import ops_app
from central_ingest.store.db import open_store
from central_ingest.vehicles import DEMO_SEED, SqliteVehicleRegister
from tests.support.stores import current_database, registry_target

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")


def test_seeded_vehicles_land_in_the_configured_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "registry"
    done = CliRunner().invoke(
        ops_app, ["seed-vehicles", str(DEMO_SEED), "--data-dir", str(data_dir)]
    )
    assert done.exit_code == 0, done.output
    first_plate = DEMO_SEED.read_text(encoding="utf-8").split('"plate": "', 1)[1].split('"')[0]
    store = open_store(registry_target(data_dir / "registry.sqlite3"))
    try:
        assert SqliteVehicleRegister(store).lookup(first_plate) is not None
    finally:
        store.close()
    # On PostgreSQL nothing went to a SQLite file beside the configuration.
    assert (current_database() is None) == (data_dir / "registry.sqlite3").exists()
