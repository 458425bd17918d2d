"""The process-pool engine: warm workers, dispatch, crash recovery, timeouts, shutdown.

Independent of asyncio: callers get ``concurrent.futures.Future`` objects, so the asyncio
``Offloader`` and the synchronous ``Executor`` are thin front ends over the same engine.

Design (compare ``ProcessPoolExecutor``: call queue + feeder thread + management thread):
- Each worker has its own request and reply pipe and runs one task at a time. The submitting
  thread writes the request straight to an idle worker; there is no feeder thread hop.
- One collector thread waits (epoll) on every reply pipe and on the nearest deadline. It
  completes futures, hands the freed worker the next queued task, and treats end-of-file on a
  reply pipe as a death: only the task that worker ran fails (``WorkerCrashed``) and a fresh
  worker takes its place. Nothing ever marks the pool broken because one worker died (only
  workers that keep dying while they start, e.g. a failing initializer, break it).
- An attached event loop may read the reply pipes itself (``_loop_replies``); workers are
  forked by the pool's zygote (``_zygote``), which also reports their exit statuses.
- A task belongs to exactly one place at a time (the queue, a worker, or the thread that
  completes it), moved under ``_lock``; whoever takes it out completes its future.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import heapq
import itertools
import os
import selectors
import shutil
import sys
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future
from typing import Any

from .._exceptions import UsageError
from .._system import describe_exit, usable_cores
from . import _worker
from ._config import PoolConfig
from ._errors import Unpicklable, WorkerCrashed
from ._failures import crash_error, remote_error, timeout_error
from ._loop_replies import LoopReplies, ReaderHost, ReplySpin
from ._process import (
    WorkerProcess,
    Zygote,
    oom_kills,
    preparation_data,
    sigkill_cause,
)
from ._shm import SegmentCache
from ._stats import PoolCounters
from ._task import AssignedWorker, Observer, Task

_pool_ids = itertools.count(1)
_WAKE, _EXITS = object(), object()  # selector keys that are not workers
_STARTUP_FAILURES_BEFORE_BROKEN = 3
_STOP_FRAME = _worker.Encoder("", 1 << 62).encode((_worker.STOP,))[0]


def _refuse_pool_in_bootstrapping_worker() -> None:
    # A worker imports the caller's main module; a pool started there would start workers of
    # its own, each importing the main module again.
    worker_side = sys.modules.get("_gilwise_offload_worker")
    if worker_side is not None and getattr(worker_side, "BOOTSTRAPPING", False):
        raise UsageError(
            "a worker process tried to start a pool while importing the main module. "
            "Likely cause: the script creates an Offloader or Executor at import time. "
            "Fix: protect the entry point with `if __name__ == '__main__':`."
        )


def _worker_init(python: str, prefix: str, config: PoolConfig) -> tuple[Any, ...]:
    """The first message every worker gets: how to import the caller's functions, the pool's
    shared-memory prefix and threshold, and the initializer to run."""
    return (
        preparation_data(python),
        prefix,
        config.shm_threshold,
        config.initializer,
        tuple(config.initargs),
    )


def _selector_with_wake_pipe() -> tuple[selectors.BaseSelector, int, int]:
    """The collector's selector, already watching the read end of a pipe (key ``_WAKE``): a
    byte written to the other end (``WorkerPool._wake``) ends its wait."""
    selector = selectors.DefaultSelector()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    selector.register(wake_r, selectors.EVENT_READ, _WAKE)
    return selector, wake_r, wake_w


class WorkerPool(LoopReplies):
    """A fixed number of warm worker processes that survive each other's deaths."""

    def __init__(self, config: PoolConfig) -> None:
        """``config.workers`` must be set (``Runtime`` fills in the default: ``PoolConfig.sized``)."""
        _refuse_pool_in_bootstrapping_worker()
        if config.workers is None or config.backend != "process":
            raise ValueError(f"a WorkerPool needs a process backend of a known size, not {config!r}")
        self.config = config
        self.size, self.python = config.workers, config.python or sys.executable
        self.max_tasks_per_child = config.max_tasks_per_child
        self.counters = PoolCounters()
        self._prefix = f"gilwise-{os.getpid()}-{next(_pool_ids)}"
        self._segments = SegmentCache(f"{self._prefix}-p", config.shm_cache_bytes)
        self._encoder = _worker.Encoder(f"{self._prefix}-p", config.shm_threshold, self._segments.alloc)
        self._encoder_lock = threading.Lock()
        self._fault_dir = tempfile.mkdtemp(prefix=f"{self._prefix}-")
        init = _worker_init(self.python, self._prefix, config)
        try:
            self._init_frame = self._encoder.encode(init)[0]
        except Exception as exc:
            shutil.rmtree(self._fault_dir, ignore_errors=True)
            raise Unpicklable(f"cannot send the initializer or initargs to workers: {exc}") from exc
        self._lock = threading.Lock()
        self._idle_cond = threading.Condition(self._lock)
        self._tids = itertools.count(1)
        self._wids = itertools.count(1)
        self._queue: deque[Task] = deque()
        self._idle: list[WorkerProcess] = []
        self._workers: dict[int, WorkerProcess] = {}
        self._deadlines: list[tuple[float, int, Task]] = []
        self._dead: list[WorkerProcess] = []
        self._host: ReaderHost | None = None
        self._host_thread = 0
        self._startup_failures = 0
        self._announced = False  # self.ready was set (READY frames come from two threads)
        self._oom_seen = oom_kills()  # the cgroup's OOM-kill count, to name a SIGKILL's cause
        self._broken: str | None = None
        self._closing = False
        self._kill_running = False
        self.ready: Future[None] = Future()
        self.closed: Future[None] = Future()
        self._selector, self._wake_r, self._wake_w = _selector_with_wake_pipe()
        self._init = init
        self._zygote: Zygote | None = None
        self._spawned = False  # the collector thread started the first `workers` workers
        # Busy workers besides a spinning one that still leave it a core, beside the one
        # the parent's thread that reads replies needs (see _gate_spin_locked).
        self._spin_room = usable_cores() - 2
        # Busy workers that leave the loop's own thread a core to wait for a reply awake in.
        self._loop_spin_room = usable_cores() - 1
        self._reply_spin = ReplySpin(config.spin_us)
        self._spin_allowed: bool | None = None  # what every board says (None: to be written)
        self._busy = 0  # workers running a task (worker.task set), kept under _lock
        try:
            # Forked here, while the caller may still have a single thread (see _zygote);
            # the workers are forked by the zygote from the collector thread, so that the
            # constructor returns at once and each worker takes work as soon as it exists.
            self._zygote = Zygote(self.python, init, self._init_frame)
            self._selector.register(self._zygote.exits, selectors.EVENT_READ, _EXITS)
        except BaseException:
            self._release_resources()
            raise
        self._thread = threading.Thread(target=self._collect, name=f"{self._prefix}-collector", daemon=True)
        self._thread.start()
        _live_pools.add(self)

    # -- public engine API ----------------------------------------------------------------
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
        """Queue ``fn(*args, **kwargs)`` for a worker; with ``kind=CHUNK``, the list
        ``[fn(*a) for a in args]``; with ``kind=CHUNK1``, ``[fn(x) for x in args]``."""
        future: Future[Any] = Future()
        task = Task(
            next(self._tids),
            kind,
            fn,
            args,
            kwargs,
            timeout=timeout,
            retries=retries,
            observer=observer,
            future=future,
        )
        self._enqueue(task)
        future.add_done_callback(self._on_cancel)
        return future

    def _enqueue(self, task: Task) -> None:
        """Encode ``task`` in this thread and hand it to an idle worker or the queue; a task
        that cannot start (pool broken, arguments unpicklable) gets its error at once."""
        if self._closing:
            raise RuntimeError("cannot schedule new futures after shutdown")
        if self._broken:
            task.future.set_exception(
                WorkerCrashed(self._broken, exitcode=-1, signal=None, pid=-1, cause=self._broken)
            )
            return
        try:
            with self._encoder_lock:
                task.encode(self._encoder)
        except Unpicklable as exc:
            self.counters.bump("failed")
            task.future.set_exception(exc)
            return
        with self._lock:
            if self._closing:
                task.release()
                raise RuntimeError("cannot schedule new futures after shutdown")
            if self._broken:  # the workers failed to start since the check above
                task.release()
                task.future.set_exception(
                    WorkerCrashed(self._broken, exitcode=-1, signal=None, pid=-1, cause=self._broken)
                )
                return
            self.counters.bump("submitted")
            self._queue.append(task)
            if task.timeout is not None:
                heapq.heappush(self._deadlines, (time.monotonic() + task.timeout, task.tid, task))
                self._wake()
            sends = self._assign_locked()
        self._send(sends)

    def shutdown(
        self, *, wait: bool = True, cancel_pending: bool = False, kill_running: bool = False
    ) -> None:
        """Stop accepting work; drain (or cancel) what is queued; stop the workers."""
        cancelled: list[Task] = []
        with self._lock:
            self._closing = True
            if cancel_pending:
                cancelled, self._queue = list(self._queue), deque()
            if kill_running:
                self._kill_running = True
                for w in self._workers.values():
                    if w.task is not None:
                        w.kill("shutdown")
            self._wake()
        for task in cancelled:
            task.release()
            if task.future.cancel():
                self.counters.bump("cancelled")
        if wait and threading.current_thread() is not self._thread:
            self._thread.join()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue) + self._busy

    def alive(self) -> int:
        with self._lock:
            return len(self._workers)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._workers.values()]

    # -- dispatch -----------------------------------------------------------------------
    def _assign_locked(self) -> list[tuple[WorkerProcess, Task]]:
        sends = []
        while self._idle and self._queue:
            task = self._queue.popleft()
            if not task.started:
                if not task.future.set_running_or_notify_cancel():
                    task.release()
                    continue
                task.started = True
            worker = self._idle.pop()
            worker.task, task.worker = task, worker
            self._busy += 1
            sends.append((worker, task))
        self._gate_spin_locked()
        return sends

    def _gate_spin_locked(self) -> None:
        """Let a worker spin after its reply (``_worker.AdaptiveSpin``) only while the other
        busy workers leave a core for it beside the parent's thread that reads the replies:
        a spin must never take CPU from real work. A worker reads its board right after its
        reply, while it still counts as busy, so the budget follows the busy count alone and
        the boards are written only when that count crosses the line. Runs whenever a worker
        may have started or finished a task (every such path ends in ``_assign_locked``)."""
        allowed = self._busy - 1 <= self._spin_room
        if allowed is not self._spin_allowed:
            budget = self.config.spin_us if allowed else 0
            for w in self._workers.values():
                w.set_spin(budget)
            self._spin_allowed = allowed

    def _send(self, sends: list[tuple[WorkerProcess, Task]]) -> None:
        for worker, task in sends:
            # A worker that died before reading the frame never ran it: see _on_exit.
            worker.send(task.frame, task)

    def _on_cancel(self, future: Future[Any]) -> None:
        if future.cancelled():
            self.withdraw(future)

    def withdraw(self, future: object) -> bool:
        """Take the task of ``future`` out of the queue (its caller gave up), cancelling the
        future; False when the task is no longer queued (it runs, or is over)."""
        with self._lock:
            for task in self._queue:
                if task.future is future:
                    self._queue.remove(task)
                    break
            else:
                return False
        task.release()
        task.future.cancel()  # a no-op for a cancelled concurrent future
        self.counters.bump("cancelled")
        return True

    def _free_locked(self, worker: AssignedWorker) -> Task | None:
        """Take the worker's task off it (done, timed out, or the worker died): one fewer busy."""
        task, worker.task = worker.task, None
        if task is not None:
            self._busy -= 1
        return task

    # -- the collector thread -----------------------------------------------------------
    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"x")

    def _collect(self) -> None:
        try:
            self._start_first_workers()
            while True:
                with self._lock:
                    timeout = self._deadlines[0][0] - time.monotonic() if self._deadlines else None
                for key, _ in self._selector.select(None if timeout is None else max(timeout, 0.0)):
                    worker = key.data
                    if worker is _WAKE:
                        with contextlib.suppress(BlockingIOError):
                            os.read(self._wake_r, 4096)
                        continue
                    if worker is _EXITS:
                        if not self._zygote_required().read_exits():
                            # The zygote died: stop polling its socket; the next worker
                            # start replaces it (see _start_worker_locked).
                            self._selector.unregister(key.fileobj)
                        continue
                    frames = worker.read_frames()
                    for frame in frames or ():
                        self._on_frame(worker, frame)
                    if frames is None:
                        self._selector.unregister(worker.rep_fd)
                        self._on_exit(worker)
                with self._lock:
                    dead, self._dead = self._dead, []
                for worker in dead:
                    self._on_exit(worker)
                self._expire()
                if self._closing and self._finish_if_drained():
                    break
        except BaseException as exc:
            self._fail_everything(exc)
            raise
        finally:
            self._release_resources()
            if not self.ready.done():
                self.ready.set_exception(RuntimeError("the pool shut down before its workers started"))
            self.closed.set_result(None)

    def _on_frame(self, worker: WorkerProcess, frame: memoryview) -> None:
        try:
            msg: Any = _worker.decode(frame, writable=True, unlink=True)
        except Exception as exc:
            msg = (
                _worker.HEADER.unpack_from(frame)[2],
                _worker.BAD_RESULT,
                f"the reply could not be unpickled here ({type(exc).__name__}: {exc})",
                0.0,
                0.0,
            )
        if msg[0] == _worker.READY:
            with self._lock:
                worker.ready = True
                self._startup_failures = 0
                announce = self._all_ready_locked()
            if announce:
                self.ready.set_result(None)
            return
        tid, status, value, cpu, wall = msg
        with self._lock:
            task = worker.task
            if task is None or task.tid != tid:
                return  # the answer to a task already failed by a timeout
            self._free_locked(worker)
            worker.tasks_done += 1
            retire = self.max_tasks_per_child is not None and worker.tasks_done >= self.max_tasks_per_child
            if retire and not self._closing:
                self._retire_locked(worker)
                self._start_worker_locked()
            else:
                self._idle.append(worker)
            sends = self._assign_locked()
        task.release()
        if task.observer is not None:
            task.observer(cpu, wall)
        if status == _worker.OK:
            self.counters.bump("completed")
            task.future.set_result(value)
        else:
            self.counters.bump("failed")
            task.future.set_exception(remote_error(task, status, value))
        self._send(sends)

    def _on_exit(self, worker: WorkerProcess) -> None:
        """The worker's reply pipe closed: it died, retired or was killed. Start its
        replacement, and send its task again, retry it or fail it."""
        if not self._forget(worker):
            return
        read, code, fault = self._bury(worker)
        sig, cause = self._exit_cause(worker, code)
        with self._lock:
            task = self._free_locked(worker)
            self._count_startup_failure_locked(worker, sig, code)
            self._replace_locked(worker)
            error = None
            if task is not None and not task.future.done():
                error = self._settle_task_locked(task, worker, read, code, sig=sig, cause=cause, fault=fault)
            failed = self._take_queue_if_broken_locked()
            sends = self._assign_locked()
            never_ready = self._never_ready_locked()

        def crashed() -> WorkerCrashed:
            return WorkerCrashed(self._broken or "", exitcode=code, signal=sig, pid=worker.pid, cause=cause)

        if never_ready:  # whoever waits for the workers to start must hear it too
            self.ready.set_exception(crashed())
        if error is not None and task is not None:
            task.future.set_exception(error)
        _fail_tasks(failed, crashed)
        self._send(sends)

    def _forget(self, worker: WorkerProcess) -> bool:
        """Whether ``worker`` was still ours; forgotten now, before its pipes close: a closed
        fd number is soon reused by a new worker, and nothing may then take the new pipe for
        this one's."""
        with self._lock:
            if self._workers.get(worker.wid) is not worker:
                return False
            del self._workers[worker.wid]
            if worker in self._idle:
                self._idle.remove(worker)
            return True

    def _bury(self, worker: WorkerProcess) -> tuple[int, int | None, str]:
        """Close the dead worker's pipes and remove its files; (frames it had read, exit
        status, its fault log when it died running a task)."""
        read = worker.close()
        code = self._zygote_required().exit_code(worker.pid)
        fault = worker.fault_log() if worker.task is not None else ""
        with contextlib.suppress(OSError):
            os.unlink(worker.fault_path)
        if not self._closing:  # else _release_resources removes every segment of the pool
            for path in glob.glob(f"{_worker.SHM_DIR}/{self._prefix}-{worker.pid}-*"):
                with contextlib.suppress(OSError):
                    os.unlink(path)
        return read, code, fault

    def _exit_cause(self, worker: WorkerProcess, code: int | None) -> tuple[str | None, str]:
        """The signal that ended the worker and its likely cause; an unplanned SIGKILL is
        named an OOM kill when the cgroup's OOM-kill count rose meanwhile."""
        sig, cause = describe_exit(code)
        if sig == "SIGKILL" and not worker.killed_for:
            oom_now = oom_kills()
            cause = sigkill_cause(self._oom_seen, oom_now) or cause
            self._oom_seen = oom_now
        return sig, cause

    def _count_startup_failure_locked(self, worker: WorkerProcess, sig: str | None, code: int | None) -> None:
        """Workers that keep dying before they are ready break the pool: starting more
        would only fail the same way (a raising initializer, an interpreter that cannot
        import the task's modules)."""
        if worker.ready or worker.retiring or worker.killed_for is not None:
            return
        self._startup_failures += 1
        if self._startup_failures >= _STARTUP_FAILURES_BEFORE_BROKEN:
            self._broken = (
                f"{self._startup_failures} worker processes in a row died while starting "
                f"({sig or f'exit status {code}'}): the initializer raised, or the "
                f"interpreter {self.python} cannot import the task's modules. See the "
                "worker's stderr above; fix the initializer or the environment."
            )

    def _replace_locked(self, worker: WorkerProcess) -> None:
        if self._closing or self._broken is not None or worker.retiring:
            return
        self.counters.bump("restarts")
        try:
            self._start_worker_locked()
        except OSError as exc:
            self._broken = str(exc)

    def _settle_task_locked(
        self,
        task: Task,
        worker: WorkerProcess,
        read: int,
        code: int | None,
        *,
        sig: str | None,
        cause: str,
        fault: str,
    ) -> BaseException | None:
        """The dead worker's task goes back to the head of the queue (the worker never read
        it, or a retry is left), or gets the error returned here, to set outside the lock."""
        if worker.killed_for == "shutdown":
            task.release()
            return CancelledError()
        delivered = 0 < task.sent_as <= read
        if not delivered or (task.retries_left > 0 and not self._broken):
            if delivered:
                task.retries_left -= 1
                self.counters.bump("retries")
            task.worker = None
            self._queue.appendleft(task)
            return None
        task.release()
        self.counters.bump("crashes", "failed")
        return crash_error(task, worker.pid, code, sig=sig, cause=cause, fault=fault)

    def _take_queue_if_broken_locked(self) -> list[Task]:
        """A broken pool runs nothing more: what is queued is taken out, to be failed."""
        if not self._broken:
            return []
        failed = list(self._queue)
        self._queue.clear()
        return failed

    def _never_ready_locked(self) -> bool:
        """Whether the pool broke before it was ever ready (True once: the caller says so)."""
        never_ready = bool(self._broken) and not self._announced
        self._announced = self._announced or never_ready
        return never_ready

    def _expire(self) -> None:
        now, expired = time.monotonic(), []
        with self._lock:
            while self._deadlines and self._deadlines[0][0] <= now:
                task = heapq.heappop(self._deadlines)[2]
                if task.future.done():
                    continue
                # Take the task only from where it still is: a reply being completed by
                # another thread (an attached event loop) already owns it.
                if task.worker is not None and task.worker.task is task:
                    task.worker.kill("timeout")
                    self._free_locked(task.worker)
                elif task in self._queue:
                    self._queue.remove(task)
                else:
                    continue
                expired.append(task)
        for task in expired:
            task.release()
            self.counters.bump("timeouts", "failed")
            task.future.set_exception(timeout_error(task))

    # -- worker lifecycle ------------------------------------------------------------------
    def _start_first_workers(self) -> None:
        """Start the pool's workers one by one, each taking queued work at once (no waiting
        for the others); a shutdown with nothing queued stops the start-up early."""
        for _ in range(self.size):
            with self._lock:
                if self._broken or (self._closing and not self._queue):
                    break
                try:
                    self._start_worker_locked()
                except OSError as exc:
                    self._broken = str(exc)
                    break
                sends = self._assign_locked()
            self._send(sends)
        with self._lock:
            self._spawned = True
            announce = self._all_ready_locked()
            broken, failed = self._broken, self._take_queue_if_broken_locked()
            never_ready = self._never_ready_locked()
        if broken is None:
            if announce:
                self.ready.set_result(None)
            return
        error = WorkerCrashed(broken, exitcode=-1, signal=None, pid=-1, cause=broken)
        if never_ready:
            self.ready.set_exception(error)
        _fail_tasks(failed, lambda: error)

    def _all_ready_locked(self) -> bool:
        """Whether ``ready`` is to be set now (True once: the caller sets it)."""
        announce = (
            not self._announced
            and self._spawned
            and bool(self._workers)
            and all(w.ready for w in self._workers.values())
        )
        self._announced = self._announced or announce
        return announce

    def _start_worker_locked(self) -> None:
        wid = next(self._wids)
        fault = os.path.join(self._fault_dir, f"w{wid}.log")
        try:
            worker = WorkerProcess(wid, self._zygote_required(), fault, f"{self._prefix}-w{wid}")
        except OSError:
            # The zygote itself died (killed from outside): start a new one, once.
            self._replace_zygote_locked()
            worker = WorkerProcess(wid, self._zygote_required(), fault, f"{self._prefix}-w{wid}")
        self._workers[wid] = worker
        self._idle.append(worker)
        self._spin_allowed = None  # its board starts at 0
        self._watch_locked(worker)

    def _zygote_required(self) -> Zygote:
        assert self._zygote is not None, "the zygote is created in __init__"
        return self._zygote

    def _replace_zygote_locked(self) -> None:
        old = self._zygote_required()
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(old.exits)
        old.close(timeout=1.0)
        self._zygote = Zygote(self.python, self._init, self._init_frame)
        self._selector.register(self._zygote.exits, selectors.EVENT_READ, _EXITS)

    def _retire_locked(self, worker: WorkerProcess) -> None:
        worker.retiring = True
        worker.send(_STOP_FRAME)

    def _finish_if_drained(self) -> bool:
        with self._lock:
            if self._queue or self._busy:
                return False
            for w in self._workers.values():
                if not w.retiring:
                    self._retire_locked(w)
            self._idle.clear()
            # No worker starts any more: the zygote may reap its workers and exit meanwhile.
            self._zygote_required().stop()
            return not self._workers

    def _fail_everything(self, exc: BaseException) -> None:
        with self._lock:
            self._closing = True
            tasks = list(self._queue) + [w.task for w in self._workers.values() if w.task]
            self._queue.clear()
        for task in tasks:
            if not task.future.done():
                task.future.set_exception(RuntimeError(f"the offload collector thread failed: {exc!r}"))

    def _release_resources(self) -> None:
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for w in workers:
            w.kill("shutdown")
            w.close()
        if self._zygote is not None:
            self._zygote.close()
        with contextlib.suppress(Exception):
            self._selector.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._segments.close()
        for path in glob.glob(f"{_worker.SHM_DIR}/{self._prefix}-*"):
            with contextlib.suppress(OSError):
                os.unlink(path)
        try:
            os.rmdir(self._fault_dir)  # each worker's fault log went with the worker
        except OSError:
            shutil.rmtree(self._fault_dir, ignore_errors=True)


def _fail_tasks(tasks: list[Task], error: Callable[[], BaseException]) -> None:
    for task in tasks:
        task.release()
        if not task.future.done():
            task.future.set_exception(error())


_live_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


@atexit.register
def _shutdown_at_exit() -> None:
    # Like ProcessPoolExecutor at exit: pending work is drained, not cancelled.
    for pool in list(_live_pools):
        pool.reclaim_replies()
        pool.shutdown(wait=True)
