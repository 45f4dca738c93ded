"""What every workload reports the same way: min / median / max over runs, package versions, the CPU."""

from __future__ import annotations

import platform
import statistics
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

__all__ = ["cpu_model", "spread", "version"]


def spread(values: Sequence[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
