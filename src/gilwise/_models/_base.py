"""The model protocol: how one concurrency model runs a batch of independent tasks.

``available()`` runs in the orchestrator; ``execute()`` runs inside a fresh harness worker process
(stdlib only, any CPython) and times its own phases with ``perf_counter``. Models return
records, never text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ClassVar

from .._pythons.discovery import InterpreterInfo
from .._workloads import TaskOutcome, TaskRef, Workload, run_task


@dataclass(frozen=True)
class Job:
    """One measured batch: ``tasks`` copies of ``task`` spread over ``workers``."""

    task: TaskRef
    tasks: int
    workers: int
    async_impl: str | None = None
    """``"module:coroutine"`` when the workload has a native asyncio implementation."""
    dask_scheduler: str | None = None
    """``tcp://HOST:PORT`` of a running Dask cluster (the ``dask`` model; None: a LocalCluster)."""


@dataclass
class Execution:
    """What a model measured: phase times (seconds) and every task's outcome."""

    startup_s: float = 0.0
    compute_s: float = 0.0
    shutdown_s: float = 0.0
    outcomes: list[TaskOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    running_pool: bool = False
    """The pool outlives one batch (a cluster): the cell's wall time, window and CPU are the
    compute phase's (below); start-up and shutdown are reported beside it, not in it."""
    compute_window: tuple[float, float] | None = None
    """[start, end] of the compute phase on CLOCK_MONOTONIC (the sampler's clock)."""
    compute_cpu_self_s: float = 0.0
    """With ``running_pool``: CPU of this process during the compute phase."""
    compute_cpu_others_s: float = 0.0
    """With ``running_pool``: CPU of the pool's processes on this machine during compute."""


class Phases:
    """Times the start-up / compute / shutdown phases of one execution."""

    def __init__(self, execution: Execution) -> None:
        self.execution = execution

    @contextmanager
    def startup(self) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.execution.startup_s += time.perf_counter() - t0

    @contextmanager
    def compute(self) -> Iterator[None]:
        w0, t0 = time.monotonic(), time.perf_counter()
        yield
        self.execution.compute_s += time.perf_counter() - t0
        self.execution.compute_window = (w0, time.monotonic())

    @contextmanager
    def shutdown(self) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.execution.shutdown_s += time.perf_counter() - t0


def run_batch_on(pool: Executor, job: Job, phases: Phases) -> None:
    """Compute phase on a started executor: submit every task, gather in order; then shut down."""
    try:
        with phases.compute():
            futures = [pool.submit(run_task, job.task) for _ in range(job.tasks)]
            phases.execution.outcomes = [f.result() for f in futures]
    finally:
        with phases.shutdown():
            pool.shutdown(wait=True, cancel_futures=True)


class Model:
    """Base class of every concurrency model (see the module docstring)."""

    name: ClassVar[str]
    summary: ClassVar[str]
    family: ClassVar[str]
    """Column of the classic comparison table: serial, threads, processes, asyncio, native, ..."""
    needs: ClassVar[str] = "any CPython 3.11+"
    """What it takes to run, in words (``gilwise doctor`` shows it beside ``available()``)."""
    parallel: ClassVar[bool] = True
    """False for the serial baseline (workers is ignored, always 1)."""
    starts_processes: ClassVar[bool] = False
    """True when the model runs its work in processes it starts (a pool, a JVM, a cluster):
    the harness then reads their memory while they compute. A model that runs in the harness
    worker's own process needs no read during the cell (the worker reports its own memory after
    the clock stops)."""

    def available(self, interpreter: InterpreterInfo) -> str | None:
        """None when usable under ``interpreter``, else the human reason it is not."""
        return None

    def supports(self, workload: Workload, impl: str) -> str | None:
        """None when this model can run ``impl`` of ``workload``, else why not."""
        return None

    def execute(self, job: Job) -> Execution:
        raise NotImplementedError


ModelFactory = Callable[[], Model]
