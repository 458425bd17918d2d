"""The machine a run happened on: usable cores (affinity and cgroup quota), CPU model, load.

The operating system is asked through ``_system``; this module only fills the document's record."""

from __future__ import annotations

import os
import platform

from .._results.document import Machine
from .._system import cpu_limit, cpu_model, usable_cores


def describe_machine() -> Machine:
    import psutil  # here, not at the top: harness workers (any CPython, stdlib only) import this package

    load1, load5, load15 = os.getloadavg()
    return {
        "usable_cores": usable_cores(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "cgroup_cpu_limit": cpu_limit(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "memory_bytes": psutil.virtual_memory().total,
        "load_average": [load1, load5, load15],
    }
