"""The harness worker protocol: one JSON spec on stdin, one JSON result line on stdout.

Both sides import this module; it is stdlib only (workers may run another CPython, 3.11+).
The messages are typed here once: the orchestrator builds a :class:`WorkerSpec`, the worker
answers with a :class:`CalibrationReport`, a :class:`MeasureReport` or a :class:`FailureReport`.
"""

from __future__ import annotations

import json
from typing import Any, Literal, NotRequired, TypedDict, cast

RESULT_PREFIX = "GILWISE-RESULT "
"""Marks the result line, so output a workload prints cannot be mistaken for it."""

FailureKind = Literal["unavailable", "wrong_answer", "exception", "timeout", "crash"]


class WorkerSpec(TypedDict):
    """What to run: calibrate one task, or measure one cell (model × workers × tasks)."""

    mode: Literal["calibrate", "measure"]
    workload: str
    impl: str
    size: int
    params: dict[str, Any]
    """The workload resource's parameters (a server's port, a database path)."""
    model: NotRequired[str]
    workers: NotRequired[int]
    tasks: NotRequired[int]
    expected: NotRequired[Any]
    """The reference answer every task must reproduce (None: the first task's answer)."""
    dask_scheduler: NotRequired[str]
    """``tcp://HOST:PORT`` of a running Dask cluster for the ``dask`` model."""


class CalibrationReport(TypedDict):
    ok: Literal[True]
    task_s: float
    result: Any


class MeasureReport(TypedDict):
    """One cell measured once. Times from ``perf_counter``, ``window`` from ``monotonic``."""

    ok: Literal[True]
    wall_s: float
    startup_s: float
    compute_s: float
    shutdown_s: float
    task_s_total: float
    critical_path_s: float
    distinct_workers: int
    window: list[float]
    """[start, end] of the measured phase on CLOCK_MONOTONIC (the sampler's clock)."""
    cpu_self_s: float
    cpu_children_s: float
    maxrss_self_bytes: int
    maxrss_children_bytes: int
    spans: list[list[Any]]
    """[worker, start, end] per task, relative to the start of the phase."""
    gil_enabled: bool
    notes: list[str]
    wall_excludes_startup: NotRequired[bool]
    """True for a pool that outlives the batch (a cluster): wall, window and CPU are compute's."""
    own_memory: NotRequired[OwnMemory]
    """The worker process's memory, read by itself just after the window (absent off Linux)."""


class OwnMemory(TypedDict):
    """The harness worker's own memory in bytes, from ``/proc/self`` right after its window.

    Read by the worker itself once the clock has stopped, so the read (it walks the process's
    page tables: milliseconds for a big input) costs no measured cell anything.
    """

    peak_rss: int
    """VmHWM: the kernel's high-water mark, exact whenever the peak happened."""
    rss: int
    """VmRSS when read."""
    pss: int | None
    uss: int | None
    """PSS and USS when read (None where the kernel has no smaps_rollup)."""


class FailureReport(TypedDict):
    ok: Literal[False]
    kind: FailureKind
    error: str
    traceback: NotRequired[str]


CalibrationReply = CalibrationReport | FailureReport
MeasureReply = MeasureReport | FailureReport
WorkerReply = CalibrationReport | MeasureReport | FailureReport


def failure(kind: FailureKind, error: str) -> FailureReport:
    return {"ok": False, "kind": kind, "error": error}


def encode_result(data: WorkerReply) -> str:
    return RESULT_PREFIX + json.dumps(data, separators=(",", ":"))


def decode_result(stdout: str) -> WorkerReply | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return cast(WorkerReply, json.loads(line[len(RESULT_PREFIX) :]))
    return None


def normalize(value: Any) -> Any:
    """A result as it looks after a JSON round trip (tuples become lists)."""
    return json.loads(json.dumps(value))
