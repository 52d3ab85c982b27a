"""Layering: the pure cores import no storage, network, device or model library.

Pure cores: ``central_ingest/core`` (the registry's domain), ``contract`` (the wire contract),
``edge/violations`` (the camera's rules) and the terminal's protocol and money modules
(``tlv``, ``emv``, ``iso8583``, ``money``). The rest of ``terminal`` (journal, PC/SC, ECR,
printer, registry client, and ``service``, which imports the journal and the registry client)
is adapters or their wiring.

Two checks, both by reading the source (AST), nothing imported:

- direct: no module of a pure core names a forbidden library in any import statement,
  including imports inside functions and under ``if TYPE_CHECKING``;
- transitive: following this project's own imports, including the package ``__init__`` modules
  Python runs on the way (``from terminal import tlv`` runs ``terminal/__init__.py``), no
  forbidden library is reached. A failure names the chain of imports.

The table of which layer may import which is in test_layering.py.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.source_imports import (
    FORBIDDEN,
    PROJECT_PACKAGES,
    ROOT,
    TERMINAL_CORE,
    forbidden_chain,
    imported_names,
    module_name,
    top_level,
)


def pure_core_files() -> list[Path]:
    files = [
        *sorted((ROOT / "central_ingest" / "core").glob("*.py")),
        *sorted((ROOT / "contract").glob("*.py")),
        *sorted((ROOT / "edge" / "violations").glob("*.py")),
        *(ROOT / "terminal" / f"{name}.py" for name in TERMINAL_CORE),
        # Lazy sentences and language choice: the cores above raise and return them.
        ROOT / "i18n" / "text.py",
        ROOT / "i18n" / "languages.py",
    ]
    assert all(path.is_file() for path in files)
    return files


@pytest.mark.parametrize("path", pure_core_files(), ids=lambda path: module_name(path))
def test_pure_core_module_imports_no_io_library(path: Path) -> None:
    found = sorted(
        f"line {line}: {name}"
        for name, line in imported_names(path)
        if top_level(name) in FORBIDDEN
    )
    assert not found, f"{module_name(path)} imports {found}"


# Importing runs every package __init__ on the way: a package that re-exported its adapters
# would drag them into the pure core (deploy/SCALING.md, "Is the domain free of SQLite?").
@pytest.mark.parametrize("name", [module_name(path) for path in pure_core_files()])
def test_importing_a_pure_core_module_reaches_no_io_library(name: str) -> None:
    chain = forbidden_chain(name)
    assert chain is None, " -> ".join(chain)


def test_the_registry_core_is_clean_transitively() -> None:
    """The check the PostgreSQL port relies on, spelled out: nothing under central_ingest/core
    reaches SQLite, whatever it imports."""
    for path in sorted((ROOT / "central_ingest" / "core").glob("*.py")):
        assert forbidden_chain(module_name(path)) is None, module_name(path)


def test_the_chain_finder_finds_a_known_adapter() -> None:
    """The transitive check is not vacuous: an adapter module is caught, with its chain."""
    chain = forbidden_chain("central_ingest.store.sqlite_db")
    assert chain is not None and chain[-1].startswith(("sqlite3", "sqlite_utils"))
    chain = forbidden_chain("terminal.service")
    assert chain is not None and chain[0] == "terminal.service"


# The registry's SQL lives in central_ingest/store only (deploy/SCALING.md, section 7): a
# PostgreSQL store then changes that package and nothing else.
DATABASE_DRIVERS = frozenset({"sqlite3", "sqlite_utils", "psycopg", "psycopg2", "sqlalchemy"})
SQL_TEXT = re.compile(
    r"^\s*(SELECT\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|"
    r"WITH\s+\w+|CREATE\s+(TABLE|INDEX|TRIGGER|VIEW)\s|PRAGMA\s|BEGIN(\s+IMMEDIATE)?\s*$)"
)


def registry_modules_outside_store() -> list[Path]:
    package = ROOT / "central_ingest"
    return [
        path for path in sorted(package.rglob("*.py")) if (package / "store") not in path.parents
    ]


def sql_strings(path: Path) -> Iterator[tuple[str, int]]:
    """String literals (and the literal parts of f-strings) that read as SQL statements."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL_TEXT.match(node.value)
        ):
            yield node.value.strip().splitlines()[0], node.lineno


@pytest.mark.parametrize(
    "path", registry_modules_outside_store(), ids=lambda path: module_name(path)
)
def test_registry_code_outside_the_store_names_no_database(path: Path) -> None:
    drivers = [
        f"line {line}: import {name}"
        for name, line in imported_names(path)
        if top_level(name) in DATABASE_DRIVERS
    ]
    statements = [f"line {line}: {text}" for text, line in sql_strings(path)]
    assert not drivers and not statements, f"{module_name(path)}: {drivers + statements}"


def test_the_sql_finder_finds_the_stores_statements() -> None:
    store = ROOT / "central_ingest" / "store"
    assert any(sql_strings(store / "case_opening.py"))
    assert any(top_level(name) == "sqlite3" for name, _ in imported_names(store / "sqlite_db.py"))


def test_the_translation_mechanism_depends_on_no_part_of_the_product() -> None:
    """``i18n`` sits under every part (registry, terminal): it imports none of them, so the
    terminal can carry it without the registry, and no part's change reaches another's
    catalogs through it."""
    parts = set(PROJECT_PACKAGES) - {"i18n"}
    found = sorted(
        f"{module_name(path)} line {line}: {name}"
        for path in sorted((ROOT / "i18n").glob("*.py"))
        for name, line in imported_names(path)
        if top_level(name) in parts
    )
    assert not found, found


def test_the_sqlite_opener_depends_on_no_part_of_the_product() -> None:
    """``localdb`` (``open_sqlite``) is shared by the registry's store, the camera box and the
    terminal: it imports none of them. It imports sqlite3, so a pure core that imported it
    would be caught by the transitive check above."""
    parts = set(PROJECT_PACKAGES) - {"localdb"}
    found = sorted(
        f"{module_name(path)} line {line}: {name}"
        for path in sorted((ROOT / "localdb").glob("*.py"))
        for name, line in imported_names(path)
        if top_level(name) in parts
    )
    assert not found, found
    assert forbidden_chain("localdb") == ["localdb", "sqlite3 (line 15)"]
