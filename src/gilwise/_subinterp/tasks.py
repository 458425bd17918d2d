"""What the ``interpreters`` model runs inside each sub-interpreter: a share of the job's tasks.

Imported by name in every fresh sub-interpreter, so it imports nothing but the workload
registry (stdlib only; no ctypes, no model table): on CPython 3.12, ``_ctypes`` cannot load in
a sub-interpreter with its own GIL, and importing it here would make every workload fail there.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from .._workloads import TaskRef
from .._workloads._base import ensure_prepared, resolve_task


def prepare_share(workload: str, impl: str, size: int, params: dict[str, Any]) -> None:
    """Start-up, once per interpreter: build the workload's inputs and load its task function.

    Loading the function imports the implementation's modules, so an extension that does not
    support sub-interpreters fails here, before any compute is timed.
    """
    ref = TaskRef(workload, impl, size, params)
    ensure_prepared(ref)
    resolve_task(ref)


def run_share(
    workload: str, impl: str, size: int, params: dict[str, Any], count: int
) -> tuple[str, list[tuple[Any, float, float]]]:
    """Run ``count`` tasks one after another; returns this interpreter's name and, per task,
    ``(result, start, end)`` on the process-wide ``perf_counter`` clock."""
    ref = TaskRef(workload, impl, size, params)
    fn = resolve_task(ref)
    done = []
    for _ in range(count):
        start = time.perf_counter()
        result = fn(size, params)
        done.append((result, start, time.perf_counter()))
    return f"{os.getpid()}:{threading.get_ident()}:subinterpreter", done
