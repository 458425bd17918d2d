"""``gilwise.Executor``: a ``concurrent.futures.Executor`` on the offload engine.

A drop-in for ``ProcessPoolExecutor``: same constructor arguments, ``submit``, ``map``,
``shutdown`` and context manager, plus the routes of ``Offloader``. What differs on purpose:
a worker that dies fails only the future it was running (``WorkerCrashed``, a subclass of
``BrokenProcessPool``) and is replaced, instead of breaking the executor for good; ``map``
chunks automatically; ``timeout=`` kills a worker whose task runs too long.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor as _Executor
from concurrent.futures import Future
from typing import Any, ParamSpec, TypeVar

from .._exceptions import UsageError
from . import _worker
from ._config import Backend, PoolConfig
from ._routing import Route, check_route
from ._runtime import Runtime, auto_chunksize
from ._stats import OffloadStatistics

P = ParamSpec("P")
R = TypeVar("R")


class Executor(_Executor):
    """Runs calls in warm worker processes (route ``cpu``) or threads (``io``, ``native``).

    ``route="auto"`` measures each function (CPU time / wall time) and sends waiting calls to
    threads. Workers are forks of the pool's zygote, a single-threaded process made once per
    pool (forked from this process while it had one thread, or started as a fresh interpreter
    when it already had more; see ``_zygote``), so no worker is a fork of a threaded parent.
    ``mp_context`` is accepted for compatibility, but a ``fork`` context is refused: it asks
    for exactly that fork of a threaded parent, which can deadlock.
    ``timeout`` and ``retries`` are per-task defaults for the process route; the
    initializer runs once in each worker process (not in threads).
    ``backend="dask"`` runs the process route on a Dask cluster (a LocalCluster of
    ``max_workers`` processes, or the running one at ``address``) with the same crash semantics.
    The pool's settings may come whole as ``config=PoolConfig(...)`` (its ``workers`` is
    ``max_workers`` here); a keyword set beside it raises ``UsageError``.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        route: Route = "auto",
        mp_context: Any = None,
        initializer: Callable[..., object] | None = None,
        initargs: Sequence[Any] = (),
        max_tasks_per_child: int | None = None,
        timeout: float | None = None,
        retries: int = 0,
        backend: Backend = "process",
        address: str | None = None,
        cluster_reruns: bool = False,
        config: PoolConfig | None = None,
    ) -> None:
        check_route(route)
        if mp_context is not None and mp_context.get_start_method() == "fork":
            raise UsageError(
                "mp_context with the 'fork' start method is not supported: gilwise forks "
                "workers from a single-threaded zygote so that a threaded parent cannot deadlock them. "
                "Fix: pass mp_context=None (or a 'spawn' / 'forkserver' context)."
            )
        try:
            self.config = PoolConfig.from_keywords(config, locals(), workers="max_workers")
        except UsageError as exc:
            too_few = exc.parameter == "workers" and isinstance(exc.value, int) and exc.value < 1
            if not too_few or config is not None:
                raise
            # The keyword here is max_workers, and code written for ProcessPoolExecutor (and
            # CPython's own executor tests) matches its very words.
            raise UsageError("max_workers must be greater than 0") from None
        self._route = route
        self._runtime = Runtime(self.config)
        self._shutdown_lock = threading.Lock()
        self._shutdown = False
        # An executor dropped without shutdown(): finish its work, then stop the workers
        # (the collector thread holds the pool, not this object, so the pool would linger).
        weakref.finalize(self, _release_runtime, self._runtime)

    def submit(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        with self._shutdown_lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            return self._runtime.submit(
                fn, args, kwargs, route=self._route, timeout=self.config.timeout, retries=self.config.retries
            )

    def map(
        self,
        fn: Callable[..., R],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int | None = None,
    ) -> Iterator[R]:
        """Like ``Executor.map``; ``chunksize=None`` picks one (four chunks per worker)."""
        if chunksize is not None and chunksize < 1:
            raise ValueError("chunksize must be >= 1.")
        end = None if timeout is None else timeout + time.monotonic()
        items = list(zip(*iterables, strict=False))
        rt = self._runtime
        with self._shutdown_lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            where = rt.resolve(fn, self._route)
            # Threads wait in parallel only if each item is its own call.
            auto = auto_chunksize(len(items), rt.workers) if where == "cpu" else 1
            size = chunksize or auto
            futures = [
                rt.submit(
                    fn,
                    items[i : i + size],
                    {},
                    route=self._route,
                    timeout=self.config.timeout,
                    retries=self.config.retries,
                    kind=_worker.CHUNK,
                    resolved=where,
                )
                for i in range(0, len(items), size)
            ]
        return _results(futures, end)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._shutdown_lock:
            self._shutdown = True
        self._runtime.pool.shutdown(wait=wait, cancel_pending=cancel_futures)
        self._runtime.shutdown_threads(wait=wait, cancel_pending=cancel_futures)

    def statistics(self) -> OffloadStatistics:
        return self._runtime.statistics()

    def worker_pids(self) -> list[int]:
        return self._runtime.pool.worker_pids()


def _release_runtime(runtime: Runtime) -> None:
    runtime.pool.shutdown(wait=False)
    runtime.shutdown_threads(wait=False, cancel_pending=False)


def _results(futures: list[Future[list[R]]], end: float | None) -> Iterator[R]:
    """Yield chunk results in order without keeping references to what was yielded."""
    futures.reverse()
    try:
        while futures:
            future = futures.pop()
            try:
                chunk = future.result(None if end is None else end - time.monotonic())
            except BaseException:
                future.cancel()
                raise
            del future
            chunk.reverse()
            while chunk:
                yield chunk.pop()
    finally:
        for future in futures:
            future.cancel()
