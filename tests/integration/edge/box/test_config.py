"""The camera box's configuration file (edge.box.config)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from contract.config_file import ConfigError
from edge.box.config import BoxConfig, load_box_config
from tests.support.paths import DEPLOY

EXAMPLE = DEPLOY / "box.example.toml"


def example() -> dict[str, object]:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "box.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_documented_example_is_valid_and_names_its_camera_in_the_rules() -> None:
    config = load_box_config(EXAMPLE)
    assert config.rules.camera_id == config.device_id == "cam-ast-0001"
    assert config.rules.speeding is not None and config.rules.speeding.limit_kmh == 60
    assert config.video.lane_at(0.2) == 1 and config.video.lane_at(0.7) == 2


def test_a_bad_value_is_refused_with_its_key_named(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("sample_every = 1 ", "sample_every = 0 ")
    with pytest.raises(ConfigError, match=r"video\.sample_every: Input should be greater"):
        load_box_config(write(tmp_path, text))


def test_an_unknown_key_is_refused_rather_than_ignored(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("[serial]\n", "[serial]\nbaud = 9600\n")
    with pytest.raises(ConfigError, match=r"serial\.baud: Extra inputs are not permitted"):
        load_box_config(write(tmp_path, text))


def test_half_a_client_certificate_is_refused() -> None:
    raw = example()
    del raw["mqtt"]["key_file"]  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="cert_file and key_file go together"):
        BoxConfig.model_validate(raw)


def test_lane_edges_must_rise_inside_the_frame() -> None:
    raw = example()
    raw["video"]["lane_edges"] = [0.6, 0.3]  # type: ignore[index]
    with pytest.raises(ValueError, match="lane_edges must rise"):
        BoxConfig.model_validate(raw)


def test_the_detector_ladder_must_rise() -> None:
    raw = example()
    raw["video"].update(coarse_side=640, fine_sides=[1280, 1920])  # type: ignore[attr-defined]
    config = BoxConfig.model_validate(raw)
    assert (config.video.coarse_side, config.video.fine_sides) == (640, [1280, 1920])
    raw["video"]["coarse_side"] = 960  # type: ignore[index]
    with pytest.raises(ValueError, match="coarse_side must be smaller than detector_side"):
        BoxConfig.model_validate(raw)
    raw["video"].update(coarse_side=None, fine_sides=[1920, 1280])  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="fine_sides must rise above detector_side"):
        BoxConfig.model_validate(raw)


def test_rules_of_another_camera_are_refused() -> None:
    raw = example()
    raw["rules"]["camera_id"] = "cam-other"  # type: ignore[index]
    with pytest.raises(ValueError, match="must be the box's device_id"):
        BoxConfig.model_validate(raw)


def test_a_missing_file_and_broken_toml_are_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_box_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_box_config(write(tmp_path, "device_id = "))


def test_the_inference_runtime_is_one_the_box_knows(tmp_path: Path) -> None:
    assert load_box_config(EXAMPLE).video.runtime == "auto"
    text = EXAMPLE.read_text(encoding="utf-8").replace('runtime = "auto"', 'runtime = "tensorrt"')
    with pytest.raises(ConfigError, match=r"video\.runtime: Input should be 'auto', 'openvino'"):
        load_box_config(write(tmp_path, text))


def test_a_kazakh_box_expects_its_own_and_its_neighbours_plates(tmp_path: Path) -> None:
    assert load_box_config(EXAMPLE).video.formats == ["kz", "ru", "kg", "uz"]
    raw = example()
    del raw["video"]["formats"]  # type: ignore[attr-defined]
    assert BoxConfig.model_validate(raw).video.formats == ["kz", "ru", "kg", "uz"]
    raw["video"]["formats"] = ["br"]  # type: ignore[index]
    assert BoxConfig.model_validate(raw).video.formats == ["br"]
    raw["video"]["formats"] = ["kz", "kz"]  # type: ignore[index]
    with pytest.raises(ValueError, match="names a format family twice"):
        BoxConfig.model_validate(raw)
    text = EXAMPLE.read_text(encoding="utf-8").replace('"kg", "uz"]', '"kg", "xx"]')
    with pytest.raises(ConfigError, match=r"video\.formats\.3: Input should be 'kz', 'ru'"):
        load_box_config(write(tmp_path, text))
