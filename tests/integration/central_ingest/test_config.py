"""The registry configuration: the shipped example is valid and errors name the key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from central_ingest.api.app import create_app
from central_ingest.config import ConfigError, RegistryConfig, load_config
from tests.support.paths import DEPLOY

EXAMPLE = DEPLOY / "registry.example.toml"


def test_example_file_is_valid_and_equals_the_defaults() -> None:
    loaded = load_config(EXAMPLE)
    defaults = RegistryConfig()
    assert loaded.model_dump(exclude={"data_dir"}) == defaults.model_dump(exclude={"data_dir"})


def test_errors_name_the_key_and_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[deadlines]\ndiscount_percent = 150\n[mqtt]\nport = "x"\n')
    with pytest.raises(ConfigError) as error:
        load_config(bad)
    assert "deadlines.discount_percent" in str(error.value)
    assert "mqtt.port" in str(error.value)


def test_unknown_keys_and_unordered_bands_are_refused(tmp_path: Path) -> None:
    typo = tmp_path / "typo.toml"
    typo.write_text("http_prot = 8080\n")
    with pytest.raises(ConfigError, match="http_prot"):
        load_config(typo)
    with pytest.raises(ConfigError, match="ascending"):
        load_config(
            None,
            fines={
                "speeding_bands": [
                    {"min_excess_kmh": 20, "part": "2", "fine_mrp": 10},
                    {"min_excess_kmh": 10, "part": "1", "fine_mrp": 5},
                ]
            },
        )


def test_the_console_section_reaches_the_review_desk(tmp_path: Path) -> None:
    path = tmp_path / "registry.toml"
    path.write_text(
        f'data_dir = "{tmp_path}"\n[console]\ndouble_review_rate = 0.25\nhistory_items = 3\n'
    )
    desk = create_app(load_config(path)).state.review_desk
    assert (desk.settings.double_review_rate, desk.settings.history_items) == (0.25, 3)
    path.write_text("[console]\ndouble_review_rate = 1.5\n")
    with pytest.raises(ConfigError, match=r"console\.double_review_rate"):
        load_config(path)


def test_missing_mrp_year_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match="2031"):
        RegistryConfig().mrp_on(date(2031, 1, 1))
