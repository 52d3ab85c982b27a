"""JSON Schema of the wire contract, exported to ``contract/schema/wire-v{N}.schema.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from contract.roadside import SignedRoadsideProtocol
from contract.wire import (
    SCHEMA_VERSION,
    DeviceStatus,
    Fixation,
    Payment,
    Receipt,
    SignedEnvelope,
)

SCHEMA_PATH = Path(__file__).parent / "schema" / f"wire-v{SCHEMA_VERSION}.schema.json"


def wire_schema() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        SignedEnvelope,
        Fixation,
        Payment,
        DeviceStatus,
        SignedRoadsideProtocol,
        Receipt,
    ]
    _, schema = models_json_schema(
        [(model, "validation") for model in models],
        title=f"ERAP wire contract v{SCHEMA_VERSION}",
    )
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["description"] = (
        "Devices send a SignedEnvelope whose body is a Fixation, Payment, DeviceStatus or "
        "SignedRoadsideProtocol "
        "according to its kind; the registry answers with Receipts."
    )
    return schema


def render_schema() -> str:
    return json.dumps(wire_schema(), indent=2, sort_keys=True) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_schema(), encoding="utf-8")
    return path
