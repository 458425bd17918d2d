"""The loop-agnostic runtime both front ends share: the process pool, two thread pools, routing.

``Offloader`` (asyncio) and ``Executor`` (``concurrent.futures``) only add their calling
conventions on top; every task, whatever its route, comes back as a ``concurrent.futures.Future``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .._exceptions import UsageError
from .._extras import install_command
from .._system import usable_cores
from . import _worker
from ._config import PoolConfig
from ._loop_replies import LoopFuture
from ._pool import WorkerPool
from ._routing import AutoRouter
from ._stats import OffloadStatistics

if TYPE_CHECKING:
    from ._dask import DaskPool

THREAD_ROUTES = ("io", "native")


def default_workers() -> int:
    """One worker per usable core: the affinity set capped by a container's CPU quota (64
    workers on a 64-core host limited to 2 CPUs would only take turns on those 2)."""
    return usable_cores()


def auto_chunksize(n_items: int, workers: int) -> int:
    """Four chunks per worker: few enough messages, enough pieces to balance uneven items."""
    return max(1, math.ceil(n_items / (4 * workers)))


class Runtime:
    """Routes each call to worker processes or to threads and counts what happened."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self.pool: WorkerPool | DaskPool
        if config.backend == "dask":
            self.pool = _dask_pool(config)
        else:
            self.pool = WorkerPool(config.sized(default_workers()))
        self.router = AutoRouter()
        self._thread_sizes = {"io": config.io_threads, "native": config.native_threads or default_workers()}
        self._threads: dict[str, ThreadPoolExecutor] = {}
        self._thread_futures: set[Future[Any]] = set()
        self._lock = threading.Lock()
        self._routes = {"cpu": 0, "io": 0, "native": 0}
        self.thread_calls = 0

    @property
    def workers(self) -> int:
        """Worker processes of the pool (a running Dask cluster's worker threads once joined)."""
        return self.pool.size

    def resolve(self, fn: Callable[..., Any], route: str) -> str:
        return self.router.resolve(fn, route)

    def submit(
        self,
        fn: Callable[..., Any],
        args: Sequence[Any],
        kwargs: dict[str, Any],
        *,
        route: str,
        timeout: float | None = None,
        retries: int = 0,
        kind: int = _worker.CALL,
        resolved: str | None = None,
    ) -> Future[Any]:
        """One call, or a chunk of calls (``kind``, see ``WorkerPool.submit``), on the route's
        runner."""
        where = resolved or self.router.resolve(fn, route)
        observe = self._observer(fn) if route == "auto" else None
        with self._lock:
            self._routes[where] += 1
        if where == "cpu":
            return self.pool.submit(
                fn, args, kwargs, kind=kind, timeout=timeout, retries=retries, observer=observe
            )
        return self._submit_thread(where, fn, args, kwargs, kind=kind, observe=observe)

    def submit_from_loop(
        self,
        fn: Callable[..., Any],
        args: Sequence[Any],
        kwargs: dict[str, Any],
        on_done: Callable[[], None],
        *,
        route: str,
        resolved: str,
        timeout: float | None,
        retries: int,
    ) -> LoopFuture | None:
        """A call routed to ``cpu`` (``resolved``) from the thread of the event loop that reads
        the pool's replies (``WorkerPool.submit_from_loop``); None when that path does not
        apply (another route, the Dask backend, another thread): use ``submit`` then."""
        pool = self.pool
        if resolved != "cpu" or not isinstance(pool, WorkerPool) or not pool.attached_here():
            return None
        observe = self._observer(fn) if route == "auto" else None
        with self._lock:
            self._routes["cpu"] += 1
        return pool.submit_from_loop(
            fn, args, kwargs, on_done, timeout=timeout, retries=retries, observer=observe
        )

    def withdraw(self, future: LoopFuture) -> None:
        """The caller of ``submit_from_loop`` was cancelled: drop its task if still queued."""
        if isinstance(self.pool, WorkerPool):
            self.pool.withdraw(future)

    def _observer(self, fn: Callable[..., Any]) -> Callable[[float, float], None]:
        def observe(cpu: float, wall: float) -> None:
            self.router.observe(fn, cpu, wall)

        return observe

    def _submit_thread(
        self,
        where: str,
        fn: Callable[..., Any],
        args: Sequence[Any],
        kwargs: dict[str, Any],
        *,
        kind: int,
        observe: Callable[[float, float], None] | None,
    ) -> Future[Any]:
        with self._lock:
            pool = self._threads.get(where)
            if pool is None:
                pool = self._threads[where] = ThreadPoolExecutor(
                    self._thread_sizes[where], thread_name_prefix=f"gilwise-{where}"
                )
            self.thread_calls += 1
        future = pool.submit(_run_in_thread, fn, args, kwargs, kind, observe)
        with self._lock:
            self._thread_futures.add(future)
        future.add_done_callback(self._thread_done)
        return future

    def _thread_done(self, future: Future[Any]) -> None:
        with self._lock:
            self._thread_futures.discard(future)

    def thread_futures(self) -> list[Future[Any]]:
        with self._lock:
            return list(self._thread_futures)

    def shutdown_threads(self, *, wait: bool, cancel_pending: bool) -> None:
        with self._lock:
            pools = list(self._threads.values())
        for pool in pools:
            pool.shutdown(wait=wait, cancel_futures=cancel_pending)

    def statistics(self, rejected: int = 0) -> OffloadStatistics:
        c = self.pool.counters
        with self._lock:
            routes = MappingProxyType(dict(self._routes))
            thread_calls = self.thread_calls
        return OffloadStatistics(
            workers=self.workers,
            workers_alive=self.pool.alive(),
            submitted=c.submitted,
            completed=c.completed,
            failed=c.failed,
            cancelled=c.cancelled,
            crashes=c.crashes,
            restarts=c.restarts,
            retries=c.retries,
            timeouts=c.timeouts,
            pending=self.pool.pending,
            rejected=rejected,
            thread_calls=thread_calls,
            routes=routes,
        )


def _dask_pool(config: PoolConfig) -> DaskPool:
    try:
        from ._dask import DaskPool
    except ImportError as exc:
        raise UsageError(
            f"backend='dask' needs Dask distributed ({exc}). Fix: {install_command('dask')}"
        ) from exc
    return DaskPool(config, default_workers=default_workers())


def _run_in_thread(
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    kind: int,
    observe: Callable[[float, float], None] | None,
) -> Any:
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    try:
        if kind == _worker.CHUNK:
            return [fn(*a) for a in args]
        if kind == _worker.CHUNK1:
            return [fn(a) for a in args]
        return fn(*args, **kwargs)
    finally:
        if observe is not None:
            observe(time.thread_time() - cpu0, time.perf_counter() - wall0)
