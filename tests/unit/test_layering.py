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
"""

from __future__ import annotations

import ast
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = (
    "central_ingest", "contract", "edge", "firmware_bridge", "i18n", "models", "terminal"
)

FORBIDDEN = frozenset(
    {
        # named by issue 7
        "sqlite3",
        "sqlite_utils",
        "paho",
        "httpx",
        "serial",
        "smartcard",
        "fastapi",
        "onnxruntime",
        "cv2",
        # the same kind: servers, printers, other databases
        "uvicorn",
        "starlette",
        "escpos",
        "psycopg",
        "psycopg2",
        "sqlalchemy",
    }
)

TERMINAL_CORE = ("tlv", "emv", "iso8583", "money")


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


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_names(path: Path) -> Iterator[tuple[str, int]]:
    """Every module an import statement in ``path`` names, absolute, with its line; for
    ``from package import name`` also ``package.name`` (it may be a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    this = module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            yield base, node.lineno
            for alias in node.names:
                if alias.name != "*":
                    yield f"{base}.{alias.name}", node.lineno


def top_level(name: str) -> str:
    return name.partition(".")[0]


@pytest.mark.parametrize("path", pure_core_files(), ids=lambda path: module_name(path))
def test_pure_core_module_imports_no_io_library(path: Path) -> None:
    found = sorted(
        f"line {line}: {name}"
        for name, line in imported_names(path)
        if top_level(name) in FORBIDDEN
    )
    assert not found, f"{module_name(path)} imports {found}"


def project_dependencies(name: str) -> Iterator[str]:
    """The project modules Python runs when it imports ``name``'s imports: each named module
    that exists as a file, and every package ``__init__`` on the way to it."""
    path = module_file(name)
    assert path is not None, name
    for imported, _line in imported_names(path):
        if top_level(imported) not in PROJECT_PACKAGES:
            continue
        parts = imported.split(".")
        for end in range(1, len(parts) + 1):
            prefix = ".".join(parts[:end])
            if module_file(prefix) is not None:
                yield prefix


def forbidden_chain(start: str) -> list[str] | None:
    """The shortest import chain from ``start`` to a forbidden library, or None."""
    parts = start.split(".")
    first = [".".join(parts[:end]) for end in range(1, len(parts) + 1)]  # packages run first
    came_from: dict[str, str | None] = dict.fromkeys(first)
    queue = deque(name for name in first if module_file(name) is not None)
    while queue:
        current = queue.popleft()
        path = module_file(current)
        assert path is not None
        for imported, line in imported_names(path):
            if top_level(imported) in FORBIDDEN:
                chain = [f"{imported} (line {line})", current]
                step = came_from[current]
                while step is not None:
                    chain.append(step)
                    step = came_from[step]
                return chain[::-1]
        for dependency in project_dependencies(current):
            if dependency not in came_from:
                came_from[dependency] = current
                queue.append(dependency)
    return None


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
    chain = forbidden_chain("central_ingest.store.db")
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
    assert any(top_level(name) == "sqlite3" for name, _ in imported_names(store / "db.py"))


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
