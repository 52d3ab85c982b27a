"""The code table the terminal ships agrees with the registry: the same MRP per year, and the
same fine for every article and part the registry's fine schedule also lists (its defaults and
the example configuration), so a fine written offline is the fine the registry would set."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from central_ingest.config import FineSchedule, RegistryConfig
from terminal.roadside.codes import CodeTableError
from terminal.roadside.table_file import load_code_table
from tests.support.paths import DEPLOY


def registry_fines(fines: dict[str, object] | None = None) -> dict[tuple[str, int], int]:
    schedule = FineSchedule() if fines is None else FineSchedule.model_validate(fines)
    found = {
        (schedule.speeding_article, int(band.part)): band.fine_mrp
        for band in schedule.speeding_bands
    }
    found.update({(f.article, int(f.part)): f.fine_mrp for f in schedule.fixed.values()})
    return found


def test_the_shipped_table_agrees_with_the_registrys_figures() -> None:
    table = load_code_table()
    example = tomllib.loads((DEPLOY / "registry.example.toml").read_text())
    registry_mrp = RegistryConfig.model_fields["mrp_by_year"].get_default(call_default_factory=True)
    assert table.mrp_by_year == registry_mrp
    assert table.mrp_by_year == {int(y): v for y, v in example["mrp_by_year"].items()}
    for fines in (registry_fines(), registry_fines(example["fines"])):
        for (article, part), mrp in fines.items():
            assert table.entry(article, part).fine_mrp == mrp, (article, part)
    # every title in both official languages
    assert all({"kk", "ru"} <= set(entry.title) for entry in table.entries)
    assert any(entry.warning_allowed for entry in table.entries)
    assert any(entry.repeat_part for entry in table.entries)


def test_a_broken_table_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "codes.toml"
    broken.write_text("mrp_by_year = { 2026 = 4325 }\nentries = []\n")
    with pytest.raises(CodeTableError, match=str(broken)):
        load_code_table(broken)
