"""``erap-registry undelivered``: the supervisor's list at the command line, as a table in the
operator's language and as JSON, on both stores."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from central_ingest.cli.main import app
from central_ingest.core.clock import iso
from contract import now_utc
from tests.support.registry_fixtures import OWNER_UNREACHABLE, RegistryWorld
from tests.support.stores import current_database

pytestmark = pytest.mark.usefixtures("registry_store")

runner = CliRunner()


def test_the_command_lists_the_cases_held_and_why(tmp_path: Path) -> None:
    world = RegistryWorld.create(tmp_path)
    world.vehicles.upsert([OWNER_UNREACHABLE])
    data_dir = world.config.data_dir
    database = current_database()
    extra = [] if database is None else ["--config", str(_config(tmp_path, database))]
    empty = runner.invoke(
        app, ["--language", "en", "undelivered", "--data-dir", str(data_dir), *extra]
    )
    assert empty.exit_code == 0, empty.output
    assert "none is held" in empty.output

    case_number = world.open_case(plate=OWNER_UNREACHABLE.plate)
    # The command reads the real clock: the world's case of March 2025 is moved to be overdue
    # and still enforceable today.
    with world.store.transaction() as db:
        db.conn.execute(
            "UPDATE cases SET voluntary_deadline = ?, limitation_at = ? WHERE case_number = ?",
            (iso(now_utc() - timedelta(days=1)), iso(now_utc() + timedelta(days=300)), case_number),
        )
    table = runner.invoke(
        app,
        ["--language", "ru", "undelivered", "--data-dir", str(data_dir), *extra],
        env={"COLUMNS": "250"},  # one line per case
    )
    assert table.exit_code == 0, table.output
    assert case_number in table.output and "телефон и e-mail неизвестны" in table.output
    listing = runner.invoke(app, ["undelivered", "--json", "--data-dir", str(data_dir), *extra])
    (held,) = json.loads(listing.output)
    assert (held["case_number"], held["reason"], held["rounds"]) == (case_number, "no_contact", 0)


def _config(tmp_path: Path, database: str) -> Path:
    path = tmp_path / "registry.toml"
    path.write_text(f'database = "{database}"\n', encoding="utf-8")
    return path
