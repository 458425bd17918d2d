"""A real Dask cluster for the tests: ``dask scheduler`` and ``dask worker`` as separate processes.

As on a real cluster, each is its own process (own session, so stopping one stops its whole
tree), started from this venv's python with PYTHONPATH reaching gilwise and the test task
modules, bound to 127.0.0.1 on free ports the OS picks (scheduler file, ``--port 0``). Each
dies with the process that started it (``PR_SET_PDEATHSIG``): a test run that is killed
(timeout, Ctrl-C twice, SIGKILL) leaves no scheduler or worker running for hours.
Shared by tests/dask/ and tests/service/ (hence here, on both folders' import path).
The scheduler runs with the settings gilwise's docs recommend for its clusters:
``allowed-failures: 0`` (a dead worker's task is not re-run behind the caller's back) and
``worker-saturation: 1.0`` (a worker holds only the task it runs).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
TASKS = HERE / "dask"
"""Where ``dask_tasks`` (the functions tests/dask/ runs on the cluster) lives."""
START_TIMEOUT_S = 60.0


def cluster_env(allowed_failures: int = 0) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), str(TASKS), env.get("PYTHONPATH", "")) if p)
    env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = str(allowed_failures)
    env["DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION"] = "1.0"
    return env


@dataclass
class RunningCluster:
    """A running scheduler and its worker processes (each ``dask worker`` runs a nanny)."""

    address: str
    scheduler: subprocess.Popen[bytes]
    nannies: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def worker_pids(self) -> list[int]:
        """The worker processes proper: the children the nannies spawned."""
        pids = []
        for nanny in self.nannies:
            with contextlib.suppress(psutil.Error):
                pids += [
                    c.pid
                    for c in psutil.Process(nanny.pid).children()
                    if "resource_tracker" not in " ".join(c.cmdline())
                ]
        return pids

    def wait_for_workers(self, count: int, timeout: float = START_TIMEOUT_S) -> None:
        from distributed import Client

        with Client(self.address, timeout=timeout, set_as_default=False) as client:
            client.wait_for_workers(count, timeout=timeout)

    def stop(self) -> None:
        """SIGTERM every process group (nannies close their workers), SIGKILL what lingers,
        reap all."""
        procs = [*self.nannies, self.scheduler]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group: a worker its nanny left
            proc.wait(10)


# Run in front of each command, then replaced by it (exec keeps the death signal): the signal is
# set in a fresh process, not in a preexec_fn, which can deadlock a parent that runs threads.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "PR_SET_PDEATHSIG = 1\n"
    "if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:\n"
    "    sys.exit(f'prctl(PR_SET_PDEATHSIG) failed: errno {ctypes.get_errno()}')\n"
    "if os.getppid() != int(sys.argv[1]):  # the parent died first: nobody would signal\n"
    "    sys.exit(1)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def _spawn(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``command`` in its own session, sent SIGTERM when this process dies (a nanny then
    closes its worker)."""
    launch = [sys.executable, "-I", "-S", "-c", _DIE_WITH_PARENT, str(os.getpid()), *command]
    with log.open("wb") as stderr:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            launch, stdout=subprocess.DEVNULL, stderr=stderr, env=env, start_new_session=True
        )


def start_cluster(folder: Path, workers: int = 2, allowed_failures: int = 0) -> RunningCluster:
    """``allowed_failures``: the scheduler's; Dask's own default is 3."""
    python = sys.executable
    env = cluster_env(allowed_failures)
    scheduler_file = folder / "scheduler.json"
    log = folder / "scheduler.log"
    # The HTTP server runs even with --no-dashboard: give it a free port, never :8787.
    scheduler = _spawn(
        [python, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
         "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
        log, env,
    )  # fmt: skip
    cluster = RunningCluster(address="", scheduler=scheduler, logs=[log])
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not cluster.address:
            if scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the dask scheduler did not start: {log.read_text()[-2000:]}")
            with contextlib.suppress(OSError, ValueError, KeyError):  # not written yet, or half
                cluster.address = json.loads(scheduler_file.read_text())["address"]
            time.sleep(0.05)
        for i in range(workers):
            wlog = folder / f"worker-{i}.log"
            cluster.logs.append(wlog)
            worker = [python, "-m", "distributed.cli.dask_worker", cluster.address, "--host", "127.0.0.1",
                      "--nworkers", "1", "--nthreads", "1", "--no-dashboard", "--name", f"w{i}"]  # fmt: skip
            cluster.nannies.append(_spawn(worker, wlog, env))
        if workers:
            cluster.wait_for_workers(workers)
    except BaseException:
        cluster.stop()
        raise
    return cluster
