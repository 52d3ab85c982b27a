"""What every benchmark's last line shares: percentiles that count failures, and the CPU."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path


def cpu() -> dict[str, object]:
    """The CPU's model and avx512 flags, so that figures from different machines are not
    compared as if they were alike."""
    text = Path("/proc/cpuinfo").read_text()
    names = [line for line in text.splitlines() if line.startswith("model name")]
    model = names[0].split(":", 1)[1].strip() if names else "unknown"
    flags = sorted({word for word in text.split() if word.startswith("avx512")})
    return {"cpu_model": model, "cpu_flags_avx512": flags}


def percentile(values_ms: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile; ``math.inf`` stands for a failure (no answer in time), so a
    percentile that lands on a failure is reported as None rather than as a fast figure."""
    if not values_ms:
        return None
    ordered = sorted(values_ms)
    value = ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]
    return None if math.isinf(value) else round(value, 2)


def latency_summary(values_ms: Sequence[float], prefix: str = "") -> dict[str, float | int | None]:
    """Median, p95, p99 and max over every attempt, failures (inf) included and counted."""
    failures = sum(1 for value in values_ms if math.isinf(value))
    finite = [value for value in values_ms if not math.isinf(value)]
    return {
        f"{prefix}median_ms": (
            None if percentile(values_ms, 0.5) is None else round(statistics.median(values_ms), 2)
        ),
        f"{prefix}p95_ms": percentile(values_ms, 0.95),
        f"{prefix}p99_ms": percentile(values_ms, 0.99),
        f"{prefix}max_ms": round(max(finite), 2) if finite else None,
        f"{prefix}attempts": len(values_ms),
        f"{prefix}failures": failures,
    }
