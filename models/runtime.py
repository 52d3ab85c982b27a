"""Running one of the shipped ONNX files on the CPU, with OpenVINO or onnxruntime.

Both runtimes read the same ONNX file. OpenVINO is the faster here because it computes in the
CPU's fastest precision by default: bfloat16 on x86 CPUs with AVX512-BF16 or AMX, float16 on
ARMv8.2 and later (the camera box's class). On a 2-core AMD EPYC (AVX512-BF16) the text
detector at 640x352 takes 15-20 ms against 31-40 ms with onnxruntime, at 1280x736 57 ms
against 170 ms, and the recogniser 6 ms against 11 ms per plate; in float32 OpenVINO is about
as fast as onnxruntime. Readings differ only where the recogniser is torn between two
characters (us photos: 2 of 222 plates more read right in bfloat16, br: the same;
models/manifest.json). With `full_precision` OpenVINO computes in float32 and matches
onnxruntime's outputs (tests/integration/models/test_runtime.py). onnxruntime stays as the
reference and fallback.

Input shapes stay dynamic: the recogniser's width follows each crop and the detector's size
follows the frame and the rung. OpenVINO plans a shape the first time it sees it (20-70 ms
once) and keeps the plan, so a box whose camera and rungs are fixed pays that at start only
(models.pipeline.PlateReader.warm_up). The plans cost memory, about 6 MB per detector shape:
the plate reader peaks at about 1.1 GB resident with OpenVINO against 0.5 GB with
onnxruntime (models.evaluate on the br photos). A box short of memory runs onnxruntime
(`[video] runtime` in its configuration).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


class Runtime(StrEnum):
    AUTO = "auto"  # OpenVINO when installed, else onnxruntime
    OPENVINO = "openvino"
    ONNXRUNTIME = "onnxruntime"


@dataclass(frozen=True)
class Inference:
    """How a model runs: the runtime, CPU threads, and whether OpenVINO keeps float32."""

    runtime: Runtime = Runtime.AUTO
    threads: int = 2
    full_precision: bool = False


class LoadedModel(Protocol):
    """A model of one float32 input and one float32 output, ready to run."""

    def run(self, inputs: FloatArray) -> FloatArray: ...

    def metadata(self, key: str) -> str | None:
        """A value of the ONNX file's metadata_props, or None when the file has no such key."""
        ...


def resolve(runtime: Runtime) -> Runtime:
    """The runtime `AUTO` stands for on this machine; an explicit choice must be installed."""
    openvino_installed = importlib.util.find_spec("openvino") is not None
    if runtime is Runtime.AUTO:
        return Runtime.OPENVINO if openvino_installed else Runtime.ONNXRUNTIME
    if runtime is Runtime.OPENVINO and not openvino_installed:
        raise RuntimeError(
            "the OpenVINO runtime was asked for but is not installed on this machine; install "
            "the 'openvino' package or choose the onnxruntime runtime"
        )
    return runtime


def load_model(path: Path, inference: Inference = Inference()) -> LoadedModel:
    if not path.is_file():
        raise FileNotFoundError(
            f"model file {path} is missing; reinstall the package that ships it "
            "(see models/manifest.json)"
        )
    if resolve(inference.runtime) is Runtime.OPENVINO:
        return _OpenVinoModel(path, inference.threads, inference.full_precision)
    return _OnnxRuntimeModel(path, inference.threads)


class _OpenVinoModel:
    def __init__(self, path: Path, threads: int, full_precision: bool) -> None:
        import openvino  # type: ignore[import-untyped]

        core = openvino.Core()
        self._model = core.read_model(path)
        settings: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads}
        if full_precision:
            settings["INFERENCE_PRECISION_HINT"] = "f32"
        compiled = core.compile_model(self._model, "CPU", settings)
        self._request = compiled.create_infer_request()

    def run(self, inputs: FloatArray) -> FloatArray:
        results: Any = self._request.infer({0: inputs})
        return np.asarray(results[0], np.float32)

    def metadata(self, key: str) -> str | None:
        # OpenVINO keeps an ONNX file's metadata_props under rt_info["framework"].
        if not self._model.has_rt_info(["framework", key]):
            return None
        return str(self._model.get_rt_info(["framework", key]).astype(str))


class _OnnxRuntimeModel:
    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped]

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Detector and recogniser run one after the other, each with its own thread pool. Pool
        # threads spin after a run by default, so the idle pool's threads took half the CPU
        # from the busy one: reading a plate crop took 24 ms instead of 13 on two cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_name = self._session.get_inputs()[0].name

    def run(self, inputs: FloatArray) -> FloatArray:
        (output,) = self._session.run(None, {self._input_name: inputs})
        return np.asarray(output, np.float32)

    def metadata(self, key: str) -> str | None:
        value = self._session.get_modelmeta().custom_metadata_map.get(key)
        return None if value is None else str(value)
