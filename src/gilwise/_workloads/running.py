"""Running one task where it is called (a thread, a process, a sub-interpreter): build the
workload's inputs once per process, resolve the implementation by name, time the call inside.

Above ``registry`` (it looks workloads up by name) and ``_base`` (the types); the models call it.
Stdlib-only, like them: it runs in harness workers and pool children under any CPython.
"""

from __future__ import annotations

import os
import threading
import time

from ._base import TaskFn, TaskOutcome, TaskRef, load_object
from .registry import get_workload

_prepared: dict[tuple[str, int], bool] = {}
_prepare_lock = threading.Lock()


def ensure_prepared(ref: TaskRef) -> None:
    """Build the workload's inputs once per process (e.g. a large buffer)."""
    workload = get_workload(ref.workload)
    if workload.prepare is None:
        return
    key = (ref.workload, ref.size)
    with _prepare_lock:
        if key not in _prepared:
            load_object(workload.prepare)(ref.size, ref.params)
            _prepared[key] = True


def resolve_task(ref: TaskRef) -> TaskFn:
    fn: TaskFn = load_object(get_workload(ref.workload).impls[ref.impl])
    return fn


def run_task(ref: TaskRef) -> TaskOutcome:
    """Run one task where this is called (a thread, a process, a sub-interpreter), timed inside."""
    ensure_prepared(ref)
    fn = resolve_task(ref)
    start = time.perf_counter()
    result = fn(ref.size, ref.params)
    end = time.perf_counter()
    return TaskOutcome(result, start, end, f"{os.getpid()}:{threading.get_ident()}")


def warm_task(ref: TaskRef) -> None:
    """Untimed warm-up: prepare inputs and run the task once at a small size."""
    ensure_prepared(ref)
    fn = resolve_task(ref)
    fn(max(1, ref.size // 50) if _size_scales(ref) else ref.size, ref.params)


def _size_scales(ref: TaskRef) -> bool:
    workload = get_workload(ref.workload)
    return workload.calibrate and workload.prepare is None
