"""asyncio: coroutines on one event loop for I/O; ``asyncio.to_thread`` for blocking calls."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .._workloads import TaskOutcome, TaskRef, load_object, run_task
from .._workloads.running import ensure_prepared
from ._base import Execution, Job, Model, Phases


async def _run_coroutine(fn: Any, ref: TaskRef, gate: asyncio.Semaphore) -> TaskOutcome:
    async with gate:
        start = time.perf_counter()
        result = await fn(ref.size, ref.params)
        end = time.perf_counter()
    return TaskOutcome(result, start, end, f"{os.getpid()}:{threading.get_ident()}:loop")


class AsyncioModel(Model):
    name = "asyncio"
    summary = "one event loop: coroutines for I/O (at most `workers` in flight), to_thread for blocking code"
    family = "asyncio"

    def execute(self, job: Job) -> Execution:
        execution = Execution()
        phases = Phases(execution)
        with phases.startup():
            loop = asyncio.new_event_loop()
            executor: ThreadPoolExecutor | None = None
            if job.async_impl is None:
                # to_thread uses the loop's default executor: size it to `workers`.
                executor = ThreadPoolExecutor(max_workers=job.workers, thread_name_prefix="gilwise")
                loop.set_default_executor(executor)
                execution.notes.append("to_thread")
            else:
                execution.notes.append("coroutines")
                ensure_prepared(job.task)
        try:
            with phases.compute():
                execution.outcomes = loop.run_until_complete(self._batch(job))
        finally:
            with phases.shutdown():
                loop.run_until_complete(loop.shutdown_default_executor())
                loop.close()
        return execution

    async def _batch(self, job: Job) -> list[TaskOutcome]:
        if job.async_impl is None:
            return list(
                await asyncio.gather(*(asyncio.to_thread(run_task, job.task) for _ in range(job.tasks)))
            )
        fn = load_object(job.async_impl)
        gate = asyncio.Semaphore(job.workers)
        return list(await asyncio.gather(*(_run_coroutine(fn, job.task, gate) for _ in range(job.tasks))))
