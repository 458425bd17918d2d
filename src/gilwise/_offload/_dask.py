"""The Dask backend: the process-pool engine's API (``submit`` → ``concurrent.futures.Future``,
``shutdown``, ``ready``/``closed``, counters) on a Dask distributed cluster.

``DaskPool`` is what ``Runtime`` builds for ``backend="dask"``: a ``LocalCluster`` of
single-threaded worker processes it owns (``address=None``), or a running cluster at
``address`` (``tcp://HOST:PORT``). Only the ``cpu`` route goes to the cluster; ``io`` and
``native`` stay on this machine's threads. Imported only when that backend is asked for.

Crash semantics are the process pool's: a task whose Dask worker died fails with
``WorkerCrashed`` (Dask's ``KilledWorker``), or with ``retries=N`` is submitted again; the
other tasks are unaffected and the next call works. That needs a scheduler that does not
re-run a dead worker's task itself: the cluster gilwise owns runs with
``allowed-failures: 0``; a running cluster must be configured so (``cluster_reruns=True``
accepts Dask's re-runs instead, for idempotent work only). A worker may hold tasks it has
not begun (Dask assigns some straight to workers); each task logs its start on the
scheduler (``_dask_worker``), so one that only waited on the dead worker is sent again
instead of failing, as the process pool re-queues a request its dead worker never read.

Threads: the start-up thread connects (seconds for a LocalCluster, so the constructor
returns at once, like the process pool's); Dask's callback thread hands finished futures to
the collector thread, which gathers results in batches, retries, and expires deadlines.
``_dask_call`` holds a call and its failure messages; ``_dask_worker`` what runs on workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import os
import queue
import threading
import time
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from typing import Any

import dask
import distributed
from dask.base import tokenize
from distributed import client as client_module
from distributed.comm.core import connect

from .._exceptions import OffloadError, OffloadTimeout, UsageError
from . import _dask_worker, _worker
from ._config import PoolConfig
from ._dask_call import DaskCall, crash_error, start_error, unpicklable_message, unreturnable
from ._dask_worker import STARTED_TOPIC, Initializer, run_call
from ._errors import Unpicklable
from ._failures import RemoteTraceback
from ._stats import PoolCounters
from ._task import Observer

_CANCEL, _STOP = "cancel", "stop"
CONNECT_TIMEOUT_S = 20.0
SCATTER_CACHE_BYTES = 1 << 30
"""Scattered arguments kept on the cluster for reuse (least recently used go first)."""


@dataclass(frozen=True)
class ClusterWorker:
    """One Dask worker as the scheduler sees it (what a dashboard shows per worker)."""

    address: str
    name: str
    host: str
    nthreads: int
    cpu_percent: float
    """Of one core, from the worker's last heartbeat."""
    memory_bytes: int
    memory_limit_bytes: int
    """0: no limit."""


class DaskPool:
    """Warm Dask workers behind the engine API of ``WorkerPool`` (see the module docstring)."""

    def __init__(self, config: PoolConfig, *, default_workers: int = 1) -> None:
        """``default_workers``: the LocalCluster's size when ``config.workers`` is None, and the
        size assumed for a running cluster until it is reached."""
        self.config = config
        self.address, self.size = config.address, config.workers or default_workers
        self.counters = PoolCounters()
        self.ready: Future[None] = Future()
        self.closed: Future[None] = Future()
        self._initializer = (config.initializer, tuple(config.initargs))
        self._plugin = f"gilwise-init-{uuid.uuid4().hex[:12]}"
        self._threshold, self._cluster_reruns = config.shm_threshold, config.cluster_reruns
        self._lock = threading.Lock()
        self._drained = threading.Condition(self._lock)
        self._calls: set[DaskCall] = set()
        self._waiting: list[DaskCall] = []  # submitted before the cluster was up
        self._scattered: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._scattered_bytes = 0
        self._events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._deadlines: list[tuple[float, int, DaskCall]] = []
        self._seq = itertools.count()
        # Shared by every gilwise pool: the scheduler keeps a bounded deque per topic, and a
        # single-threaded worker's running task is always its latest start.
        self._topic = STARTED_TOPIC
        self._by_key: dict[str, DaskCall] = {}  # the Dask key each outstanding call runs as
        self._died: dict[str, str] = {}  # recent keys lost with a worker -> its address
        self._client: Any = None
        self._cluster: Any = None
        self._broken: BaseException | None = None
        self._started = False  # calls launch directly (else they wait in _waiting)
        self._closing = False
        self._collector = threading.Thread(target=self._collect, name="gilwise-dask-collector", daemon=True)
        self._closer: threading.Thread | None = None
        threading.Thread(target=self._start, name="gilwise-dask-start", daemon=True).start()

    # -- start-up ---------------------------------------------------------------------------
    def _start(self) -> None:
        try:
            self._connect()
        except BaseException as exc:
            with self._lock:
                self._broken = start_error(self.address, exc)
                waiting, self._waiting = self._waiting, []
            for call in waiting:
                self._fail(call, self._broken)
            self._close_cluster()
            self.ready.set_exception(self._broken)
            return
        self._collector.start()
        with self._lock:
            waiting, self._waiting = self._waiting, []
            self._started = True
        for call in waiting:
            if not call.future.done():  # cancelled while the cluster started
                self._launch(call)
        self.ready.set_result(None)

    def _connect(self) -> None:
        if self.address is None:
            # gilwise's own scheduler: a dead worker's task is not re-run behind the caller's
            # back, and each worker holds only the task it runs (so only that one fails).
            with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                                  "distributed.scheduler.worker-saturation": 1.0}):  # fmt: skip
                # distributed's constructors carry no annotations (hence the ignores).
                self._cluster = distributed.LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=self.size,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",  # never the fixed :8787 another program holds
                    silence_logs=logging.CRITICAL,  # every failure reaches its caller
                    preload=[_dask_worker.__name__],  # its dask_setup: stopped by us, not the group
                )
            self._client = distributed.Client(self._cluster, set_as_default=False)  # type: ignore[no-untyped-call]
            self._client.wait_for_workers(self.size, timeout=120)
        else:
            # Reached first on a loop of our own: a Client that cannot connect raises from its
            # constructor and leaves its event-loop thread running for good.
            asyncio.run(_reach(self.address))
            self._client = distributed.Client(self.address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)  # type: ignore[no-untyped-call]
            reruns = self._client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
            if reruns and not self._cluster_reruns:
                raise UsageError(
                    f"the scheduler at {self.address} re-runs a task whose worker died up to {reruns} "
                    "times (distributed.scheduler.allowed-failures), so retries=0 could not keep a "
                    "task from running twice. Fix: start the scheduler with "
                    "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0, or pass cluster_reruns=True "
                    "if every task is idempotent."
                )
            threads = sum(
                w["nthreads"] for w in self._client.scheduler_info(n_workers=-1)["workers"].values()
            )
            self.size = max(1, threads)
        fn, args = self._initializer
        if fn is not None:
            self._client.register_plugin(Initializer(fn, args), name=self._plugin)

    # -- public engine API ------------------------------------------------------------------
    def submit(
        self,
        fn: Callable[..., Any],
        args: Sequence[Any],
        kwargs: dict[str, Any],
        *,
        kind: int = _worker.CALL,
        timeout: float | None = None,
        retries: int = 0,
        observer: Observer | None = None,
    ) -> Future[Any]:
        call = DaskCall(fn, args, kwargs, kind, timeout, retries, observer)
        with self._lock:
            if self._closing:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if self._broken is not None:
                call.future.set_exception(self._broken)
                return call.future
            self.counters.bump("submitted")
            self._calls.add(call)
            if timeout is not None:
                call.deadline = time.monotonic() + timeout
                heapq.heappush(self._deadlines, (call.deadline, next(self._seq), call))
            if not self._started:
                self._waiting.append(call)
                call.future.add_done_callback(self._on_cancel)
                return call.future
        self._launch(call)
        call.future.add_done_callback(self._on_cancel)
        if timeout is not None:
            self._events.put(None)  # the collector recomputes its next deadline
        return call.future

    def shutdown(
        self, *, wait: bool = True, cancel_pending: bool = False, kill_running: bool = False
    ) -> None:
        """Stop accepting work; drain, or cancel what is outstanding (a cluster does not say
        which tasks are queued and which run); then close the client and the cluster."""
        with self._lock:
            self._closing = True
            if self._closer is None:
                self._closer = threading.Thread(target=self._close, name="gilwise-dask-close", daemon=True)
                self._closer.start()
            closer = self._closer
        if cancel_pending or kill_running:
            self._events.put((_CANCEL, None))
        if wait and threading.current_thread() is not closer:
            closer.join()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._calls)

    def alive(self) -> int:
        client = self._client
        if client is None or self.closed.done():
            return 0
        return len(client.scheduler_info(n_workers=-1)["workers"])

    def worker_pids(self) -> list[int]:
        """Process ids of the cluster's workers (on their own hosts)."""
        client = self._client
        return [] if client is None else sorted(client.run(os.getpid).values())

    def cluster_workers(self) -> list[ClusterWorker]:
        """The cluster's workers now, as the scheduler last heard from them (heartbeats)."""
        client = self._client
        if client is None or self.closed.done():
            return []
        workers = client.scheduler_info(n_workers=-1)["workers"]
        return [
            ClusterWorker(
                address=address,
                name=str(info.get("name", "")),
                host=str(info.get("host", "")),
                nthreads=int(info.get("nthreads", 0)),
                cpu_percent=float(info.get("metrics", {}).get("cpu", 0.0)),
                memory_bytes=int(info.get("metrics", {}).get("memory", 0)),
                memory_limit_bytes=int(info.get("memory_limit") or 0),
            )
            for address, info in sorted(workers.items())
        ]

    def attach(self, host: object) -> None:
        """Replies come through the Dask client's own event loop: nothing to hand over."""

    def detach(self) -> None:
        """See ``attach``."""

    def reclaim_replies(self) -> None:
        """See ``attach``."""

    # -- submitting -------------------------------------------------------------------------
    def _launch(self, call: DaskCall) -> None:
        try:
            args = self._scatter(call.args) if call.kind == _worker.CALL else call.args
            dfut = self._client.submit(
                run_call, call.fn, args, call.kwargs, call.kind, self._topic,
                key=f"{getattr(call.fn, '__name__', 'call')}-{uuid.uuid4().hex}", pure=False,
            )  # fmt: skip
        except Exception as exc:  # distributed serialises at submit: TypeError, PicklingError, ...
            self._fail(call, Unpicklable(unpicklable_message(call, exc)), count="failed")
            return
        with self._lock:
            if call.dfut is not None:
                self._by_key.pop(call.dfut.key, None)
            call.dfut = dfut
            self._by_key[dfut.key] = call
        self._watch(call, dfut)

    def _watch(self, call: DaskCall, dfut: Any) -> None:
        """Hand ``dfut`` to the collector once it is done. Waited for in the client's own event
        loop, not with ``Future.add_done_callback``: that starts a process-wide callback
        thread which outlives the client, and a parent with threads makes every later process
        pool spawn its zygote instead of forking it (see ``_zygote``)."""
        self._client.loop.add_callback(
            client_module.done_callback, dfut, lambda f: self._events.put((call, f))
        )

    def _scatter(self, args: Sequence[Any]) -> tuple[Any, ...]:
        """Big NumPy arrays and bytes go to the cluster once, keyed by their content's hash:
        a later call with the same data sends only the key."""
        out = list(args)
        for i, arg in enumerate(args):
            size = _big(arg, self._threshold)
            if not size:
                continue
            key = f"gilwise-arg-{tokenize(arg)}"
            with self._lock:
                hit = self._scattered.get(key)
                if hit is not None:
                    self._scattered.move_to_end(key)
            if hit is None:
                future = self._client.scatter({key: arg}, hash=False)[key]
                with self._lock:
                    hit = self._scattered[key] = (future, size)
                    self._scattered_bytes += size
                    while self._scattered_bytes > SCATTER_CACHE_BYTES and len(self._scattered) > 1:
                        _, (_, dropped) = self._scattered.popitem(last=False)
                        self._scattered_bytes -= dropped  # tasks that use it keep it alive
            out[i] = hit[0]
        return tuple(out)

    def _on_cancel(self, future: Future[Any]) -> None:
        if future.cancelled():
            self.counters.bump("cancelled")
            self._events.put((_CANCEL, future))

    # -- the collector thread ---------------------------------------------------------------
    def _collect(self) -> None:
        try:
            self._collect_events()
        except BaseException as exc:  # a bug here must fail the callers, never hang them
            with self._lock:
                self._broken = OffloadError(f"the Dask collector thread failed: {exc!r}")
                calls = list(self._calls)
            for call in calls:
                self._fail(call, self._broken)
            raise

    def _collect_events(self) -> None:
        while True:
            with self._lock:
                wait = self._deadlines[0][0] - time.monotonic() if self._deadlines else None
            events = []
            with contextlib.suppress(queue.Empty):
                events.append(self._events.get(timeout=None if wait is None else max(wait, 0.0)))
                while True:
                    events.append(self._events.get_nowait())
            if any(e == (_STOP, None) for e in events):
                return
            finished: list[tuple[DaskCall, Any]] = []
            for event in events:
                if event is None:
                    continue
                what, dfut = event
                if what == _CANCEL:
                    self._cancel(dfut)
                elif what.dfut is dfut and not what.future.done():
                    if dfut.status == "finished":
                        finished.append((what, dfut))
                    else:
                        self._on_failure(what, dfut)
            self._deliver(finished)
            self._expire()

    def _deliver(self, finished: list[tuple[DaskCall, Any]]) -> None:
        if not finished:
            return
        try:
            values = self._client.gather([d for _, d in finished])
        except Exception:  # one of them cannot come back: take them one by one
            for call, dfut in finished:
                try:
                    reply = dfut.result()
                except Exception as exc:
                    if dfut.status == "pending":  # lost with a worker; Dask computes it again
                        self._watch(call, dfut)
                        continue
                    self._fail(call, unreturnable(call, exc))
                else:
                    self._complete(call, reply)
            return
        for (call, _), value in zip(finished, values, strict=True):
            self._complete(call, value)

    def _complete(self, call: DaskCall, reply: Any) -> None:
        value, cpu, wall = reply
        if call.observer is not None:
            call.observer(cpu, wall)
        if self._finish(call):
            self.counters.bump("completed")
            call.future.set_result(value)

    def _on_failure(self, call: DaskCall, dfut: Any) -> None:
        if dfut.status == "cancelled":
            error: BaseException = OffloadError(
                f"{call.name} was dropped by the Dask cluster ({dfut.exception()!r}). Likely cause: "
                "the connection to the scheduler was lost or the scheduler restarted. Fix: check "
                "the scheduler; the Offloader reconnects on its own when it comes back."
            )
            self._fail(call, error, count="failed")
            return
        exc = dfut.exception()
        if isinstance(exc, distributed.KilledWorker):
            if not self._began(dfut.key, exc.last_worker.address) and not self._closing:
                self._launch(call)  # it waited on the dead worker, never ran: send it again
                return
            if call.retries_left > 0 and not self._closing:
                call.retries_left -= 1
                self.counters.bump("retries")
                self._launch(call)
                return
            self._fail(call, crash_error(call, exc), count="crashes")
            return
        if exc is None:  # not an error state after all ("lost"): the cluster dropped it
            self._fail(call, unreturnable(call, RuntimeError(f"the task ended {dfut.status}")))
            return
        tb = dfut.traceback()
        if tb is not None:
            exc.__cause__ = RemoteTraceback("".join(traceback.format_tb(tb)))
        self._fail(call, exc, count="failed")

    def _began(self, key: str, worker: str) -> bool:
        """Whether the task may have begun on the dead worker; False only when it surely
        just waited there, so that a task is never run twice unasked.

        Its start event says it began. Without one it may still have (the event can be in
        flight when the worker dies), unless that single-threaded worker's latest start
        was another of our tasks still running there: one thread runs one task at a time."""
        with self._lock:
            self._died[key] = worker
            while len(self._died) > 10_000:
                self._died.pop(next(iter(self._died)))
        try:
            events = self._client.get_events(f"{self._topic}-{worker}")
            threads = self._client.scheduler_info(n_workers=-1)["workers"].get(worker, {}).get("nthreads", 1)
        except Exception:  # cannot tell: count it as started
            return True
        keys = [msg for _, msg in events]
        if key in keys:
            return True
        if not keys or threads != 1:
            return True
        # The latest start there was another task X. The scheduler reports X finished before
        # it sees the worker die (one stream from the worker, one to this client), so an X of
        # ours that is not "finished" by now was still running: this task only waited.
        latest = keys[-1]
        with self._lock:
            other = self._by_key.get(latest)
            running = self._died.get(latest) == worker or (
                other is not None and other.dfut is not None and other.dfut.status != "finished"
            )
        return not running

    def _expire(self) -> None:
        now, expired = time.monotonic(), []
        with self._lock:
            while self._deadlines and self._deadlines[0][0] <= now:
                call = heapq.heappop(self._deadlines)[2]
                if call in self._calls:
                    expired.append(call)
        for call in expired:
            running = self._restart_worker_of(call)
            where = (f"its Dask worker {running} is being restarted" if running
                     else "it had not started on a worker")  # fmt: skip
            self._fail(call, OffloadTimeout(
                f"{call.name} did not finish within timeout={call.timeout} s; {where}. Likely cause: "
                "the task is slower than expected or hangs. Fix: raise the timeout, split the task, "
                "or add workers if it waited in the queue."), count="timeouts")  # fmt: skip

    def _restart_worker_of(self, call: DaskCall) -> str | None:
        """The worker running a timed-out task is restarted by its nanny, as the process pool
        kills and replaces one; the cluster re-runs the other tasks it held."""
        dfut = call.dfut
        if dfut is None:
            return None
        running = [a for a, keys in self._client.processing().items() if dfut.key in keys]
        if not running:
            dfut.cancel()
            return None
        # Cancelled only once restarted: until then the task keeps its worker busy, so the
        # scheduler sends it no other task to lose in the restart. (A task assigned in the
        # instant between this one finishing and the restart fails with WorkerCrashed.)
        threading.Thread(
            target=self._restart, args=(running, dfut), daemon=True, name="gilwise-dask-restart"
        ).start()
        return ", ".join(running)

    def _restart(self, workers: list[str], dfut: Any) -> None:
        # Seconds, in its own thread. A worker without a nanny cannot be restarted, and a
        # cluster closing meanwhile drops the connection: the task's caller has its answer.
        with contextlib.suppress(Exception):
            self._client.restart_workers(workers, raise_for_error=False)
        with contextlib.suppress(Exception):
            dfut.cancel()

    def _cancel(self, future: Future[Any] | None) -> None:
        """``future`` was cancelled by its caller; None: cancel everything outstanding."""
        with self._lock:
            calls = [c for c in self._calls if future is None or c.future is future]
        for call in calls:
            if call.dfut is not None:
                call.dfut.cancel()
            if future is None:
                self._fail(call, CancelledError(), count="cancelled")
            else:
                self._finish(call)

    def _finish(self, call: DaskCall) -> bool:
        """Forget the call; whether its future is still ours to complete."""
        with self._lock:
            self._calls.discard(call)
            if call.dfut is not None:
                self._by_key.pop(call.dfut.key, None)
            call.dfut = None
            if not self._calls:
                self._drained.notify_all()
        return call.future.set_running_or_notify_cancel() if not call.future.done() else False

    def _fail(self, call: DaskCall, error: BaseException, count: str = "failed") -> None:
        """``count``: the counter besides ``failed`` (crashes, timeouts), or ``cancelled`` alone."""
        if self._finish(call):
            self.counters.bump(
                *{"failed": ("failed",), "cancelled": ("cancelled",)}.get(count, (count, "failed"))
            )
            call.future.set_exception(error)

    # -- shutdown ---------------------------------------------------------------------------
    def _close(self) -> None:
        if not self.ready.done():
            with contextlib.suppress(BaseException):
                self.ready.exception()  # wait for the start-up to finish either way
        with self._lock:
            while self._calls and self._broken is None:
                self._drained.wait()
        self._events.put((_STOP, None))
        if self._collector.is_alive():
            self._collector.join()
        self._close_cluster()
        self.closed.set_result(None)

    def _close_cluster(self) -> None:
        client, cluster = self._client, self._cluster
        with self._lock:
            self._scattered.clear()
        if client is not None:
            if self._initializer[0] is not None:
                with contextlib.suppress(Exception):  # a plugin left on a shared cluster
                    client.unregister_worker_plugin(self._plugin)
            client.close()
        if cluster is not None:
            cluster.close()


async def _reach(address: str) -> None:
    comm = await connect(address, timeout=CONNECT_TIMEOUT_S)  # type: ignore[no-untyped-call]
    await comm.close()


def _big(arg: Any, threshold: int) -> int:
    """The size in bytes of a NumPy array or bytes argument worth scattering, else 0."""
    kind = type(arg)
    if kind in (bytes, bytearray):
        return len(arg) if len(arg) >= threshold else 0
    if kind.__name__ == "ndarray" and kind.__module__ == "numpy":
        return int(arg.nbytes) if arg.nbytes >= threshold else 0
    return 0
