"""`erap-registry migrate`, the deploy step that brings the database to the release's schema:
a SQLite file created, an old one brought forward, a current one left alone; a PostgreSQL
database migrated as its owner, and refused, with the reason, to the application's role."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from central_ingest.cli import app
from central_ingest.store.postgres.schema import SCHEMA_VERSION as POSTGRES_VERSION
from central_ingest.store.schema import SCHEMA_VERSION
from tests.support.paths import SUPPORT
from tests.support.postgres import PostgresServer, RegistryDatabase

runner = CliRunner()


def migrate(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--language", "en", "migrate", *args], env={"ERAP_DATABASE": ""})
    return result.exit_code, " ".join(result.output.split())


def test_a_sqlite_file_is_created_brought_forward_or_left_alone(tmp_path: Path) -> None:
    new = tmp_path / "new.sqlite3"
    assert migrate("--database", str(new)) == (
        0,
        f"The registry database {new} was created at schema version {SCHEMA_VERSION}.",
    )
    assert migrate("--database", str(new)) == (
        0,
        f"The registry database {new} is at schema version {SCHEMA_VERSION} already:"
        " nothing to do.",
    )
    old = tmp_path / "old.sqlite3"
    with sqlite3.connect(old) as conn:
        conn.executescript((SUPPORT / "registry-schema-v1.sql").read_text(encoding="utf-8"))
    assert migrate("--database", str(old)) == (
        0,
        f"The registry database {old} was brought from schema version 1 to {SCHEMA_VERSION}.",
    )


def test_postgresql_is_migrated_by_its_owner_and_refused_to_the_application(
    postgres_server: PostgresServer,
) -> None:
    database = RegistryDatabase(postgres_server, "erap_migrate_cli")
    code, said = migrate("--database", database.app_url)
    assert code == 2
    assert said.startswith(
        f"The registry database {database.app_url} cannot be brought forward: the registry's"
        " schema is changed as the role erap_owner"
    )
    assert migrate("--database", database.owner_url) == (
        0,
        f"The registry database {database.owner_url} was created at schema version"
        f" {POSTGRES_VERSION}.",
    )
    assert migrate("--database", database.owner_url)[1].endswith("already: nothing to do.")
