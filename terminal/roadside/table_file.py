"""The code table's file: the one shipped with the terminal (``code_table.toml`` beside this
module), or another named in the configuration (``[roadside] code_table``)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from terminal.roadside.codes import CodeTable, CodeTableError, parse_code_table

SHIPPED_CODE_TABLE = Path(__file__).with_name("code_table.toml")


def load_code_table(path: Path | None = None) -> CodeTable:
    source = path or SHIPPED_CODE_TABLE
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CodeTableError(f"the code table {source} cannot be read: {exc}") from None
    try:
        return parse_code_table(data)
    except CodeTableError as exc:
        raise CodeTableError(f"{source}: {exc}") from None
