"""The committed JSON schema file of the wire contract is in sync with the models."""

from __future__ import annotations

import json

from contract.schema_export import SCHEMA_PATH, render_schema


def test_committed_json_schema_matches_the_models() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "run 'erap-contract export-schema' and commit the result"
    )
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert {"SignedEnvelope", "Fixation", "Payment", "DeviceStatus", "Receipt"} <= set(
        schema["$defs"]
    )
