"""The machine a run happened on: usable cores (affinity and cgroup quota), CPU model, load."""

from __future__ import annotations

import math
import os
import platform
from pathlib import Path

from .._results.document import Machine


def cgroup_cpu_limit() -> float | None:
    """CPUs allowed by the cgroup v2 (cpu.max) or v1 (cfs quota) limit; None when unlimited."""
    v2 = Path("/sys/fs/cgroup/cpu.max")
    try:
        if v2.exists():
            quota, period = v2.read_text().split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        quota_file = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
        if quota_file.exists():
            quota_us = int(quota_file.read_text())
            period_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
            return None if quota_us <= 0 else quota_us / period_us
    except (OSError, ValueError):
        return None
    return None


def usable_cores() -> int:
    """Cores this process may really use: affinity mask, capped by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    if limit is not None:
        cores = min(cores, max(1, math.floor(limit)))
    return max(1, cores)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine() -> Machine:
    import psutil  # here, not at the top: harness workers (any CPython, stdlib only) import this package

    load1, load5, load15 = os.getloadavg()
    return {
        "usable_cores": usable_cores(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "cgroup_cpu_limit": cgroup_cpu_limit(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "memory_bytes": psutil.virtual_memory().total,
        "load_average": [load1, load5, load15],
    }
