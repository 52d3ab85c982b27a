"""OpenVINO and onnxruntime run the same shipped ONNX files to the same outputs."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from models.manifest import load_manifest
from models.ocr import TextDetector, TextRecognizer
from models.pipeline import DETECTOR, RECOGNIZER, PlateReader
from models.plate_format import FormatFamily
from models.runtime import Inference, Precision, Runtime, load_model, resolve
from models.synth import render_plate
from tests.integration.models.test_evaluate import street_scene

RUNTIMES = (Runtime.OPENVINO, Runtime.ONNXRUNTIME)


def model_path(name: str) -> Path:
    return load_manifest()[name].path


def test_auto_picks_openvino_where_it_is_installed() -> None:
    assert resolve(Runtime.AUTO) is Runtime.OPENVINO
    assert PlateReader(detector_side=320).runtime is Runtime.OPENVINO


# Both runtimes compute in float32 (OpenVINO is told so: never its bfloat16 default).
FULL_PRECISION = tuple(Inference(runtime, 2) for runtime in RUNTIMES)


def test_in_float32_the_detector_maps_agree() -> None:
    frame = cv2.resize(street_scene("123ABC01"), (640, 352))
    inputs = (frame.astype(np.float32) * (2 / 255) - 1).transpose(2, 0, 1)[np.newaxis]
    maps = [load_model(model_path(DETECTOR), inference).run(inputs) for inference in FULL_PRECISION]
    assert maps[0].shape == maps[1].shape == (1, 1, 352, 640)
    assert float(np.abs(maps[0] - maps[1]).max()) < 1e-3
    assert float(maps[0].max()) > 0.9  # the plate's text is there to agree on


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_each_runtime_reads_the_plate_and_its_character_list(runtime: Runtime) -> None:
    recogniser = TextRecognizer(model_path(RECOGNIZER), Inference(runtime))
    plate = render_plate("123ABC01", random.Random(7), width=260)
    read = recogniser.read(plate)
    assert read.text.endswith("123ABC01")
    assert min(read.confidences[-8:]) > 0.8
    detector = TextDetector(model_path(DETECTOR), 640, Inference(runtime))
    assert detector.detect(street_scene("123ABC01"))


def test_in_float32_the_recogniser_confidences_agree() -> None:
    plate = render_plate("456KZ02", random.Random(3), width=240)
    reads = [
        TextRecognizer(model_path(RECOGNIZER), inference).read(plate)
        for inference in FULL_PRECISION
    ]
    assert reads[0].text == reads[1].text
    assert np.allclose(reads[0].confidences, reads[1].confidences, atol=1e-3)


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"absent\.onnx is missing"):
        load_model(tmp_path / "absent.onnx", Inference(Runtime.ONNXRUNTIME))


def test_a_file_without_a_character_list_is_not_taken_for_a_recogniser() -> None:
    with pytest.raises(ValueError, match="not a PP-OCR recogniser"):
        TextRecognizer(model_path(DETECTOR), Inference(Runtime.OPENVINO))


def test_in_float32_the_plate_reader_reads_alike() -> None:
    readers = [
        PlateReader(
            expected=(FormatFamily.KZ,), detector_side=640, runtime=runtime, precision=Precision.F32
        )
        for runtime in RUNTIMES
    ]
    readings = [reader.read(street_scene("777AB02")) for reader in readers]
    reports = [reader.precisions()["text_detector"] for reader in readers]
    assert reports[0] == {"hint": "f32", "convolutions": {"f32": 64}}
    assert reports[1] == {"hint": "f32"}
    assert readings[0] is not None and readings[1] is not None
    assert readings[0].text == readings[1].text == "777AB02"
    assert abs(readings[0].box.x - readings[1].box.x) <= 2


def test_the_int8_detector_runs_its_convolutions_in_int8_and_reads_the_plate() -> None:
    reader = PlateReader(expected=(FormatFamily.KZ,), detector_side=640, precision=Precision.INT8)
    reading = reader.read(street_scene("777AB02"))
    assert reading is not None and reading.text == "777AB02"
    report = reader.precisions()["text_detector"]
    assert report["hint"] == "f32"  # the layers left in float: float32, not bfloat16
    convolutions = report["convolutions"]
    assert isinstance(convolutions, dict)
    assert convolutions.get("u8", 0) + convolutions.get("i8", 0) > 0


def test_onnxruntime_is_given_no_int8_model() -> None:
    with pytest.raises(RuntimeError, match="choose precision f32 or auto"):
        PlateReader(runtime=Runtime.ONNXRUNTIME, precision=Precision.INT8)
    fallback = PlateReader(runtime=Runtime.ONNXRUNTIME, precision=Precision.AUTO)
    assert fallback.precision is Precision.F32
