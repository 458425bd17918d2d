"""How many cores this process may use, which ones, and what CPU they are.

``usable_cores()`` is the one answer to "how many cores do I have": the harness's machine
record, advise, the offload pool's default size, DuckDB's thread count and the dashboard all
ask it. In a container limited to 2 CPUs on a 64-core host the affinity set still lists 64
cores; only the cgroup quota says 2, and 64 busy workers there would take turns on 2 CPUs.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Collection
from pathlib import Path

from .cgroup import cpu_limit
from .root import chosen


def affinity_cores() -> list[int]:
    """The cores this process may be scheduled on (every core where there is no affinity API)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # no affinity API (macOS)
        return list(range(os.cpu_count() or 1))


def pin_to_cores(pid: int, cores: Collection[int]) -> bool:
    """Restrict ``pid`` (and the children it starts from now on) to ``cores``; False where the
    system has no affinity API or refuses."""
    try:
        os.sched_setaffinity(pid, cores)
    except (AttributeError, OSError):
        return False
    return True


def usable_cores(root: Path | None = None, affinity: Collection[int] | None = None) -> int:
    """Cores this process may really use: its affinity set, capped by the cgroup CPU quota.

    A fractional quota is rounded up (under a quota of 1.5 CPUs two workers get 1.5 cores
    between them, one only 1), and the answer is at least 1. ``root`` (default
    ``root.HOST_ROOT``) and ``affinity`` replace the kernel's files and the affinity set in tests."""
    allowed = len(affinity_cores() if affinity is None else affinity)
    limit = cpu_limit(root)
    if limit is not None:
        allowed = min(allowed, math.ceil(limit))
    return max(1, allowed)


def cpu_model(root: Path | None = None) -> str:
    """The CPU's model name (``/proc/cpuinfo``; elsewhere what ``platform`` knows)."""
    try:
        for line in (chosen(root) / "proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
