"""`erap-registry appeals list` and `decide` on both stores: the waiting appeals, a decision
recorded under an operator who holds the role for it, and a refusal in a sentence otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from central_ingest.appeals import AppealService
from central_ingest.cli.appeals import appeals_app
from central_ingest.core.cases import CaseStatus
from tests.support.registry_fixtures import OWNER_PERSON, REVIEWERS, SUPERVISORS, RegistryWorld

pytestmark = pytest.mark.usefixtures("registry_store")


def test_appeals_are_listed_and_decided_from_the_host(tmp_path: Path) -> None:
    world = RegistryWorld.create(tmp_path)
    case_number = world.open_case()
    appeal = AppealService(world.store, world.config, clock=world.clock).file_for_driver(
        case_number, OWNER_PERSON.plate, "The camera read another car.", []
    )
    data_dir = ["--data-dir", str(world.config.data_dir)]
    runner = CliRunner()

    listed = runner.invoke(appeals_app, ["list", "--json", *data_dir])
    assert listed.exit_code == 0, listed.output
    assert [item["case_number"] for item in json.loads(listed.output)] == [case_number]

    decide = ["decide", str(appeal.appeal_id), "--decision", "cancelled", "--note", "Misread."]
    refused = runner.invoke(
        appeals_app, [*decide, "--by", REVIEWERS[0], *data_dir], env={"ERAP_LANGUAGE": "en"}
    )
    assert refused.exit_code == 2
    assert f"{REVIEWERS[0]} is not an active operator who may record this decision" in (
        refused.output
    )
    done = runner.invoke(
        appeals_app, [*decide, "--by", SUPERVISORS[0], *data_dir], env={"ERAP_LANGUAGE": "en"}
    )
    assert done.exit_code == 0, done.output
    assert f"Appeal {appeal.appeal_id} on case {case_number} is decided: cancelled" in done.output
    assert world.registry.case(case_number).status is CaseStatus.CANCELLED
    empty = runner.invoke(appeals_app, ["list", *data_dir], env={"ERAP_LANGUAGE": "en"})
    assert "No appeal is waiting for a decision." in empty.output
