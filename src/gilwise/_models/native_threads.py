"""C++ ``std::thread``: one native call per task splits its range over N native threads.

The orchestrating Python thread waits in a single call with the GIL released; no Python runs
while the threads work. This is the "C/C++ threads" column of the classic table.
"""

from __future__ import annotations

import os
import threading
import time

from .. import _native
from .._pythons.discovery import InterpreterInfo
from .._workloads import TaskOutcome, Workload, get_workload, load_object
from .._workloads.running import ensure_prepared
from ._base import Execution, Job, Model, Phases


class CppThreadsModel(Model):
    name = "cpp-threads"
    summary = "one native call per task, range split over N C++ std::threads (no GIL involved)"
    family = "native-threads"
    needs = "libgilwise_native.so (compiled from native/ when gilwise is installed), loaded through ctypes"

    def available(self, interpreter: InterpreterInfo) -> str | None:
        # The ctypes library has no Python ABI: one build serves every interpreter.
        return _native.unavailable_reason("cpp-threads")

    def supports(self, workload: Workload, impl: str) -> str | None:
        if impl in workload.threaded_impls:
            return None
        offered = ", ".join(workload.threaded_impls) or "none"
        if not workload.threaded_impls:
            return f"{workload.name} has no native threaded kernel"
        return f"it runs {workload.name}'s C kernel: add --impl {offered}"

    def execute(self, job: Job) -> Execution:
        execution = Execution()
        workload = get_workload(job.task.workload)
        kernel = load_object(workload.threaded_impls[job.task.impl])
        ensure_prepared(job.task)
        worker = f"{os.getpid()}:{threading.get_ident()}:std::thread×{job.workers}"
        with Phases(execution).compute():
            for _ in range(job.tasks):
                start = time.perf_counter()
                result = kernel(job.task.size, job.task.params, job.workers)
                execution.outcomes.append(TaskOutcome(result, start, time.perf_counter(), worker))
        execution.notes.append(f"{job.workers} std::threads per call")
        return execution
