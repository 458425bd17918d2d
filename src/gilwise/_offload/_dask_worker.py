"""The worker side of the Dask backend: what runs inside a Dask worker process.

The cluster's workers unpickle these by reference, so they must import gilwise (the same
environment on every worker); nothing here runs in the caller's process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import distributed

from . import _worker

STARTED_TOPIC = "gilwise-started"
"""Prefix of the scheduler event topics (one per worker) where each task logs its start."""


def run_call(
    fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any], kind: int, topic: str
) -> Any:
    """Runs on a Dask worker: the call (or chunk) and its CPU / wall time, for ``auto`` routing.

    It first logs that it started (an event on the scheduler, one topic per worker): a
    worker can hold more tasks than it runs, and when it dies only one that started is a
    crash. The scheduler reads the worker's messages in order, so the event of a task that
    started is stored before the scheduler sees that worker die."""
    worker = distributed.get_worker()
    worker.log_event(f"{topic}-{worker.address}", worker.get_current_task())
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    if kind == _worker.CHUNK:
        value: Any = [fn(*a) for a in args]
    elif kind == _worker.CHUNK1:
        value = [fn(a) for a in args]
    else:
        value = fn(*args, **kwargs)
    return value, time.thread_time() - cpu0, time.perf_counter() - wall0


def dask_setup(worker: Any) -> None:
    """Dask's preload hook, run at start-up in each worker process of the LocalCluster gilwise
    owns: the cluster's owner stops its workers, not a stop signal sent to the whole group
    (see ``_worker.hold_group_stop_signals``; the nanny would replace a worker that died of it)."""
    _worker.hold_group_stop_signals()


class Initializer(distributed.WorkerPlugin):
    """``initializer(*initargs)`` once in every worker, replacements included."""

    def __init__(self, fn: Callable[..., object], args: tuple[Any, ...]) -> None:
        self.fn, self.args = fn, args

    def setup(self, worker: Any) -> None:
        self.fn(*self.args)
