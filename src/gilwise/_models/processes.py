"""Python processes: ProcessPoolExecutor under each multiprocessing start method."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any, ClassVar

from .._pythons.discovery import InterpreterInfo
from .._workloads import TaskRef
from .._workloads.running import ensure_prepared
from ._base import Execution, Job, Model, Phases, run_batch_on

_start_barrier: Any = None


def _init_worker(barrier: Any, task: TaskRef) -> None:
    """Runs in each pool process at start: build inputs here, so start-up pays for it."""
    global _start_barrier
    _start_barrier = barrier
    ensure_prepared(task)


def _wait_started() -> None:
    _start_barrier.wait(120)


class ProcessPoolModel(Model):
    family = "processes"
    starts_processes = True
    start_method: ClassVar[str | None] = None
    """None: the interpreter's default start method."""

    def available(self, interpreter: InterpreterInfo) -> str | None:
        method = self.start_method
        if method is not None and method not in interpreter.start_methods:
            return (
                f"start method {method!r} does not exist on this platform "
                f"(available: {', '.join(interpreter.start_methods)})"
            )
        return None

    def execute(self, job: Job) -> Execution:
        execution = Execution()
        phases = Phases(execution)
        method = self.start_method or multiprocessing.get_start_method()
        context = multiprocessing.get_context(method)
        execution.notes.append(f"start method {method}")
        with phases.startup():
            barrier = context.Barrier(job.workers)
            pool = ProcessPoolExecutor(
                max_workers=job.workers,
                mp_context=context,
                initializer=_init_worker,
                initargs=(barrier, job.task),
            )
            # Start-up ends when every worker process is up and has built its inputs.
            for future in [pool.submit(_wait_started) for _ in range(job.workers)]:
                future.result()
        run_batch_on(pool, job, phases)
        return execution


class DefaultProcessPoolModel(ProcessPoolModel):
    name = "processes"
    summary = "ProcessPoolExecutor with the platform's default start method"


class ForkProcessPoolModel(ProcessPoolModel):
    name = "processes-fork"
    summary = "ProcessPoolExecutor, fork: children copy-on-write the parent's memory"
    start_method = "fork"
    needs = "the fork start method (POSIX)"


class ForkserverProcessPoolModel(ProcessPoolModel):
    name = "processes-forkserver"
    summary = "ProcessPoolExecutor, forkserver: children forked from a clean server process"
    start_method = "forkserver"
    needs = "the forkserver start method (POSIX)"


class SpawnProcessPoolModel(ProcessPoolModel):
    name = "processes-spawn"
    summary = "ProcessPoolExecutor, spawn: each child a fresh interpreter that re-imports"
    start_method = "spawn"
    needs = "the spawn start method (every platform)"
