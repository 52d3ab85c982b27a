"""Running one of the shipped ONNX files on the CPU, with OpenVINO or onnxruntime.

Both runtimes read the same ONNX files. The precision is the box's choice (`[video] precision`),
never the CPU's: OpenVINO would otherwise compute in bfloat16 on x86 CPUs with AVX512-BF16 or
AMX, which a Raspberry-Pi-class box does not have, and figures measured so would not hold on
the box. So OpenVINO is always told INFERENCE_PRECISION_HINT=f32, and the speed comes from the
INT8 text detector (models.quantise, an OpenVINO IR run by OpenVINO only) where the CPU has
dot-product instructions (AVX-VNNI, AVX512-VNNI, ARMv8.2 dotprod): `choose_precision`; without
them int8 convolutions ran slower than float32 (onnxruntime, Zen-1: FIELD_NOTES).
`LoadedModel.precision()` asks the runtime what it actually
computes in (OpenVINO: its compiled model's precision hint and each convolution's runtime
precision), for the figures.

In float32 OpenVINO and onnxruntime give the same outputs (tests/integration/models/
test_runtime.py); onnxruntime stays as the reference and fallback.

Input shapes stay dynamic: the recogniser's width follows each crop and the detector's size
follows the frame, the motion region and the rung. OpenVINO plans a shape the first time it
sees it (20-70 ms once) and keeps the plan, so the box plans its shapes at start
(models.pipeline.PlateReader.warm_up, edge.video.VideoPipeline.warm_up). A box short of
memory runs onnxruntime (`[video] runtime`).
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


class Precision(StrEnum):
    """What the models compute in; never bfloat16 (see the module doc)."""

    AUTO = "auto"  # int8 where the int8 detector ships and the CPU has dot products, else f32
    F32 = "f32"
    INT8 = "int8"  # the text detector quantised (models.quantise); the recogniser in f32


# /proc/cpuinfo flags of the dot-product instructions INT8 convolutions need to pay: x86's
# AVX512-VNNI and AVX-VNNI, ARMv8.2's dotprod ("asimddp" in the Features line).
DOT_PRODUCT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "asimddp"})
# Flags quoted with every timing: vector width, dot products, bfloat16/float16, AMX.
_RELEVANT_FLAG = re.compile(r"avx2|avx512\w*|avx_vnni\w*|amx\w*|\w*bf16|asimd\w*|fphp|i8mm|sve\w*")


def choose_precision(requested: Precision, int8_shipped: bool, cpu: frozenset[str]) -> Precision:
    """The precision the models run in: `requested`, or for AUTO int8 only where it pays (the
    int8 model ships for the runtime chosen and the CPU has dot-product instructions), else
    float32."""
    if requested is Precision.AUTO:
        return Precision.INT8 if int8_shipped and cpu & DOT_PRODUCT_FLAGS else Precision.F32
    if requested is Precision.INT8 and not int8_shipped:
        raise RuntimeError(
            "int8 precision was asked for but no int8 text detector is installed for this "
            "runtime (models/manifest.json, text_detector_int8: OpenVINO only); choose "
            "precision f32 or auto"
        )
    return requested


def relevant_flags(cpu: frozenset[str]) -> list[str]:
    """The CPU flags that decide the models' speed, sorted."""
    return sorted(flag for flag in cpu if _RELEVANT_FLAG.fullmatch(flag))


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags (x86 "flags", ARM "Features"); empty where the file is absent."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags.update(value.split())
    return frozenset(flags)


class Runtime(StrEnum):
    AUTO = "auto"  # OpenVINO when installed, else onnxruntime
    OPENVINO = "openvino"
    ONNXRUNTIME = "onnxruntime"


@dataclass(frozen=True)
class Inference:
    """How a model runs: the runtime and its CPU threads (always in the file's precision,
    float32 where the file has no int8 layers)."""

    runtime: Runtime = Runtime.AUTO
    threads: int = 2


class LoadedModel(Protocol):
    """A model of one float32 input and one float32 output, ready to run."""

    def run(self, inputs: FloatArray) -> FloatArray: ...

    def metadata(self, key: str) -> str | None:
        """A value of the ONNX file's metadata_props, or None when the file has no such key."""
        ...

    def precision(self) -> dict[str, object]:
        """What the runtime computes the model in, as it reports it."""
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
        return _OpenVinoModel(path, inference.threads)
    if path.suffix == ".xml":
        raise RuntimeError(
            f"{path.name} is an OpenVINO model (the int8 text detector), which onnxruntime "
            "cannot run; choose the openvino runtime or precision f32"
        )
    return _OnnxRuntimeModel(path, inference.threads)


# OpenVINO's CPU plugin keeps the kernels it built for each input shape in a cache of this
# many entries (5,000 by default). The box runs some 25 shapes (rungs, motion regions, crop
# widths), but the default let the cache grow with every plan: bench/recognition.py at
# 1280x720 peaked at 684 MB resident with the default, 550 MB with 200 entries at the same
# speed (54 frames/s and 48 ms per read against 47 and 55: run-to-run noise), 529 MB with 50
# entries at 10% less speed, 515 MB with none at 20% less (every shape planned again).
# Measured 2026-12-07, quiet 2-core EPYC, int8 detector.
RUNTIME_CACHE_CAPACITY = 200


class _OpenVinoModel:
    def __init__(self, path: Path, threads: int) -> None:
        import openvino  # type: ignore[import-untyped]

        core = openvino.Core()
        self._model = core.read_model(path)
        # float32 wherever the file is not int8: never the CPU's bfloat16 or float16 default.
        settings: dict[str, Any] = {
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": threads,
            "INFERENCE_PRECISION_HINT": "f32",
            "CPU_RUNTIME_CACHE_CAPACITY": RUNTIME_CACHE_CAPACITY,
        }
        self._compiled = core.compile_model(self._model, "CPU", settings)
        self._request = self._compiled.create_infer_request()

    def run(self, inputs: FloatArray) -> FloatArray:
        results: Any = self._request.infer({0: inputs})
        return np.asarray(results[0], np.float32)

    def metadata(self, key: str) -> str | None:
        # OpenVINO keeps an ONNX file's metadata_props under rt_info["framework"].
        if not self._model.has_rt_info(["framework", key]):
            return None
        return str(self._model.get_rt_info(["framework", key]).astype(str))

    def precision(self) -> dict[str, object]:
        """The compiled model's precision hint and the runtime precision of its convolutions
        (u8/i8: int8 kernels ran them)."""
        convolutions: Counter[str] = Counter()
        for op in self._compiled.get_runtime_model().get_ordered_ops():
            info = op.get_rt_info()
            if "onvolution" in info["layerType"].astype(str):
                convolutions[info["runtimePrecision"].astype(str)] += 1
        hint = self._compiled.get_property("INFERENCE_PRECISION_HINT")
        return {"hint": str(hint.get_type_name()), "convolutions": dict(convolutions)}


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

    def precision(self) -> dict[str, object]:
        # onnxruntime's CPU provider computes the shipped float files in float32 and reports
        # nothing more (it is given no int8 file: see load_model).
        return {"hint": "f32"}
