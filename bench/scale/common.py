"""What every scale benchmark shares: the machine it ran on, percentiles, timing."""

from __future__ import annotations

import os
import platform
import resource
import time
from pathlib import Path


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    import sqlite3
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": ram, "machine": platform.machine(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def percentiles(values: list[float], ps=(50, 95, 99)) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    out = {}
    for p in ps:  # nearest-rank
        k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
        out[f"p{p}"] = ordered[k]
    return out


def ratio(value: float, reference: float) -> float | None:
    """value / reference to two places; None when the reference rounds to nothing (tiny smoke runs)."""
    return round(value / reference, 2) if reference > 0 else None


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def peak_rss_mb(children: bool = False) -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return round(usage.ru_maxrss / 1024, 1)  # Linux: kilobytes


class Timer:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
