"""One server on loopback: started in its own session, watched as a process tree, stopped whole.

A server's workers are its children (uvicorn, Gunicorn, Hypercorn) or threads of a Rust runtime
(Granian); all of them inherit the session the server leads, so the session is the tree
(``_system.ProcessTree``), and killing the process group stops every worker even when the
master died first."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from .._exceptions import GilwiseError
from .._system import CoreBusyCounters, ProcessTree, affinity_cores, pin_to_cores, process_cpu_s, pss_uss

GRANIAN_PY_WAIT = "granian_py_wait_cumulative"
"""Granian's metric (microseconds, per worker): how long its runtime threads waited to take
the GIL before running the app's Python code."""
METRICS_TIMEOUT_S = 2.0
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 10.0
SAMPLE_EVERY_S = 0.5


class ServerProcess:
    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        log: Path,
        cores: Sequence[int] | None,
        metrics_url: str | None = None,
    ) -> None:
        self.started = time.monotonic()
        with log.open("wb") as sink:
            self.proc = subprocess.Popen(
                list(argv), stdout=sink, stderr=subprocess.STDOUT, env=dict(env), start_new_session=True
            )
        if cores is not None:
            pin_to_cores(self.proc.pid, cores)  # before it imports the app and forks workers
        self.log = log
        self.metrics_url = metrics_url
        """Granian's Prometheus exporter (its GIL wait), None for the other servers."""
        self.tree = ProcessTree(self.proc.pid)
        self.startup_s: float | None = None
        self.busy_cores: list[tuple[float, float]] = []
        """(seconds since sampling began, cores busy) of the whole tree."""
        self.machine_busy_cores: float | None = None
        """Mean busy cores of the whole machine over the last sampling window (every process:
        the server, the load client, and anyone else's)."""
        self._sampling = threading.Event()
        self._sampler: threading.Thread | None = None
        self._machine = CoreBusyCounters(affinity_cores())
        self._machine_start: tuple[float, float] | None = None

    def wait_ready(self, url: str, timeout_s: float = START_TIMEOUT_S) -> float:
        """Seconds from start until ``url`` answers anything (a 404 counts: the app is up)."""
        deadline = self.started + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise GilwiseError(f"the server exited with {self.proc.returncode}: {self.output()[-800:]}")
            try:
                with urllib.request.urlopen(url, timeout=1.0):
                    break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise GilwiseError(
                        f"the server did not answer {url} within {timeout_s:g} s: {self.output()[-800:]}"
                    ) from None
                time.sleep(0.05)
        self.startup_s = time.monotonic() - self.started
        return self.startup_s

    def wait_members(self, count: int, timeout_s: float = START_TIMEOUT_S) -> list[int]:
        """Wait until the tree has ``count`` processes: the first worker may answer before the
        others are up, and a measurement must not start on part of the server."""
        deadline = time.monotonic() + timeout_s
        while len(members := self.members()) < count:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise GilwiseError(
                    f"the server had {len(members)} of its {count} processes after {timeout_s:g} s: "
                    f"{self.output()[-800:]}"
                )
            time.sleep(0.05)
        self.startup_s = time.monotonic() - self.started
        return members

    def gil_wait_s(self) -> float | None:
        """Seconds the server's threads have waited for the GIL so far, summed over its workers,
        where the server reports it (Granian); None elsewhere or when the exporter is silent."""
        if self.metrics_url is None:
            return None
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=METRICS_TIMEOUT_S) as response:
                text = response.read().decode(errors="replace")
        except OSError:
            return None
        return granian_py_wait_s(text)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def members(self) -> list[int]:
        return self.tree.members()

    def cpu_s(self) -> float:
        return sum(process_cpu_s(pid) or 0.0 for pid in self.members())

    def memory(self) -> tuple[int, int] | None:
        """(USS, PSS) in bytes, summed over the tree; None without ``/proc``."""
        uss = pss = 0
        found = False
        for pid in self.members():
            shares = pss_uss(pid)
            if shares is not None:
                found = True
                pss += shares[0]
                uss += shares[1]
        return (uss, pss) if found else None

    def start_sampling(self) -> None:
        self.busy_cores = []
        self.machine_busy_cores = None
        self._machine_start = (time.monotonic(), sum(self._machine.read()[0]))
        self._sampling.clear()
        self._sampler = threading.Thread(target=self._sample, name="gilwise-serving-cpu", daemon=True)
        self._sampler.start()

    def stop_sampling(self) -> None:
        self._sampling.set()
        if self._sampler is not None:
            self._sampler.join(timeout=5)
        if self._machine_start is not None:
            began, busy = self._machine_start
            elapsed = time.monotonic() - began
            self.machine_busy_cores = (sum(self._machine.read()[0]) - busy) / elapsed if elapsed > 0 else None
            self._machine_start = None

    def _sample(self) -> None:
        begin = last_t = time.monotonic()
        last_cpu = self.cpu_s()
        while not self._sampling.wait(SAMPLE_EVERY_S):
            now, cpu = time.monotonic(), self.cpu_s()
            # a worker that exited takes its CPU seconds along: never a negative sample
            self.busy_cores.append((now - begin, max(0.0, cpu - last_cpu) / (now - last_t)))
            last_t, last_cpu = now, cpu

    def stop(self) -> list[int]:
        """SIGTERM to the whole group, SIGKILL after the grace; the pids still alive after
        (none, unless a process left the session on purpose)."""
        self.stop_sampling()
        self._machine.close()
        members = self.members()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=STOP_GRACE_S)
        deadline = time.monotonic() + STOP_GRACE_S
        while _group_alive(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        deadline = time.monotonic() + 5
        alive = [pid for pid in members if _alive(pid)]
        while alive and time.monotonic() < deadline:
            time.sleep(0.05)
            alive = [pid for pid in alive if _alive(pid)]
        return alive


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to read its status."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def granian_py_wait_s(exposition: str) -> float | None:
    """The sum of ``granian_py_wait_cumulative`` over workers, in seconds, from Granian's
    Prometheus text; None when the metric is absent (an older Granian)."""
    total, found = 0.0, False
    for line in exposition.splitlines():
        if line.startswith(GRANIAN_PY_WAIT):
            name, _, value = line.rpartition(" ")
            if name.split("{")[0] == GRANIAN_PY_WAIT:
                try:
                    total += float(value)
                except ValueError:
                    continue
                found = True
    return total / 1e6 if found else None
