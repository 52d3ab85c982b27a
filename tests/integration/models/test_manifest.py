"""The model manifest: every shipped model file matches its recorded checksum."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from models.manifest import MANIFEST_PATH, ModelChecksumError, load_manifest, sha256_of, verify

PERMISSIVE = ("Apache-2.0", "MIT", "BSD")


def test_shipped_model_files_match_their_checksums() -> None:
    entries = load_manifest()
    assert {"text_detector", "text_recognizer"} <= set(entries)
    for entry in entries.values():
        assert entry.path.is_file(), f"{entry.name}: {entry.path} is missing"
        assert sha256_of(entry.path) == entry.sha256, f"{entry.name}: checksum mismatch"
    verify(entries)


def test_every_model_records_shape_source_permissive_licence_and_history() -> None:
    raw = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    for name, entry in raw["models"].items():
        assert entry["input_shape"] and entry["source"], name
        assert entry["licence"].startswith(PERMISSIVE), name
        assert isinstance(entry["history"], list), name
        for version in entry["history"]:
            assert {"version", "date", "measured"} <= set(version), name


def test_a_modified_model_file_is_refused(tmp_path: Path) -> None:
    entry = load_manifest()["text_detector"]
    tampered = tmp_path / "det.onnx"
    tampered.write_bytes(entry.path.read_bytes()[:-1] + b"\x00")
    with pytest.raises(ModelChecksumError, match="replaced or corrupted"):
        verify({"text_detector": replace(entry, path=tampered)})


def test_a_missing_model_file_is_refused(tmp_path: Path) -> None:
    entry = load_manifest()["text_recognizer"]
    with pytest.raises(ModelChecksumError, match="is missing"):
        verify({"text_recognizer": replace(entry, path=tmp_path / "absent.onnx")})


def test_the_int8_detector_ships_with_its_weights_checksums_licence_and_calibration() -> None:
    entry = load_manifest()["text_detector_int8"]
    assert entry.path.suffix == ".xml" and entry.weights is not None
    assert entry.weights == entry.path.with_suffix(".bin")
    assert sha256_of(entry.path) == entry.sha256
    assert sha256_of(entry.weights) == entry.weights_sha256
    # Shipped in the repository: small enough to keep there.
    assert entry.path.stat().st_size + entry.weights.stat().st_size < 10_000_000
    raw = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))["models"]["text_detector_int8"]
    assert raw["licence"].startswith("Apache-2.0") and "derived" in raw["licence"]
    calibration = raw["calibration"]
    assert calibration["command"].startswith("python -m models.quantise")
    assert f"--seed {calibration['seed']}" in calibration["command"]
    assert "synth" in calibration["data"]


def test_the_int8_detectors_accuracy_is_recorded_against_the_float_model() -> None:
    raw = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))["models"]["text_detector_int8"]
    (measured,) = [version["measured"] for version in raw["history"]][-1:]
    for photo_set in ("br", "us"):
        figures = measured["against_float"][photo_set]
        assert set(figures) == {"f32", "int8"}
        for precision, figure in figures.items():
            assert f"--precision {precision}" in figure["command"]
            assert 0.0 <= figure["exact"] <= 1.0


def test_a_modified_int8_weights_file_is_refused(tmp_path: Path) -> None:
    entry = load_manifest()["text_detector_int8"]
    assert entry.weights is not None
    tampered = tmp_path / "det.bin"
    tampered.write_bytes(b"\x01" + entry.weights.read_bytes()[1:])
    with pytest.raises(ModelChecksumError, match=r"det\.bin has checksum .* replaced or corrupted"):
        verify({"text_detector_int8": replace(entry, weights=tampered)})
