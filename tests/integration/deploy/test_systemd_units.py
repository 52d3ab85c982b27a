"""The systemd units in deploy/systemd: each one starts a command this project really has, with
options its CLI accepts, under the hardening and restart policy deploy/README.md describes.

`systemd-analyze verify` and `systemd-analyze security --offline` run on every unit; they are
never skipped: `make install` installs Debian's systemd package, and without it the two checks
fail, saying so.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import typer

from tests.support.paths import REPOSITORY

ROOT = REPOSITORY
UNIT_DIR = ROOT / "deploy" / "systemd"
VENV_BIN = PurePosixPath("/opt/erap/.venv/bin")

SERVICES = (
    "erap-registry.service",
    "erap-ingest@.service",
    "erap-box-bridge.service",
    "erap-box-recorder.service",
    "erap-box-sender.service",
    "erap-terminal.service",
)
TARGETS = ("erap-box.target",)
BOX_SERVICES = ("erap-box-bridge.service", "erap-box-recorder.service", "erap-box-sender.service")

# Console scripts the units may start, as [project.scripts] must name them.
EXPECTED_SCRIPTS = {
    "erap-registry": "central_ingest.cli:app",
    "erap-box": "edge.box.cli:app",
    "erap-terminal": "terminal.cli:app",
}
# The exact command lines (the box's three are fixed by issue 7).
EXPECTED_COMMANDS = {
    "erap-registry.service": "erap-registry serve --config /etc/erap/registry.toml --no-mqtt",
    "erap-ingest@.service": (
        "erap-registry ingest-worker --config /etc/erap/registry.toml --client-id central-ingest-%i"
    ),
    "erap-box-bridge.service": "erap-box bridge --config /etc/erap/box.toml",
    "erap-box-recorder.service": "erap-box recorder --config /etc/erap/box.toml",
    "erap-box-sender.service": "erap-box sender --config /etc/erap/box.toml",
    "erap-terminal.service": ("erap-terminal settle --every 30 --config /etc/erap/terminal.toml"),
}
# Who may use which hardware, through which group; everything else gets no device at all.
SUPPLEMENTARY_GROUPS = {
    "erap-box-bridge.service": {"dialout"},
    "erap-box-recorder.service": {"video"},
    "erap-terminal.service": {"dialout"},
}
DATA_DIRS = {
    "erap-registry.service": "/var/lib/erap",
    "erap-ingest@.service": "/var/lib/erap",
    "erap-box-bridge.service": "/var/lib/erap-box",
    "erap-box-recorder.service": "/var/lib/erap-box",
    "erap-box-sender.service": "/var/lib/erap-box",
    "erap-terminal.service": "/var/lib/erap-terminal",
}
# Restart policy, by what a unit must do when it keeps crashing:
# "visible": a tight crash loop reaches the start limit and leaves the unit failed (servers,
#   watched by monitoring); "reboot": it reaches the limit and reboots the box (hardware owners
#   on a pole); "never": automatic restarts can never reach the limit (devices whose process
#   exits while the mobile link is down).
GIVE_UP = {
    "erap-registry.service": "visible",
    "erap-ingest@.service": "visible",
    "erap-box-bridge.service": "reboot",
    "erap-box-recorder.service": "reboot",
    "erap-box-sender.service": "never",
    "erap-terminal.service": "never",
}
# Hardening every service carries, with the value it must have.
REQUIRED = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "ProtectClock": "yes",
    "ProtectHostname": "yes",
    "ProtectProc": "invisible",
    "RestrictSUIDSGID": "yes",
    "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "SystemCallArchitectures": "native",
    "SystemCallErrorNumber": "EPERM",
    "User": "erap",
    "Group": "erap",
    "RestartPreventExitStatus": "2",
}
ALLOWED_FAMILIES = {"AF_UNIX", "AF_INET", "AF_INET6"}
# systemd-analyze security's overall exposure, 0-10 (its --threshold takes tenths).
MAX_EXPOSURE = 2.0


@dataclass(frozen=True)
class Unit:
    name: str
    sections: dict[str, list[tuple[str, str]]]

    def values(self, section: str, key: str) -> list[str]:
        return [value for name, value in self.sections.get(section, []) if name == key]

    def get(self, section: str, key: str) -> str | None:
        """The value in force: for systemd, the last assignment wins (for list settings an empty
        assignment resets the list; this returns the raw last value)."""
        found = self.values(section, key)
        return found[-1] if found else None

    def words(self, section: str, key: str) -> list[str]:
        """A list setting: every assignment's words, in order."""
        return [word for value in self.values(section, key) for word in value.split()]


def parse_unit(path: Path) -> Unit:
    """A small parser for unit files: repeated keys are kept (DeviceAllow=, SystemCallFilter=),
    comments and backslash continuations are handled as systemd does."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip() if pending else raw.strip()
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{path.name}: {line!r} before any [section]"
        key, separator, value = line.partition("=")
        assert separator, f"{path.name}: {line!r} is not key=value"
        current.append((key.strip(), value.strip()))
    assert not pending, f"{path.name}: ends in a continuation"
    return Unit(path.name, sections)


def units() -> Iterator[Unit]:
    for name in (*SERVICES, *TARGETS):
        yield parse_unit(UNIT_DIR / name)


def service(name: str) -> Unit:
    return parse_unit(UNIT_DIR / name)


def project_scripts() -> dict[str, str]:
    with (ROOT / "pyproject.toml").open("rb") as source:
        scripts: dict[str, str] = tomllib.load(source)["project"]["scripts"]
    return scripts


def exec_start(unit: Unit) -> list[str]:
    (command,) = unit.values("Service", "ExecStart")
    return shlex.split(command.lstrip("@-:+!"))


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|min|h)?", value)
    assert match, f"not a time span this test understands: {value!r}"
    factor = {"ms": 0.001, "s": 1.0, None: 1.0, "min": 60.0, "h": 3600.0}[match.group(2)]
    return float(match.group(1)) * factor


def test_the_unit_folder_holds_exactly_the_units_checked_here() -> None:
    assert sorted(path.name for path in UNIT_DIR.iterdir()) == sorted((*SERVICES, *TARGETS))


@pytest.mark.parametrize("name", SERVICES)
def test_exec_start_is_the_expected_command_from_the_project_venv(name: str) -> None:
    argv = exec_start(service(name))
    program = PurePosixPath(argv[0])
    assert program.parent == VENV_BIN, f"{name}: run from the project venv, not {program}"
    assert shlex.join([program.name, *argv[1:]]) == EXPECTED_COMMANDS[name]


@pytest.mark.parametrize("name", SERVICES)
def test_exec_start_program_exists_in_this_project(name: str) -> None:
    argv = exec_start(service(name))
    program = PurePosixPath(argv[0]).name
    scripts = project_scripts()
    if program == "python":
        assert argv[1] == "-m", f"{name}: python runs a module of this project (-m)"
        module = argv[2]
        assert module.split(".")[0] in {"central_ingest", "edge", "terminal", "firmware_bridge"}
        spec = importlib.util.find_spec(module)
        assert spec is not None, f"{name}: module {module} is not importable"
        if spec.submodule_search_locations is not None:  # a package: it needs a __main__
            assert importlib.util.find_spec(f"{module}.__main__") is not None
        return
    assert program in EXPECTED_SCRIPTS, f"{name}: {program} is not a console script we expect"
    assert program in scripts, f"{program} is missing from [project.scripts]"
    assert scripts[program] == EXPECTED_SCRIPTS[program]
    module = scripts[program].partition(":")[0]
    assert importlib.util.find_spec(module) is not None, f"{module} is not importable"


def _click_command(name: str) -> tuple[Any, list[str]]:
    """The real CLI behind a unit's ExecStart and the arguments it is given."""
    argv = exec_start(service(name))
    program = PurePosixPath(argv[0]).name
    if program == "python":
        target, args = f"{argv[2]}.cli:app", argv[3:]
    else:
        target, args = EXPECTED_SCRIPTS[program], argv[1:]
    module_name, _, attribute = target.partition(":")
    assert importlib.util.find_spec(module_name) is not None, f"{name} runs {module_name}: missing"
    module = importlib.import_module(module_name)
    app = getattr(module, attribute)
    assert isinstance(app, typer.Typer)
    # %i is the instance name of a template unit: any instance will do.
    return typer.main.get_command(app), [arg.replace("%i", "1") for arg in args]


@pytest.mark.parametrize("name", SERVICES)
def test_exec_start_arguments_parse_with_the_real_cli(name: str) -> None:
    """The subcommand exists and accepts every option given (parsed, not run)."""
    command, args = _click_command(name)  # typer's (vendored) click group
    assert hasattr(command, "resolve_command"), f"{name}: the CLI has no subcommands"
    with command.make_context("prog", list(args), resilient_parsing=False) as group_ctx:
        sub_name, sub, rest = command.resolve_command(group_ctx, args)
        assert sub is not None and sub_name == args[0]
        with sub.make_context(sub_name, rest, parent=group_ctx) as ctx:
            config = ctx.params.get("config")
            assert config is not None and str(config).startswith("/etc/erap/")


@pytest.mark.parametrize("name", SERVICES)
def test_service_is_hardened(name: str) -> None:
    unit = service(name)
    for key, wanted in REQUIRED.items():
        assert unit.get("Service", key) == wanted, f"{name}: {key}={wanted} expected"
    assert "@system-service" in unit.words("Service", "SystemCallFilter")
    denied = [word for word in unit.words("Service", "SystemCallFilter") if word.startswith("~")]
    assert denied and "~@privileged" in denied, f"{name}: deny @privileged on top"
    families = set(unit.words("Service", "RestrictAddressFamilies"))
    assert families and families <= ALLOWED_FAMILIES, f"{name}: {families}"
    assert unit.get("Service", "UMask") in {"0077", "0007"}
    assert unit.get("Service", "MemoryMax"), f"{name}: MemoryMax"
    assert unit.get("Service", "TasksMax"), f"{name}: TasksMax"


@pytest.mark.parametrize("name", SERVICES)
def test_service_writes_only_its_data_folder(name: str) -> None:
    unit = service(name)
    assert unit.words("Service", "ReadWritePaths") == [DATA_DIRS[name]]
    assert unit.words("Service", "StateDirectory") == [DATA_DIRS[name].removeprefix("/var/lib/")]
    assert not unit.values("Service", "BindPaths"), f"{name}: no writable bind mounts"


@pytest.mark.parametrize("name", SERVICES)
def test_devices_and_groups_only_where_hardware_is_used(name: str) -> None:
    unit = service(name)
    groups = set(unit.words("Service", "SupplementaryGroups"))
    assert groups == SUPPLEMENTARY_GROUPS.get(name, set())
    if groups:
        # A device ACL instead of PrivateDevices: serial ports or cameras only.
        assert unit.get("Service", "DevicePolicy") == "closed"
        allowed = unit.values("Service", "DeviceAllow")
        assert allowed and all(rule.startswith("char-") for rule in allowed)
        wanted = "char-video4linux" if groups == {"video"} else "char-ttyUSB"
        assert any(rule.split()[0] == wanted for rule in allowed), f"{name}: {allowed}"
    else:
        assert unit.get("Service", "PrivateDevices") == "yes"
        assert unit.get("Service", "PrivateUsers") == "yes"
        assert not unit.values("Service", "DeviceAllow")


@pytest.mark.parametrize("name", SERVICES)
def test_restart_policy(name: str) -> None:
    unit = service(name)
    assert unit.get("Service", "Restart") in {"always", "on-failure"}
    restart_sec = seconds(unit.get("Service", "RestartSec") or "")
    assert restart_sec > 0
    interval = seconds(unit.get("Unit", "StartLimitIntervalSec") or "")
    burst = int(unit.get("Unit", "StartLimitBurst") or "0")
    assert interval > 0 and burst > 0
    # Automatic restarts come at most once per RestartSec.
    reachable = burst * restart_sec < interval
    policy = GIVE_UP[name]
    assert reachable == (policy in {"visible", "reboot"}), f"{name}: {policy}"
    assert unit.get("Unit", "StartLimitAction") == ("reboot" if policy == "reboot" else None)


def test_box_services_are_grouped_by_the_target_and_survive_each_other() -> None:
    target = parse_unit(UNIT_DIR / "erap-box.target")
    assert set(target.words("Unit", "Wants")) == set(BOX_SERVICES)
    assert not target.values("Unit", "Requires") and not target.values("Unit", "BindsTo")
    binding = ("Requires", "Requisite", "BindsTo", "PartOf", "Upholds", "PropagatesStopTo")
    for name in BOX_SERVICES:
        unit = service(name)
        assert unit.words("Install", "WantedBy") == ["erap-box.target"]
        assert unit.words("Unit", "PartOf") == ["erap-box.target"]
        # Nothing that would stop or restart one box service with another.
        for key in binding:
            others = set(unit.words("Unit", key)) - {"erap-box.target"}
            assert not others, f"{name}: {key}={others}"
        assert set(unit.words("Unit", "Wants")) & set(BOX_SERVICES) == set()
        assert unit.words("Service", "ExecStart")[-1] == "/etc/erap/box.toml"


def test_data_dirs_match_the_example_configurations() -> None:
    with (ROOT / "deploy" / "registry.example.toml").open("rb") as source:
        registry_dir = PurePosixPath(tomllib.load(source)["data_dir"])
    assert registry_dir.is_relative_to(DATA_DIRS["erap-registry.service"])
    with (ROOT / "terminal" / "terminal.example.toml").open("rb") as source:
        terminal = tomllib.load(source)
    assert terminal["data_dir"] == DATA_DIRS["erap-terminal.service"]
    box_example = ROOT / "deploy" / "box.example.toml"
    if box_example.exists():  # written with the box's CLI
        with box_example.open("rb") as source:
            box_dir = tomllib.load(source)["data_dir"]
        assert box_dir == DATA_DIRS["erap-box-recorder.service"]


# Installed by `make test` (Debian package systemd); running systemd is not needed.
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.fixture(scope="module")
def installed_units(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The units as they would be installed, with /opt/erap/.venv/bin pointing at stub programs
    (verify checks that the program exists and is executable; that it is this project's program
    is the test above)."""
    root = tmp_path_factory.mktemp("systemd")
    bin_dir, unit_dir = root / "bin", root / "units"
    bin_dir.mkdir()
    unit_dir.mkdir()
    for name in (*SERVICES, *TARGETS):
        text = (UNIT_DIR / name).read_text(encoding="utf-8")
        (unit_dir / name).write_text(text.replace(f"{VENV_BIN}/", f"{bin_dir}/"), encoding="utf-8")
    for name in SERVICES:
        stub = bin_dir / PurePosixPath(exec_start(service(name))[0]).name
        stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        stub.chmod(0o755)
    return unit_dir


def _instance(name: str) -> str:
    return name.replace("@.", "@1.")  # a template is verified through one instance


@pytest.mark.parametrize("name", (*SERVICES, *TARGETS))
def test_systemd_analyze_verify(name: str, installed_units: Path) -> None:
    assert SYSTEMD_ANALYZE is not None, "systemd-analyze is missing: install Debian's systemd"
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", str(installed_units / _instance(name))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # verify exits 0 on unknown keys and unparsable values, reporting them on stderr only.
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_systemd_analyze_security_exposure(name: str, installed_units: Path) -> None:
    assert SYSTEMD_ANALYZE is not None, "systemd-analyze is missing: install Debian's systemd"
    result = subprocess.run(
        [
            SYSTEMD_ANALYZE,
            "security",
            "--offline=yes",
            "--no-pager",
            f"--threshold={round(MAX_EXPOSURE * 10)}",
            str(installed_units / name),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    overall = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    assert result.returncode == 0, f"{name}: {overall} (at most {MAX_EXPOSURE} allowed)"
