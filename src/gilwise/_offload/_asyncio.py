"""The asyncio front end: ``Offloader`` and the process-wide ``offload()``."""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import CancelledError, Future
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, TypeVarTuple, Unpack

from .._exceptions import OffloadTimeout, Overloaded, UsageError
from . import _worker
from ._admission import Admission
from ._config import Backend, PoolConfig
from ._routing import Route, check_route
from ._runtime import Runtime, auto_chunksize
from ._stats import OffloadStatistics

if TYPE_CHECKING:
    from ._dask import ClusterWorker

R = TypeVar("R")
Ts = TypeVarTuple("Ts")
T = TypeVar("T")


class Offloader:
    """Runs blocking calls away from the event loop: CPU-bound Python in warm worker
    processes, waiting or GIL-releasing calls in threads.

    >>> async with Offloader(workers=2) as off:          # doctest: +SKIP
    ...     digest = await off.run(checksum, payload, route="cpu", timeout=5)

    Typing: ``run(fn, *args, route=..., timeout=..., retries=..., **kwargs)`` checks the
    positional arguments against ``fn`` and returns ``fn``'s result type, with PEP 646
    (``*args: *Ts``, as ``anyio.to_process.run_sync`` does): PEP 612's ``P.args`` forbids
    keyword-only parameters after it, so a ParamSpec signature would reject ``route=``.
    Keyword arguments for ``fn`` pass through unchecked; for a function with required
    keyword-only parameters, bind them with ``functools.partial``.

    ``backend="dask"`` runs the ``cpu`` route on a Dask cluster instead: a LocalCluster of
    ``workers`` processes, or the running cluster at ``address="tcp://HOST:PORT"``; big NumPy
    arguments are scattered to it once (see docs/offload.md, "Past one machine").

    Backpressure: at most ``max_pending`` calls are admitted at once (queued or running);
    further callers wait, or get ``Overloaded`` with ``overload="raise"``.

    The pool's settings (every keyword but ``max_pending`` and ``overload``) may come whole as
    ``config=PoolConfig(...)`` instead; a keyword set beside it raises ``UsageError``.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        max_pending: int | None = 1024,
        overload: Literal["wait", "raise"] = "wait",
        timeout: float | None = None,
        retries: int = 0,
        io_threads: int = 32,
        native_threads: int | None = None,
        initializer: Callable[..., object] | None = None,
        initargs: Sequence[Any] = (),
        max_tasks_per_child: int | None = None,
        python: str | None = None,
        shm_threshold: int = _worker.DEFAULT_THRESHOLD,
        backend: Backend = "process",
        address: str | None = None,
        cluster_reruns: bool = False,
        config: PoolConfig | None = None,
    ) -> None:
        if overload not in ("wait", "raise"):
            raise UsageError("valid policies are 'wait' and 'raise'", parameter="overload", value=overload)
        self.config = PoolConfig.from_keywords(config, locals())  # the signature lists them once
        self._overload = overload
        self._admission = Admission(max_pending)
        self._runtime: Runtime | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self._attached = False

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> Offloader:
        """Start the worker processes now (``async with`` and the first call do it too)."""
        with self._start_lock:
            if self._closed:
                raise RuntimeError("this Offloader was closed; create a new one")
            if self._runtime is None:
                self._runtime = Runtime(self.config)
            return self

    async def __aenter__(self) -> Offloader:
        self.start()
        assert self._runtime is not None
        try:
            await asyncio.wrap_future(self._runtime.pool.ready)
        except BaseException:
            await self.aclose(cancel=True)  # __aexit__ will not run: leave nothing behind
            raise
        # Replies are read by this loop itself from now on (see WorkerPool.attach).
        self._runtime.pool.attach(asyncio.get_running_loop())
        self._attached = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose(cancel=exc_type is not None)

    async def aclose(self, *, cancel: bool = False) -> None:
        """Drain (or with ``cancel``, cancel queued work and kill running tasks), then stop
        every worker process and thread. Nothing is left behind when this returns."""
        with self._start_lock:
            self._closed = True
            rt, self._runtime = self._runtime, None
        if rt is None:
            return
        if self._attached:
            rt.pool.detach()
            self._attached = False
        rt.pool.shutdown(wait=False, cancel_pending=cancel, kill_running=cancel)
        rt.shutdown_threads(wait=False, cancel_pending=cancel)
        pending = [asyncio.wrap_future(f) for f in rt.thread_futures()]
        await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.wrap_future(rt.pool.closed)
        rt.shutdown_threads(wait=True, cancel_pending=cancel)  # idle threads exit at once
        rt.pool.shutdown(wait=True)  # joins the collector thread, already finished

    def _require(self) -> Runtime:
        rt = self._runtime
        if rt is None:
            rt = self.start()._runtime
            assert rt is not None
        return rt

    # -- calls ---------------------------------------------------------------------------
    async def run(
        self,
        fn: Callable[[Unpack[Ts]], R],
        /,
        *args: *Ts,
        route: Route = "auto",
        timeout: float | None = None,
        retries: int | None = None,
        **kwargs: Any,
    ) -> R:
        """``fn(*args, **kwargs)`` on the runner its route picks. ``timeout`` in seconds (on
        processes the worker is killed; ``None`` = the Offloader's default, ``math.inf`` =
        none); ``retries`` re-runs a task whose worker died (``None`` = the default)."""
        timeout = self.config.timeout if timeout is None else (None if timeout == math.inf else timeout)
        retries = self.config.retries if retries is None else retries
        rt = self._require()
        where = rt.resolve(fn, route)
        await self._admit()
        try:
            on_loop = rt.submit_from_loop(
                fn,
                args,
                kwargs,
                self._admission.release,
                route=route,
                resolved=where,
                timeout=timeout,
                retries=retries,
            )
        except BaseException:
            self._admission.release()
            raise
        if on_loop is not None:
            try:
                return await on_loop.waiter  # type: ignore[no-any-return]
            except asyncio.CancelledError:
                rt.withdraw(on_loop)
                raise
        try:
            future = rt.submit(
                fn, args, kwargs, route=route, timeout=timeout, retries=retries, resolved=where
            )
        except BaseException:
            self._admission.release()
            raise
        future.add_done_callback(self._release)
        if where != "cpu" and timeout is not None:
            result: R = await _thread_timeout(future, timeout, fn)
        else:
            result = await _await(future)
        return result

    async def map(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        *,
        route: Route = "auto",
        chunksize: int | None = None,
        timeout: float | None = None,
        retries: int | None = None,
    ) -> AsyncIterator[R]:
        """``fn(item)`` for every item, results in order. On processes the items travel in
        chunks (``chunksize``, automatic by default); ``timeout`` applies to each chunk."""
        check_route(route)
        if chunksize is not None and chunksize < 1:
            raise UsageError(f"chunksize={chunksize} must be >= 1")
        rt = self._require()
        retries = self.config.retries if retries is None else retries
        timeout = self.config.timeout if timeout is None else timeout
        first, items = _peek_len(items)
        where = rt.resolve(fn, route)
        if where != "cpu":
            size = 1
        elif chunksize is not None:
            size = chunksize
        else:
            size = auto_chunksize(first, rt.workers) if first is not None else 64
        window: deque[Future[Any]] = deque()
        limit = 2 * rt.workers if where == "cpu" else 4 * rt.workers
        it = iter(items)
        try:
            while True:
                batch = list(itertools.islice(it, size))
                if batch:
                    await self._admit()
                    fut = rt.submit(
                        fn,
                        batch,
                        {},
                        route=route,
                        timeout=timeout,
                        retries=retries,
                        kind=_worker.CHUNK1,
                        resolved=where,
                    )
                    fut.add_done_callback(self._release)
                    window.append(fut)
                if window and (len(window) >= limit or not batch):
                    for value in await _await(window.popleft()):
                        yield value
                elif not batch:
                    return
        finally:
            for fut in window:
                fut.cancel()

    def statistics(self) -> OffloadStatistics:
        rt = self._runtime
        if rt is None:
            raise RuntimeError("statistics() of an Offloader that is not running; start it first")
        return rt.statistics(rejected=self._admission.rejected)

    def worker_pids(self) -> list[int]:
        """Process ids of the current worker processes (changes when one is replaced)."""
        return self._require().pool.worker_pids()

    def cluster_workers(self) -> list[ClusterWorker]:
        """With ``backend="dask"``: the cluster's workers now (address, host, threads, CPU,
        memory); the process backend has no cluster and raises ``UsageError``."""
        pool = self._require().pool
        if not hasattr(pool, "cluster_workers"):
            raise UsageError("cluster_workers() is for backend='dask'; use worker_pids() here")
        workers: list[ClusterWorker] = pool.cluster_workers()
        return workers

    # -- backpressure --------------------------------------------------------------------
    def _release(self, _: Future[Any]) -> None:
        self._admission.release()

    async def _admit(self) -> None:
        adm = self._admission
        if adm.try_acquire():
            return
        if self._overload == "raise":
            adm.reject()
            raise Overloaded(
                f"{adm.limit} calls are already pending (max_pending={adm.limit}) and the policy "
                "is overload='raise'. Likely cause: work arrives faster than the workers finish "
                "it. Fix: shed load upstream, add workers, or use overload='wait'."
            )
        loop = asyncio.get_running_loop()
        while True:
            waiter: asyncio.Future[None] = loop.create_future()

            def wake(w: asyncio.Future[None] = waiter) -> None:
                loop.call_soon_threadsafe(_resolve, w)

            adm.add_waiter(wake)
            try:
                await waiter
            except asyncio.CancelledError:
                adm.remove_waiter(wake)
                raise
            if adm.try_acquire():
                return


async def _await(future: Future[Any]) -> Any:
    """Await a ``concurrent.futures.Future``; completed in this loop's thread (an attached
    pool), it resumes the caller without the self-pipe wake-up ``wrap_future`` always costs."""
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    thread = threading.get_ident()

    def done(f: Future[Any]) -> None:
        if threading.get_ident() == thread:
            _copy(f, waiter)
        else:
            loop.call_soon_threadsafe(_copy, f, waiter)

    future.add_done_callback(done)
    try:
        return await waiter
    except asyncio.CancelledError:
        future.cancel()
        raise


def _copy(source: Future[Any], waiter: asyncio.Future[Any]) -> None:
    if waiter.done():
        return
    # One result() call: each accessor of a concurrent future takes its lock (hot path).
    try:
        value = source.result(timeout=0)
    except CancelledError:
        waiter.cancel()  # cancelled, or killed by a cancelling shutdown
    except BaseException as exc:
        waiter.set_exception(exc)
    else:
        waiter.set_result(value)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _peek_len(items: Iterable[T]) -> tuple[int | None, Iterable[T]]:
    try:
        return len(items), items  # type: ignore[arg-type]
    except TypeError:
        return None, items


async def _thread_timeout(future: Future[Any], timeout: float, fn: Callable[..., Any]) -> Any:
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
    except TimeoutError:
        name = getattr(fn, "__qualname__", repr(fn))
        raise OffloadTimeout(
            f"{name} did not finish within timeout={timeout} s in a thread. A thread cannot be "
            "killed, so it keeps running in the background. Fix: raise the timeout, or use "
            "route='cpu' so that a timeout kills the worker process."
        ) from None


_default: Offloader | None = None
_default_lock = threading.Lock()


async def close_default() -> None:
    """Stop the process-wide runtime of ``offload()`` (it restarts on the next call)."""
    global _default
    with _default_lock:
        off, _default = _default, None
    if off is not None:
        await off.aclose()


async def offload(
    fn: Callable[[Unpack[Ts]], R],
    /,
    *args: *Ts,
    route: Route = "auto",
    timeout: float | None = None,
    retries: int | None = None,
    **kwargs: Any,
) -> R:
    """``await offload(fn, *args)``: ``Offloader.run`` on a process-wide runtime started on
    first use (one worker per usable core) and stopped at interpreter exit."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Offloader().start()
        off = _default
    return await off.run(fn, *args, route=route, timeout=timeout, retries=retries, **kwargs)
