"""Dask distributed: the batch's tasks on a real Dask cluster (scheduler + worker processes).

By default a ``LocalCluster`` of ``workers`` single-threaded worker processes (each under a
nanny) is created inside the harness worker; ``Job.dask_scheduler`` (``--dask-scheduler
tcp://HOST:PORT``) connects to a running cluster instead and uses ``workers`` of its worker
threads. A cluster outlives one batch, so the cell is the work on the running cluster:
creating the cluster (or connecting, importing ``distributed``, building inputs on every
worker) is the start-up phase, closing it the shutdown phase, and wall time, CPU and the
sampled window are the compute phase's (``Execution.running_pool``).

The module is named so that it cannot shadow the ``dask`` package; ``distributed`` is
imported inside ``execute`` only, since harness workers are stdlib-only at import.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import socket
import subprocess
import sys
import time
from typing import Any

from .._exceptions import WorkloadFailed
from .._extras import install_command
from .._pythons.discovery import InterpreterInfo
from .._workloads import TaskRef, run_task
from .._workloads.running import ensure_prepared, resolve_task
from ._base import Execution, Job, Model, Phases

INSTALL_HINT = install_command("dask")
"""The exact command that installs what this model needs (the ``dask`` extra)."""
CONNECT_TIMEOUT_S = 20.0

_importable: dict[str, bool] = {}


def distributed_importable(python: str) -> bool:
    """Whether ``import distributed`` works under ``python`` (probed in that interpreter)."""
    resolved = os.path.realpath(python)
    if resolved not in _importable:
        if resolved == os.path.realpath(sys.executable):
            _importable[resolved] = importlib.util.find_spec("distributed") is not None
        else:
            probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('distributed') is None)"
            try:
                proc = subprocess.run([python, "-c", probe], capture_output=True, timeout=60, check=False)
                _importable[resolved] = proc.returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                _importable[resolved] = False
    return _importable[resolved]


def prepare_worker(ref: TaskRef) -> str:
    """Runs once on every Dask worker at start-up: import the task and build its inputs, so
    the compute phase measures tasks, not imports. Returns the worker's host name."""
    ensure_prepared(ref)
    resolve_task(ref)
    return socket.gethostname()


def worker_cpu_s() -> tuple[str, float]:
    """CPU seconds this Dask worker process used so far, and its host name."""
    return socket.gethostname(), time.process_time()


class DaskModel(Model):
    name = "dask"
    summary = "Dask distributed: a LocalCluster of worker processes, or --dask-scheduler ADDR"
    family = "cluster"
    starts_processes = True
    needs = f"Dask distributed in the worker's interpreter (the dask extra: `{INSTALL_HINT}`)"

    def available(self, interpreter: InterpreterInfo) -> str | None:
        if distributed_importable(interpreter.path):
            return None
        return (
            f"Dask distributed is not installed for {interpreter.path}: install the dask extra "
            f"with `{INSTALL_HINT}`"
        )

    def execute(self, job: Job) -> Execution:
        execution = Execution(running_pool=True)
        phases = Phases(execution)
        with contextlib.ExitStack() as stack:
            with phases.startup():
                client, addresses = self._connect(job, stack, execution)
                everyone = set(client.scheduler_info(n_workers=-1)["workers"])
                # Restrict only to a subset: restricted tasks skip the scheduler's queue.
                where: dict[str, Any] = (
                    {} if set(addresses) == everyone else {"workers": addresses, "allow_other_workers": False}
                )
                hosts = client.run(prepare_worker, job.task, workers=addresses)
            local = {a for a, host in hosts.items() if host == socket.gethostname()}
            cpu0 = client.run(worker_cpu_s, workers=addresses)
            self0 = time.process_time()
            with phases.compute():
                # Unique keys: identical calls would otherwise share one key and run once.
                futures = [
                    client.submit(run_task, job.task, key=f"gilwise-{i}-{os.urandom(6).hex()}", **where)
                    for i in range(job.tasks)
                ]
                execution.outcomes = client.gather(futures)
            execution.compute_cpu_self_s = time.process_time() - self0
            cpu1 = client.run(worker_cpu_s, workers=addresses)
            # Workers on other machines did not load this one's cores: their CPU is a note.
            execution.compute_cpu_others_s = sum(cpu1[a][1] - cpu0[a][1] for a in local)
            remote = sum(cpu1[a][1] - cpu0[a][1] for a in addresses if a not in local)
            if remote:
                execution.notes.append(f"{remote:.2f} CPU-s on workers of other hosts")
            del futures
            with phases.shutdown():
                stack.close()
        return execution

    def _connect(self, job: Job, stack: contextlib.ExitStack, execution: Execution) -> tuple[Any, list[str]]:
        import dask
        import distributed

        if job.dask_scheduler is None:
            # The cluster's own scheduler: a dead worker's task is not re-run behind the
            # caller's back, and each worker holds only the task it runs.
            stack.enter_context(
                dask.config.set(
                    {
                        "distributed.scheduler.allowed-failures": 0,
                        "distributed.scheduler.worker-saturation": 1.0,
                    }
                )
            )
            # distributed's constructors carry no annotations (hence the no-untyped-call ignores).
            cluster = stack.enter_context(
                distributed.LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=job.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",  # never the fixed :8787 another program may hold
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(
                distributed.Client(cluster, set_as_default=False)  # type: ignore[no-untyped-call]
            )
            client.wait_for_workers(job.workers, timeout=120)
            addresses = sorted(client.scheduler_info()["workers"])
            execution.notes.append(f"LocalCluster, {job.workers} processes × 1 thread")
        else:
            try:
                client = stack.enter_context(
                    distributed.Client(  # type: ignore[no-untyped-call]
                        job.dask_scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False
                    )
                )
            except (OSError, TimeoutError) as exc:
                raise WorkloadFailed(
                    f"cannot connect to the Dask scheduler at {job.dask_scheduler} within "
                    f"{CONNECT_TIMEOUT_S:g} s ({exc}). Check the address (`dask scheduler` prints it) "
                    "and that this machine can reach it."
                ) from exc
            addresses = _choose_workers(client, job.workers, job.dask_scheduler)
            execution.notes.append(f"scheduler {job.dask_scheduler}: {len(addresses)} workers")
        return client, addresses


def _choose_workers(client: Any, wanted: int, address: str) -> list[str]:
    """``wanted`` worker threads of a running cluster (whole workers, by address)."""
    info = client.scheduler_info(n_workers=-1)["workers"]
    chosen: list[str] = []
    threads = 0
    for addr in sorted(info):
        if threads >= wanted:
            break
        chosen.append(addr)
        threads += int(info[addr]["nthreads"])
    if threads != wanted:
        layout = ", ".join(f"{a} ({info[a]['nthreads']} threads)" for a in sorted(info)) or "no workers"
        raise WorkloadFailed(
            f"a run with {wanted} workers needs exactly {wanted} worker threads, but the cluster at "
            f"{address} has {layout}. Start workers with `dask worker {address} --nthreads 1` until it has "
            f"{wanted}, or pick a worker count that whole workers add up to."
        )
    return chosen
