"""Layering: one table, ``ALLOWED_IMPORTS``, says which layer of every part (the registry, the
camera box, the terminal, the firmware bridge, the plate models, the tests' harness) may import
which, so that the direction of its imports stays downward and no part reaches into another's
internals. Read from the source (AST), nothing imported. That the pure cores reach no I/O
library, and that SQL stays in the registry's store, is in test_pure_cores.py.
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
    module_file,
    module_name,
    top_level,
)

# --- the registry's layers -------------------------------------------------------------------
#
# Every module of the registry sits in one layer: the layer of the longest module prefix below
# (the command line is matched by name, ``cli_layer``). Of this project, a module imports only
# the layers of its layer's row; the standard library and third-party libraries are the
# business of the checks above. The rows are listed bottom up and name no layer above their
# own (``test_no_layer_may_import_a_higher_one``), so a lower layer never reaches a higher one,
# not even through a chain of imports. Imports inside functions and under ``if TYPE_CHECKING``
# count like any other.

MODULE_LAYERS = {
    "contract": "contract",
    "i18n": "i18n",
    # open_sqlite, shared with the camera box and the terminal.
    "localdb": "localdb",
    "central_ingest.core": "core",
    "central_ingest.config": "config",
    # The [api] section of the configuration file: a pydantic model that imports nothing of
    # the project, read by config.py.
    "central_ingest.api.settings": "config",
    "central_ingest.store": "store",
    "central_ingest.cases": "services",
    "central_ingest.operators": "services",
    "central_ingest.vehicles": "services",
    "central_ingest.reports": "services",
    "central_ingest.jobs": "services",
    "central_ingest.pki": "services",
    "central_ingest.pki_officers": "services",
    "central_ingest.roadside": "services",
    "central_ingest.ingest": "services",
    "central_ingest.notify": "services",
    # Appeals: filing (the files' real types), deciding, reading (issue 16).
    "central_ingest.appeals": "services",
    # Which senders the configuration asks for (outside notify for its catalog: registry).
    "central_ingest.notice_senders": "services",
    "central_ingest.audit": "services",
    # Builds the store and the services a configuration names (config.py only reads it).
    "central_ingest.wiring": "wiring",
    "central_ingest.api": "api",
    # Sign-in, request dependencies and error bodies: what the API's routes and the console's
    # pages both build on.
    "central_ingest.api.auth": "api_shared",
    "central_ingest.api.deps": "api_shared",
    "central_ingest.api.errors": "api_shared",
    "central_ingest.console": "console",
    # The driver's case page (issue 16); its links are a service the notices use.
    "central_ingest.driver": "driver",
    "central_ingest.driver.links": "services",
    # Token buckets per source, standard library only: the API's and the driver page's.
    "central_ingest.api.rate_limit": "api_shared",
    # create_app wires the API's routes and the console into one application.
    "central_ingest.api.app": "application",
    # The plate models: the reader the box runs (manifest, formats, runtime, OCR, pipeline).
    "models": "models.reader",
    # Technician tools: accuracy on annotated photos, read as the box's configuration says.
    "models.evaluate": "models.tools",
    "models.scoring": "models.tools",
    "models.synth": "models.synth",
    # The int8 detector calibrated on synthetic frames (offline, never run by the box).
    "models.quantise": "models.synth",
    # The firmware bridge: framing, messages and NMEA are pure; link the pure link policy.
    "firmware_bridge.frame": "bridge.core",
    "firmware_bridge.messages": "bridge.core",
    "firmware_bridge.gps": "bridge.core",
    "firmware_bridge.link": "bridge.link",
    "firmware_bridge.transport": "bridge.adapters",
    "firmware_bridge.runner": "bridge.adapters",
    "firmware_bridge.bridge": "bridge.adapters",
    "firmware_bridge.cli": "bridge.cli",
    "firmware_bridge.__main__": "bridge.cli",
    "firmware_bridge.simulator": "bridge.simulator",
    # The camera box.
    "edge.violations": "edge.rules",
    "edge.store.delivery": "edge.delivery",
    "edge.store.backoff": "edge.delivery",
    "edge.store": "edge.outbox",
    "edge.video": "edge.video",
    "edge.box": "edge.box",
    "edge.box.wiring": "edge.wiring",
    "edge.video.cli": "edge.tools",
    "edge.video.__main__": "edge.tools",
    "edge.store.cli": "edge.tools",
    "edge.store.__main__": "edge.tools",
    "edge.box.cli": "edge.cli",
    "edge.box.__main__": "edge.cli",
    # The terminal, module by module: a new one must be given its layer.
    **dict.fromkeys(
        [f"terminal.{name}" for name in (*TERMINAL_CORE, "messages", "officer_rules")],
        "terminal.core",
    ),
    **dict.fromkeys(
        [
            f"terminal.{name}"
            for name in (
                "pcsc",
                "acquirer_link",
                "paper",
                "receipt",
                "journal",
                "officer_token",
                "protocol_signing",
                "registry_client",
            )
        ],
        "terminal.adapters",
    ),
    "terminal.payment_device": "terminal.devices",
    "terminal.ecr": "terminal.devices",
    "terminal.config": "terminal.config",
    "terminal.service": "terminal.service",
    "terminal.wiring": "terminal.wiring",
    "terminal.cli": "terminal.cli",
    "terminal.__main__": "terminal.cli",
    "terminal.sim": "terminal.sim",
    # The roadside protocol (issue 15): its code table and drafting rules are pure; the rest of
    # the package (the store, the population register, the registry's number blocks, GPS,
    # camera, printer) are its adapters; the desk is the service the touch UI calls.
    "terminal.roadside": "terminal.roadside.adapters",
    "terminal.roadside.codes": "terminal.roadside.core",
    "terminal.roadside.drafting": "terminal.roadside.core",
    "terminal.roadside.settings": "terminal.roadside.core",
    "terminal.roadside.desk": "terminal.roadside.service",
    "terminal.roadside.payments": "terminal.roadside.service",
    "terminal.roadside.wiring": "terminal.roadside.wiring",
    # The officer's touch UI (issue 15): the desk's screens, started by `erap-terminal ui`.
    "terminal.ui": "terminal.ui",
    # The harness the tests share (brokers, free ports, databases): not the product.
    "tests.support": "test_support",
}
# Package modules that re-export or only hold a docstring, by exact name (a prefix would put
# every new module of the part in their layer).
PACKAGE_LAYERS = {
    # Docstrings only: the lowest layer of the part, since every import of the part runs them.
    "edge": "edge.rules",
    "terminal": "terminal.core",
    # The bridge's face (Direction, LoopCrossing, ...): what the box may import of it.
    "firmware_bridge": "bridge.face",
    # Re-exports the roadside desk and its types: the face the touch UI imports.
    "terminal.roadside": "terminal.roadside.service",
}

# The package itself (a docstring), ``python -m central_ingest`` and the ``erap-registry``
# commands (the package ``central_ingest/cli/``).
CLI_MODULE = re.compile(r"central_ingest(\.__main__|\.cli(\.\w+)?)?")

_BASE = ("contract", "i18n")
_REGISTRY = ("core", "config", "store", "services", "wiring")
_BRIDGE = ("bridge.core", "bridge.link", "bridge.adapters")
_TERMINAL = ("terminal.core", "terminal.adapters", "terminal.devices", *_BASE)
ALLOWED_IMPORTS: dict[str, frozenset[str]] = {
    # The translation mechanism sits under every part of the product and imports none.
    "i18n": frozenset({"i18n"}),
    # The wire contract devices and registry share; its sentences may be translated.
    "contract": frozenset({"contract", "i18n"}),
    # The one SQLite opener (localdb/__init__.py): only the standard library.
    "localdb": frozenset({"localdb"}),
    # The registry's pure domain: rules, fines, views; no storage, no configuration loader
    # (core.fines describes the legal figures it reads as Protocols).
    "core": frozenset({"core", *_BASE}),
    # The configuration file's model: figures and settings, no behaviour of the registry.
    "config": frozenset({"config", *_BASE}),
    # The SQL: it takes what the configuration decides (fine, deadlines, issuer) as arguments
    # and leaves notices, the vehicle register and every other decision to the services, so a
    # PostgreSQL store replaces this layer and nothing else.
    "store": frozenset({"store", "localdb", "core", *_BASE}),
    # The services own the transactions, the clock and the configuration; they call each
    # other (the registry queues notices, the jobs run the registry and the notifier).
    "services": frozenset({"services", "store", "core", "config", *_BASE}),
    # What the commands and the HTTP application run, built one way: the services over the
    # store the configuration names. Nothing below it builds anything.
    "wiring": frozenset({"wiring", "services", "store", "core", "config", *_BASE}),
    "api_shared": frozenset({"api_shared", "services", "store", "core", "config", *_BASE}),
    # The HTTP API: everything below it, never the console or the command line.
    "api": frozenset({"api", "api_shared", "services", "store", "core", "config", *_BASE}),
    # The officers' console: the API's sign-in and errors (not its routes), the services, and
    # the store's read models of the review desk.
    "console": frozenset({"console", "api_shared", "services", "store", "core", "config", *_BASE}),
    # The driver's case page: the console's Jinja2 language wiring, the API's rate limits
    # and the services (the notices' citation of the article).
    "driver": frozenset(
        {"driver", "console", "api_shared", "services", "store", "core", "config", *_BASE}
    ),
    "application": frozenset(
        {
            "application",
            "driver",
            "console",
            "api",
            "api_shared",
            "wiring",
            "services",
            "store",
            "core",
            "config",
            *_BASE,
        }
    ),
    # The commands start whatever they run: anything.
    "cli": frozenset(
        {
            "cli",
            "application",
            "driver",
            "console",
            "api",
            "api_shared",
            "wiring",
            "services",
            "store",
            "localdb",
            "core",
            "config",
            *_BASE,
        }
    ),
    # The reader imports nothing of the project: the box and the tools build on it.
    "models.reader": frozenset({"models.reader"}),
    # Synthetic plates and scenes for training and the demo: tooling over the plate formats.
    "models.synth": frozenset({"models.synth", "models.reader"}),
    # Framing, message codecs and NMEA: pure, on the contract's types.
    "bridge.core": frozenset({"bridge.core", "contract"}),
    # The link policy (sequence numbers, acknowledgements, resends; time passed in): pure.
    "bridge.link": frozenset({"bridge.link", "bridge.core"}),
    # The serial port, the threads that run the link over it and the bridge process.
    "bridge.adapters": frozenset({"bridge.adapters", *_BRIDGE, "contract"}),
    # The package re-exports the bridge for the box: the one face of it another part imports.
    "bridge.face": frozenset({"bridge.face", *_BRIDGE}),
    "bridge.cli": frozenset({"bridge.cli", *_BRIDGE}),
    # The microcontroller's simulator speaks the link like the firmware does.
    "bridge.simulator": frozenset({"bridge.simulator", *_BRIDGE, "contract"}),
    # The violation rules: pure, on the contract's types.
    "edge.rules": frozenset({"edge.rules", *_BASE}),
    # The pure delivery policy (receipts, PUBACKs, resend, dead letters; time passed in).
    "edge.delivery": frozenset({"edge.delivery", "contract"}),
    # The outbox (SQLite through localdb) and the sender, the paho/threads adapter of the policy.
    "edge.outbox": frozenset({"edge.outbox", "edge.delivery", "localdb", "contract"}),
    # Frames to tracked, voted plate events: the recogniser is handed in, no model imported.
    "edge.video": frozenset({"edge.video", "contract"}),
    # The processes as deployed (recorder, bridge service, journal, health) and their
    # settings: the rules, the video, the outbox, the plate reader and the bridge's face.
    "edge.box": frozenset(
        {"edge.box", "edge.outbox", "edge.video", "edge.rules", "models.reader", "bridge.face"}
        | {"localdb", *_BASE}
    ),
    # Builds the outbox, the sender and the video pipeline a box configuration names.
    "edge.wiring": frozenset(
        {"edge.wiring", "edge.box", "edge.outbox", "edge.video", "models.reader", *_BASE}
    ),
    # Technician tools: the outbox's inspect, the video pipeline on a file with the reader.
    "edge.tools": frozenset({"edge.tools", "edge.outbox", "edge.video", "models.reader", *_BASE}),
    # erap-box: starts whatever it runs.
    "edge.cli": frozenset(
        {"edge.cli", "edge.wiring", "edge.box", "edge.outbox", "edge.video", "bridge.face"}
        | {"localdb", *_BASE}
    ),
    # Accuracy and speed on annotated photos (IMPORT_EXCEPTIONS: the box's configuration).
    "models.tools": frozenset({"models.tools", "models.reader", "contract"}),
    # TLV, EMV, ISO 8583, money, officer rules and the terminal's sentences: pure.
    "terminal.core": frozenset({"terminal.core", *_BASE}),
    # The roadside code table, the repeat rule and drafting: pure, on the contract's types.
    "terminal.roadside.core": frozenset({"terminal.roadside.core", "terminal.core", *_BASE}),
    # PC/SC, the acquirer's TLS link, the printer and the receipt (its lines are pure, the
    # module prints through escpos), the journal (SQLite through localdb), the officer's token
    # and the registry's HTTP client.
    "terminal.adapters": frozenset({"terminal.adapters", "terminal.core", "localdb", *_BASE}),
    # The roadside journal (SQLite through localdb), the population register, the registry's
    # number blocks, the car's GPS (NMEA judged by the bridge's pure GpsTracker), camera and
    # printer (the receipt's paper code).
    "terminal.roadside.adapters": frozenset(
        {"terminal.roadside.adapters", "terminal.roadside.core", "terminal.adapters"}
        | {"terminal.core", "localdb", "bridge.core", *_BASE}
    ),
    # The two payment devices (this kernel with its acquirer, the bank's POS over ECR).
    "terminal.devices": frozenset(_TERMINAL),
    # Settings and loading, checked against their adapters when loaded (the acquirer's TLS
    # files open, the printer's profile exists): above the adapters, below what they build.
    "terminal.config": frozenset(
        {"terminal.config", "terminal.adapters", "terminal.core", "terminal.roadside.core"}
        | {*_BASE}
    ),
    "terminal.service": frozenset({"terminal.service", *_TERMINAL}),
    # The roadside desk: over its adapters and the payment service's result and identity.
    "terminal.roadside.service": frozenset(
        {"terminal.roadside.service", "terminal.roadside.adapters", "terminal.roadside.core"}
        | {"terminal.service", *_TERMINAL}
    ),
    "terminal.wiring": frozenset(
        {"terminal.wiring", "terminal.config", "terminal.service", *_TERMINAL}
    ),
    # The roadside desk from the configuration, over the payment terminal's own parts.
    "terminal.roadside.wiring": frozenset(
        {"terminal.roadside.wiring", "terminal.roadside.service", "terminal.roadside.adapters"}
        | {"terminal.roadside.core", "terminal.wiring", "terminal.config", "terminal.service"}
        | {*_TERMINAL}
    ),
    # The touch UI: screens over the roadside desk; it builds the desk from the configuration.
    "terminal.ui": frozenset(
        {"terminal.ui", "terminal.roadside.wiring", "terminal.roadside.service"}
        | {"terminal.roadside.adapters", "terminal.roadside.core", "terminal.wiring"}
        | {"terminal.config", "terminal.service", *_TERMINAL}
    ),
    # erap-terminal: starts whatever it runs.
    "terminal.cli": frozenset(
        {"terminal.cli", "terminal.wiring", "terminal.config", "terminal.service", "terminal.ui"}
        | {*_TERMINAL}
    ),
    # The tests' harness starts every part: never imported by the product.
    "test_support": frozenset(
        {"test_support", "application", "api_shared", "edge.outbox", "terminal.adapters"}
        | {*_REGISTRY, *_BASE}
    ),
    # The card, acquirer, bank POS and printer simulators and the harness that starts them:
    # test tooling, never imported by the product; it takes free_port from the tests' harness.
    "terminal.sim": frozenset({"terminal.sim", "test_support", *_TERMINAL}),
}

# Imports of another part's internals that the rows do not allow, each with its reason. A
# pair that is no longer imported fails test_each_exception_is_still_needed.
IMPORT_EXCEPTIONS = {
    # The simulated acquirer's certificates are issued with the registry's CA code, the way
    # the registry issues its own; test tooling, never deployed with the terminal.
    ("terminal.sim.acquirer_pki", "central_ingest.pki"): "the registry's CA code",
    # models.evaluate reads the box's TOML for the plates read per frame (the box's default
    # when none is given): a technician tool; the box never imports it.
    ("models.evaluate", "edge.box.config"): "the box's configuration loader",
}

# Layers whose modules name no storage, network, device or model library (FORBIDDEN).
PURE_LAYERS = frozenset(
    {"core", "contract", "bridge.core", "bridge.link", "edge.rules", "edge.delivery"}
    | {"terminal.core", "terminal.roadside.core"}
)


def layer_of(module: str) -> str | None:
    if module in PACKAGE_LAYERS:
        return PACKAGE_LAYERS[module]
    if CLI_MODULE.fullmatch(module):
        return "cli"
    prefixes = [
        prefix for prefix in MODULE_LAYERS if module == prefix or module.startswith(prefix + ".")
    ]
    return MODULE_LAYERS[max(prefixes, key=len)] if prefixes else None


def project_imports(tree: ast.Module, this: str, is_package: bool) -> Iterator[tuple[str, int]]:
    """The project module each import statement names, with its line: for ``from package
    import name`` the submodule ``package.name`` when there is one, else ``package``."""
    package = this if is_package else this.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            targets = [
                f"{base}.{alias.name}" if module_file(f"{base}.{alias.name}") else base
                for alias in node.names
            ]
        else:
            continue
        for target in dict.fromkeys(targets):  # two names from one module: one import
            # tests and demo too: the product may import neither.
            if top_level(target) in (*PROJECT_PACKAGES, "tests", "demo"):
                yield target, node.lineno


def layer_violations(this: str, source: str, is_package: bool = False) -> list[str]:
    """Each import of ``source`` (the text of module ``this``) that its layer's row does not
    allow, as "module line N: imports target (layer)", and in a pure layer each library of
    FORBIDDEN it names."""
    layer = layer_of(this)
    if layer is None:
        return [f"{this} is in no layer: add it to MODULE_LAYERS"]
    tree = ast.parse(source, filename=this)
    found = [
        f"{this} line {line}: imports {target} ({layer_of(target) or 'no layer'}),"
        f" which the {layer} layer may not"
        for target, line in project_imports(tree, this, is_package)
        if layer_of(target) not in ALLOWED_IMPORTS[layer]
        and (this, target) not in IMPORT_EXCEPTIONS
    ]
    if layer in PURE_LAYERS:
        found += [
            f"{this} line {node.lineno}: imports {name} (an I/O library),"
            f" which the pure {layer} layer may not"
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for name in (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            if not getattr(node, "level", 0) and top_level(name) in FORBIDDEN
        ]
    return found


def layered_files() -> list[Path]:
    return [
        *sorted((ROOT / "central_ingest").rglob("*.py")),
        *sorted((ROOT / "contract").glob("*.py")),
        *sorted((ROOT / "i18n").glob("*.py")),
        *sorted((ROOT / "localdb").glob("*.py")),
        *(
            path
            for part in ("models", "firmware_bridge", "edge", "terminal", "tests/support")
            for path in sorted((ROOT / part).rglob("*.py"))
        ),
    ]


@pytest.mark.parametrize("path", layered_files(), ids=lambda path: module_name(path))
def test_module_imports_only_the_layers_its_row_allows(path: Path) -> None:
    found = layer_violations(
        module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py"
    )
    assert not found, "\n".join(found)


def test_no_layer_may_import_a_higher_one() -> None:
    order = list(ALLOWED_IMPORTS)
    assert {*MODULE_LAYERS.values(), *PACKAGE_LAYERS.values(), "cli"} == set(order)
    for layer, allowed in ALLOWED_IMPORTS.items():
        higher = sorted(other for other in allowed if order.index(other) > order.index(layer))
        assert not higher, f"{layer} may import the higher layers {higher}"


def test_the_layer_check_finds_an_import_that_goes_up() -> None:
    """The table check is not vacuous: the store reaching up to the notices (what
    store/cases.py did before issue 14) and the console reaching into the API's routes are
    caught, with the module and the line; the same store importing the core passes."""
    source = (
        "from central_ingest.core.clock import iso\n"
        "\n"
        "def open_case() -> None:\n"
        "    from central_ingest.notify.outbox import enqueue_case_opened\n"
    )
    found = layer_violations("central_ingest.store.example", source)
    assert found == [
        "central_ingest.store.example line 4: imports central_ingest.notify.outbox (services),"
        " which the store layer may not"
    ]
    console = "from central_ingest.api import routes_cases\nfrom central_ingest.api import auth\n"
    found = layer_violations("central_ingest.console.example", console)
    assert [line.split(":")[0] for line in found] == ["central_ingest.console.example line 1"]
    assert layer_violations("central_ingest.example", "") == [
        "central_ingest.example is in no layer: add it to MODULE_LAYERS"
    ]
    assert layer_of("central_ingest.cli.backup") == "cli"
    assert layer_of("central_ingest.api.settings") == "config"


def test_the_layer_check_holds_the_devices_and_the_harness_to_their_rows() -> None:
    """The devices' rows are not vacuous: a delivery policy that imports paho, a box that
    reaches into the bridge's internals or the terminal's simulator, a registry that imports
    the box, and a terminal that imports the tests' harness are caught; the box importing the
    bridge's face passes."""
    delivery = "from edge.store.backoff import Backoff\nimport paho.mqtt.client as mqtt\n"
    assert layer_violations("edge.store.delivery", delivery) == [
        "edge.store.delivery line 2: imports paho.mqtt.client (an I/O library),"
        " which the pure edge.delivery layer may not"
    ]
    box = (
        "from firmware_bridge import LoopCrossing\n"
        "from firmware_bridge.runner import LinkRunner\n"
        "from terminal.sim import harness\n"
    )
    assert layer_violations("edge.box.example", box) == [
        "edge.box.example line 2: imports firmware_bridge.runner (bridge.adapters),"
        " which the edge.box layer may not",
        "edge.box.example line 3: imports terminal.sim.harness (terminal.sim),"
        " which the edge.box layer may not",
    ]
    registry = "from edge.store import outbox\n"
    assert layer_violations("central_ingest.jobs", registry) == [
        "central_ingest.jobs line 1: imports edge.store.outbox (edge.outbox),"
        " which the services layer may not"
    ]
    service = "def f() -> None:\n    from tests.support.broker import free_port\n"
    assert layer_violations("terminal.service", service) == [
        "terminal.service line 2: imports tests.support.broker (test_support),"
        " which the terminal.service layer may not"
    ]
    assert layer_violations("terminal.sim.harness", service) == []
    assert layer_violations("terminal.cli", "import demo.story\n") == [
        "terminal.cli line 1: imports demo.story (no layer), which the terminal.cli layer may not"
    ]
    pki = "from central_ingest.pki import CertificateAuthority\n"
    assert layer_violations("terminal.sim.acquirer_pki", pki) == []
    assert layer_violations("terminal.sim.harness", pki) != []
    assert layer_violations("terminal.new_adapter", "") == [
        "terminal.new_adapter is in no layer: add it to MODULE_LAYERS"
    ]


@pytest.mark.parametrize(("module", "target"), list(IMPORT_EXCEPTIONS))
def test_each_exception_is_still_needed(module: str, target: str) -> None:
    path = module_file(module)
    assert path is not None, f"{module} is gone: drop its entry from IMPORT_EXCEPTIONS"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {name for name, _ in project_imports(tree, module, path.name == "__init__.py")}
    assert target in imported, (
        f"{module} no longer imports {target}: drop its entry from IMPORT_EXCEPTIONS"
    )


def test_the_parts_meet_only_at_their_faces() -> None:
    """The rules across parts, read off the table: the registry imports no device's layer, the
    box imports only the bridge's face and the plate reader of the other parts, and no layer
    of the product imports the test tooling (the tests' harness, the terminal's simulators)."""

    def layers(*prefixes: str) -> set[str]:
        table = {**MODULE_LAYERS, **PACKAGE_LAYERS}
        return {layer for name, layer in table.items() if name.startswith(prefixes)}

    registry = layers("central_ingest") | {"cli"}
    devices = layers("edge", "terminal", "firmware_bridge", "models")
    tooling = {"test_support", "terminal.sim"}
    for layer in registry:
        assert not ALLOWED_IMPORTS[layer] & devices, f"the registry's {layer} imports a device"
    for layer in layers("edge"):
        foreign = ALLOWED_IMPORTS[layer] - layers("edge") - {"contract", "i18n", "localdb"}
        assert foreign <= {"bridge.face", "models.reader"}, (
            f"the box's {layer} may import {sorted(foreign)}"
        )
    for layer in set(ALLOWED_IMPORTS) - tooling:
        assert not ALLOWED_IMPORTS[layer] & tooling, f"{layer} may import the test tooling"
