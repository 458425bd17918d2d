"""The ``pool`` probe (inside a fresh worker): what a process pool costs before any work.

Start-up is measured the way a user meets it: ``ProcessPoolExecutor(n)`` with the platform's
default start method, until each of the n workers has imported the target (spawned and
forkserver children import the user's module; forked ones inherit it). Then, on a warm
one-worker pool, the round trip of an empty call and of a call carrying the arguments.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from . import calls
from .protocol import PoolReport, TargetSpec

HOLD_S = 0.05
"""Each start-up task sleeps this long so that n tasks land on n distinct workers."""
PIPE_PROBE_BYTES = 8 << 20


def _round_trips(
    pool: ProcessPoolExecutor,
    fn: Any,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    *,
    min_s: float,
    max_reps: int,
) -> float:
    """Mean seconds from submit to result, one call in flight at a time."""
    kwargs = kwargs or {}
    pool.submit(fn, *args, **kwargs).result()  # the first one pays for lazy imports
    reps, total = 0, 0.0
    while reps < 3 or (total < min_s and reps < max_reps):
        t0 = time.perf_counter()
        pool.submit(fn, *args, **kwargs).result()
        total += time.perf_counter() - t0
        reps += 1
    return total / reps


def probe_pool(
    target: TargetSpec, args: tuple[Any, ...], kwargs: dict[str, Any], workers: list[int], deadline: float
) -> PoolReport:
    notes: list[str] = []
    startup: list[list[float]] = []
    shutdown: list[list[float]] = []
    for n in workers:
        if time.perf_counter() > deadline:
            notes.append(f"start-up of {n} workers not measured: the time budget ran out")
            break
        t0 = time.perf_counter()
        pool = ProcessPoolExecutor(n)
        pids = {
            f.result()
            for f in [
                pool.submit(calls.ready, target["target"], target["sys_path"], HOLD_S) for _ in range(n)
            ]
        }
        up = time.perf_counter() - t0 - HOLD_S
        if len(pids) < n:
            # A worker took two start-up tasks: the others were not up within HOLD_S of it.
            notes.append(
                f"{n} workers: only {len(pids)} were up while the first ran (start-up is a lower bound)"
            )
        t1 = time.perf_counter()
        pool.shutdown(wait=True)
        shutdown.append([n, time.perf_counter() - t1])
        startup.append([n, max(0.0, up)])
    with ProcessPoolExecutor(1) as pool:
        message = _round_trips(pool, calls.noop, min_s=0.1, max_reps=200)
        carried = _round_trips(pool, calls.accept, args, kwargs, min_s=0.1, max_reps=20)
        heavy = _round_trips(pool, calls.accept, (bytes(PIPE_PROBE_BYTES),), min_s=0.05, max_reps=5)
    bandwidth = PIPE_PROBE_BYTES / max(heavy - message, 1e-6)
    return {
        "ok": True,
        "start_method": multiprocessing.get_start_method(),
        "startup_s": startup,
        "shutdown_s": shutdown,
        "message_s": message,
        "args_roundtrip_s": carried,
        "pipe_bytes_per_s": bandwidth,
        "notes": notes,
    }
