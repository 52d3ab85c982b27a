"""``erap-terminal ui`` refuses, with a sentence and no server started, a configuration that
would open the touch UI beyond this machine, or a terminal that has no token or roadside
section (it writes the configuration and the device key as files)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from contract import DeviceKey
from terminal.cli import app

BASE = """device_id = "term-patrol-0001"
terminal_id = "T0000042"
language = "en"
agency = "Astana Police Department"
registry_url = "http://127.0.0.1:9"
data_dir = "{data}"
key_path = "{key}"
printer_device = "/dev/null"
payment_device = "ecr"

[ecr]
port = "/dev/null"
"""


def configuration(tmp_path: Path, extra: str) -> Path:
    key = tmp_path / "terminal.key"
    DeviceKey.generate().save(key)
    path = tmp_path / "terminal.toml"
    path.write_text(BASE.format(data=tmp_path / "data", key=key) + extra, encoding="utf-8")
    return path


def test_the_ui_refuses_another_address_than_loopback(tmp_path: Path) -> None:
    path = configuration(tmp_path, '\n[ui]\nhost = "0.0.0.0"\n')
    result = CliRunner().invoke(app, ["ui", "--config", str(path)])
    said = " ".join(result.output.split())  # the console wraps long lines
    assert result.exit_code == 2
    assert "is not usable" in said and "answers on 127.0.0.1 only" in said


def test_the_ui_needs_the_token_and_the_roadside_sections(tmp_path: Path) -> None:
    path = configuration(tmp_path, "\n[ui]\nport = 8471\n")
    result = CliRunner().invoke(app, ["ui", "--config", str(path)])
    assert result.exit_code == 2
    assert "needs the [token] and [roadside] sections" in " ".join(result.output.split())
