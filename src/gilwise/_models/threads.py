"""Python threads: concurrent.futures.ThreadPoolExecutor, one interpreter, one GIL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from ._base import Execution, Job, Model, Phases, run_batch_on


class ThreadPoolModel(Model):
    name = "threads"
    summary = "ThreadPoolExecutor: shared memory, one GIL for Python bytecode"
    family = "threads"

    def execute(self, job: Job) -> Execution:
        execution = Execution()
        phases = Phases(execution)
        with phases.startup():
            pool = ThreadPoolExecutor(max_workers=job.workers, thread_name_prefix="gilwise")
            # Every thread must exist before compute starts: N tasks meeting at a barrier
            # force the pool to start N threads.
            barrier = threading.Barrier(job.workers)
            for future in [pool.submit(barrier.wait, 60) for _ in range(job.workers)]:
                future.result()
        run_batch_on(pool, job, phases)
        return execution
