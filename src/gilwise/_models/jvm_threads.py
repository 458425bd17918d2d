"""JVM threads: the sqrt_log loop in Java, each task's range split over N platform threads.

The JVM's answer to the GIL question (the FAQ's Ktor comparison): threads that run bytecode in
parallel with no interpreter lock. Like ``cpp-threads`` it runs under the workload's ``jvm`` impl,
whose serial row (the same Java loop on one JVM thread) is the baseline of its speedup.

Each cell starts its own JVM, so its start-up is measured rather than hidden: start-up is the
JVM process start until SqrtLog prints "ready", which it does once HotSpot has compiled the
loop (the harness warms every impl before timing it, the serial ``jvm`` row included).
Compute is the time inside Java (``System.nanoTime`` around each task's threads), added over
the tasks; the calls' wall times, pipe included, are the task spans.
"""

from __future__ import annotations

import os
import time

from .. import _native
from .._native import _jvm
from .._pythons.discovery import InterpreterInfo
from .._workloads import TaskOutcome, Workload
from ._base import Execution, Job, Model, Phases

JVM_IMPL = "jvm"


class JvmThreadsModel(Model):
    name = "jvm-threads"
    summary = "the loop in Java: one JVM per cell, each task split over N platform threads (no GIL)"
    family = "jvm-threads"
    starts_processes = True
    needs = (
        f"a JDK: java and javac (`{_jvm.INSTALL_HINT}`); SqrtLog.java is compiled on first use "
        "into gilwise's cache"
    )

    def available(self, interpreter: InterpreterInfo) -> str | None:
        # The JVM is a child process: any CPython drives it the same way.
        return _native.unavailable_reason(JVM_IMPL)

    def supports(self, workload: Workload, impl: str) -> str | None:
        if impl == JVM_IMPL and JVM_IMPL in workload.impls:
            return None
        if JVM_IMPL not in workload.impls:
            return f"{workload.name} has no Java kernel"
        return f"it runs {workload.name}'s Java kernel: add --impl {JVM_IMPL}"

    def execute(self, job: Job) -> Execution:
        execution = Execution()
        phases = Phases(execution)
        size = job.task.size
        with phases.startup():
            session = _jvm.JvmSession()
        try:
            worker = f"{os.getpid()}:jvm {session.pid}:{job.workers} platform threads"
            for _ in range(job.tasks):
                start = time.perf_counter()
                answer = session.run(size, job.workers)
                execution.outcomes.append(TaskOutcome(answer.result, start, time.perf_counter(), worker))
                execution.compute_s += answer.compute_s
        finally:
            with phases.shutdown():
                session.close()
        execution.notes.append(f"{job.workers} JVM platform threads per task")
        return execution
