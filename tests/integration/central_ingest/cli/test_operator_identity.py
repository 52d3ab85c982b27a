"""An officer's IIN and unit from the command line: ``erap-registry operator add --iin --unit``
and ``operator identity``, refusing an invalid IIN (before the account is made) and an IIN
another operator holds; the registry then knows the officer by the IIN his certificate names."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from central_ingest.cli import app
from central_ingest.config import load_config
from central_ingest.store import roadside as repo
from central_ingest.wiring import open_registry_store
from tests.support.officer_pki import valid_iin

runner = CliRunner()


def test_an_officer_gets_his_iin_and_unit_and_no_one_else_can_take_it(tmp_path: Path) -> None:
    data_dir = ["--data-dir", str(tmp_path / "registry")]
    env = {"ERAP_OPERATOR_PASSWORD": "a long reviewer password"}

    def operator(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--language", "en", "operator", *args, *data_dir], env=env)
        return result.exit_code, result.output

    iin, other = valid_iin(), valid_iin()
    bad = iin[:-1] + str((int(iin[-1]) + 1) % 10)
    code, said = operator(
        "add", "s.ospanov", "--role", "reviewer", "--display-name", "Serik", "--iin", bad
    )
    assert code == 1 and f"{bad} is not a valid IIN" in said
    code, said = operator(
        "add",
        "s.ospanov",
        "--role",
        "reviewer",
        "--display-name",
        "Serik",
        "--iin",
        iin,
        "--unit",
        "Astana, 2nd battalion",
    )
    assert code == 0, said
    assert f"s.ospanov: IIN {iin}, unit Astana, 2nd battalion." in said
    code, said = operator("add", "a.nur", "--role", "reviewer", "--display-name", "Aidos")
    assert code == 0, said
    code, said = operator("identity", "a.nur", "--iin", iin)
    assert code == 1 and f"The IIN {iin} is already the operator s.ospanov's." in said
    code, said = operator("identity", "a.nur", "--iin", other)
    assert code == 0 and f"a.nur: IIN {other}, unit -." in said
    code, said = operator("identity", "nobody", "--iin", valid_iin())
    assert code == 1 and "There is no operator nobody." in said

    store = open_registry_store(load_config(data_dir=tmp_path / "registry"))
    try:
        officer = repo.officer_by_iin(store.db, iin)
        assert officer == repo.OfficerRecord("s.ospanov", "Astana, 2nd battalion", True)
        assert repo.officer_by_iin(store.db, other) == repo.OfficerRecord("a.nur", None, True)
        assert repo.officer_by_iin(store.db, bad) is None
    finally:
        store.close()
