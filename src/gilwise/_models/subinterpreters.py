"""Sub-interpreters: ``workers`` interpreters in one process, each with its own GIL (PEP 684/734).

Runs on :mod:`gilwise._subinterp.runner` (``InterpreterPoolExecutor`` on 3.14+, the low-level
module on 3.12/3.13). Objects cannot cross interpreters, so each interpreter imports the
workload by name and runs its share of the job's tasks (``gilwise._subinterp.tasks``);
results come back pickled and are checked like every other model's. Start-up (creating the
interpreters, importing the workload, building its inputs) is timed apart from compute.
"""

from __future__ import annotations

import re

from .._exceptions import NativeKernelUnavailable, WorkloadFailed
from .._pythons.discovery import InterpreterInfo
from .._subinterp.runner import Task, TaskFailed, run_tasks, unavailable_reason
from .._workloads import TaskOutcome, get_workload
from ._base import Execution, Job, Model

_TASKS_MODULE = "gilwise._subinterp.tasks"
# CPython's refusal to load a single-phase-init extension into an isolated interpreter.
_INCOMPATIBLE = re.compile(r"module (\S+) does not support loading in subinterpreters")


def split_tasks(tasks: int, workers: int) -> list[int]:
    """``tasks`` spread over ``workers`` interpreters as evenly as possible (none left idle)."""
    base, extra = divmod(tasks, workers)
    return [base + (1 if i < extra else 0) for i in range(workers) if base or i < extra]


class SubinterpreterModel(Model):
    name = "interpreters"
    summary = "one sub-interpreter per worker, each with its own GIL; tasks imported by name"
    family = "interpreters"
    needs = (
        "CPython >= 3.12 with _xxsubinterpreters (3.12) / _interpreters (3.13) or "
        "InterpreterPoolExecutor (3.14+); every extension the workload imports must support them"
    )

    def available(self, interpreter: InterpreterInfo) -> str | None:
        return unavailable_reason(interpreter)

    def execute(self, job: Job) -> Execution:
        ref = job.task
        params = dict(ref.params)
        workload = get_workload(ref.workload)
        task = workload.impls[ref.impl]  # resolved here: the interpreters never load the registry
        tasks = [
            Task(
                _TASKS_MODULE,
                "run_share",
                (task, ref.size, params, count),
                setup="prepare_share",
                setup_args=(task, workload.prepare, ref.size, params),
            )
            for count in split_tasks(job.tasks, job.workers)
        ]
        try:
            run = run_tasks(tasks)
        except WorkloadFailed as exc:
            raise _explain(ref.impl, exc) from exc
        execution = Execution(
            startup_s=run.startup_s, compute_s=run.compute_wall_s, shutdown_s=run.teardown_s
        )
        for outcome in run.outcomes:
            worker, done = outcome.value
            execution.outcomes += [TaskOutcome(result, start, end, worker) for result, start, end in done]
        execution.notes.append(run.backend)
        return execution


def _explain(impl: str, exc: WorkloadFailed) -> Exception:
    """A module that cannot load in a sub-interpreter makes the row unavailable, with the why."""
    text = str(exc)
    found = _INCOMPATIBLE.search(text)
    if found is not None:
        return NativeKernelUnavailable(
            f"impl {impl!r} cannot run in a sub-interpreter: its extension module {found.group(1)} "
            "does not support sub-interpreters with their own GIL (single-phase init, no "
            "Py_mod_multiple_interpreters slot). Use the threads or processes models for it, an "
            "impl without that extension, or a CPython whose build of it supports them."
        )
    if isinstance(exc, TaskFailed) and exc.raised(NativeKernelUnavailable):
        return NativeKernelUnavailable(f"impl {impl!r} cannot run in a sub-interpreter here: {text}")
    return exc
