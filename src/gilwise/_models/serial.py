"""The baseline: every task one after another on the main thread."""

from __future__ import annotations

from .._workloads import run_task
from ._base import Execution, Job, Model, Phases


class SerialModel(Model):
    name = "serial"
    summary = "one task after another on one thread (the baseline every speedup divides)"
    family = "serial"
    parallel = False

    def execute(self, job: Job) -> Execution:
        execution = Execution()
        with Phases(execution).compute():
            execution.outcomes = [run_task(job.task) for _ in range(job.tasks)]
        return execution
