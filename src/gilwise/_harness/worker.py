"""Harness worker: measures one cell in a fresh process and reports it as JSON.

Run as ``python -m gilwise._harness.worker`` with the spec on stdin. Stdlib only. Nothing else runs
in this process while it measures: no sampler thread, no reporting; the orchestrator samples
per-core CPU from outside.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import sys
import time
import traceback
from typing import Any

from .._exceptions import NativeKernelUnavailable
from .._models import Execution, Job, get_model
from .._system import process_memory
from .._system.lifetime import die_with_parent
from .._workloads import TaskOutcome, TaskRef, get_workload, run_task, warm_task
from .protocol import (
    CalibrationReport,
    FailureReport,
    MeasureReport,
    OwnMemory,
    WorkerReply,
    WorkerSpec,
    encode_result,
    failure,
    normalize,
)


def _rusage() -> tuple[float, float, int, int]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime, me.ru_maxrss, kids.ru_maxrss)


def _own_memory() -> OwnMemory | None:
    """This process's peak and current RSS, PSS and USS (Linux ``/proc/self``), else None."""
    memory = process_memory("self")
    if memory is None:
        return None
    return {"peak_rss": memory.peak_rss, "rss": memory.rss, "pss": memory.pss, "uss": memory.uss}


def _gil_enabled() -> bool:
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


def _stop_forkserver() -> None:
    """Reap the forkserver so the CPU of the processes it forked is counted (RUSAGE_CHILDREN)."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if callable(stop):
        stop()


def _verify(outcomes: list[TaskOutcome], verify: Any, expected: Any) -> str | None:
    if expected is None:
        expected = normalize(outcomes[0].result)
    for index, outcome in enumerate(outcomes):
        problem = verify(normalize(outcome.result), expected)
        if problem is not None:
            return f"task {index} returned a wrong answer: {problem}"
    return None


def calibrate(spec: WorkerSpec) -> CalibrationReport:
    """Time one task at ``size`` (after a warm-up) and return its result."""
    ref = TaskRef(spec["workload"], spec["impl"], spec["size"], spec["params"])
    warm_task(ref)
    outcome = run_task(ref)
    return {"ok": True, "task_s": outcome.end - outcome.start, "result": normalize(outcome.result)}


def measure(spec: WorkerSpec) -> MeasureReport | FailureReport:
    workload = get_workload(spec["workload"])
    ref = TaskRef(spec["workload"], spec["impl"], spec["size"], spec["params"])
    model = get_model(spec["model"])
    job = Job(
        task=ref,
        tasks=spec["tasks"],
        workers=spec["workers"],
        async_impl=workload.async_impls.get(spec["impl"]) if spec["model"] == "asyncio" else None,
        dask_scheduler=spec.get("dask_scheduler"),
    )
    warm_task(ref)
    cpu0_self, cpu0_kids, _, _ = _rusage()
    window0 = time.monotonic()
    t0 = time.perf_counter()
    execution: Execution = model.execute(job)
    wall = time.perf_counter() - t0
    window1 = time.monotonic()
    if multiprocessing.get_start_method(allow_none=True) == "forkserver" or "forkserver" in spec["model"]:
        _stop_forkserver()
    cpu1_self, cpu1_kids, rss_self, rss_kids = _rusage()
    cpu_self, cpu_kids = cpu1_self - cpu0_self, cpu1_kids - cpu0_kids
    if execution.running_pool and execution.compute_window is not None:
        # A cluster outlives the batch: the cell is the work on the running cluster.
        wall, (window0, window1) = execution.compute_s, execution.compute_window
        cpu_self, cpu_kids = execution.compute_cpu_self_s, execution.compute_cpu_others_s
    # After the clock stopped, while the cell's data is still alive: the read walks this
    # process's page tables (3.5 ms for a 64 MiB input), which the orchestrator reading it
    # mid-compute charged to the cell.
    own_memory = _own_memory()
    problem = _verify(execution.outcomes, workload.verify, spec.get("expected"))
    if problem is not None:
        return failure("wrong_answer", problem)
    by_worker: dict[str, float] = {}
    spans = []
    for outcome in execution.outcomes:
        by_worker[outcome.worker] = by_worker.get(outcome.worker, 0.0) + outcome.end - outcome.start
        spans.append([outcome.worker, outcome.start - t0, outcome.end - t0])
    report: MeasureReport = {
        "ok": True,
        "wall_s": wall,
        "startup_s": execution.startup_s,
        "compute_s": execution.compute_s,
        "shutdown_s": execution.shutdown_s,
        "task_s_total": sum(by_worker.values()),
        "critical_path_s": max(by_worker.values()) if by_worker else 0.0,
        "distinct_workers": len(by_worker),
        "window": [window0, window1],
        "cpu_self_s": cpu_self,
        "cpu_children_s": cpu_kids,
        "maxrss_self_bytes": rss_self * 1024,
        "maxrss_children_bytes": rss_kids * 1024,
        "spans": spans,
        "gil_enabled": _gil_enabled(),
        "notes": execution.notes,
        "wall_excludes_startup": execution.running_pool,
    }
    if own_memory is not None:
        report["own_memory"] = own_memory
    return report


def main() -> int:
    die_with_parent()  # a SIGKILLed orchestrator must not leave a cell computing for no one
    spec: WorkerSpec = json.loads(sys.stdin.read())
    data: WorkerReply
    try:
        data = calibrate(spec) if spec["mode"] == "calibrate" else measure(spec)
    except NativeKernelUnavailable as exc:  # this interpreter cannot run that implementation
        data = failure("unavailable", str(exc))
    except BaseException as exc:  # report every failure as data; the orchestrator decides
        data = {
            "ok": False,
            "kind": "exception",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8),
        }
    sys.stdout.write(encode_result(data) + "\n")
    sys.stdout.flush()
    return 0 if data["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
