"""Reading the project's own source for the layering tests (tests/unit/test_layering.py,
tests/unit/test_pure_cores.py): module names and files, the names each file imports (with
``ast``: nothing is imported), and the import chain that reaches a forbidden library."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = (
    "central_ingest",
    "contract",
    "edge",
    "firmware_bridge",
    "i18n",
    "localdb",
    "models",
    "terminal",
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


# The terminal's pure modules: its protocols and money.
TERMINAL_CORE = ("tlv", "emv", "iso8583", "money")
