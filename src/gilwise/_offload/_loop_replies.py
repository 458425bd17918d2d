"""Replies read by an event loop instead of the collector thread (``WorkerPool.attach``).

A reply then completes its future inside the loop's own thread, saving the hop through the
collector thread and the loop's self-pipe wake-up; the collector keeps deadlines and deaths.
A call made on that thread (``submit_from_loop``) gets a ``LoopFuture``: its reply is decoded
and resolves a bare ``asyncio.Future`` right in the loop's reader callback, with no
``concurrent.futures.Future``, no condition variable and no callback chain between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import selectors
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError as FutureCancelled
from typing import Any, Protocol, Unpack

from . import _worker
from ._process import WorkerProcess
from ._task import CallLimits, Task

_PENDING, _RUNNING, _DONE = 0, 1, 2


class LoopFuture:
    """A task's future for a caller on the attached loop's thread (``submit_from_loop``).

    ``waiter`` is the ``asyncio.Future`` the caller awaits. Settled on the loop's thread (a
    reply read by the loop), it resolves ``waiter`` at once; settled by the collector thread (a
    death, a timeout, a shutdown), through ``call_soon_threadsafe``. It takes no lock: the pool
    settles a task once, by whoever owns it (see ``_pool``), and moves it from queued to
    running under its own lock, where a cancelled caller withdraws it too (``withdraw``).
    ``on_done`` runs once on the loop's thread when the task is over, whether or not anyone
    still awaits it (the admission slot of ``Offloader``).
    """

    __slots__ = ("_state", "_thread", "loop", "on_done", "waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop, on_done: Callable[[], None] | None) -> None:
        self.waiter: asyncio.Future[Any] = loop.create_future()
        self.on_done = on_done
        self.loop, self._thread = loop, threading.get_ident()
        self._state = _PENDING

    def set_running_or_notify_cancel(self) -> bool:
        if self._state == _DONE:
            return False  # withdrawn or cancelled while queued
        self._state = _RUNNING
        return True

    def cancel(self) -> bool:
        """Cancel a task still queued (a cancelling shutdown, ``withdraw``); False once it runs."""
        if self._state != _PENDING:
            return False
        self._settle(_cancel, None)
        return True

    def done(self) -> bool:
        return self._state == _DONE

    def set_result(self, result: Any) -> None:
        self._settle(_set_result, result)

    def set_exception(self, exception: BaseException | None) -> None:
        self._settle(_set_exception, exception)

    def _settle(self, how: Callable[[LoopFuture, Any], None], value: Any) -> None:
        self._state = _DONE
        if threading.get_ident() == self._thread:
            how(self, value)
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody awaits it
                self.loop.call_soon_threadsafe(how, self, value)


def _finish(future: LoopFuture) -> asyncio.Future[Any] | None:
    """Run ``on_done`` once; the waiter, if someone still waits on it."""
    on_done, future.on_done = future.on_done, None
    if on_done is not None:
        on_done()
    return None if future.waiter.done() else future.waiter


def _set_result(future: LoopFuture, value: Any) -> None:
    if (waiter := _finish(future)) is not None:
        waiter.set_result(value)


def _set_exception(future: LoopFuture, exc: BaseException) -> None:
    if (waiter := _finish(future)) is not None:
        if isinstance(exc, (FutureCancelled, asyncio.CancelledError)):
            waiter.cancel()  # killed by a cancelling shutdown
        else:
            waiter.set_exception(exc)


def _cancel(future: LoopFuture, _: None) -> None:
    if (waiter := _finish(future)) is not None:
        waiter.cancel()


class ReplySpin:
    """The loop's side of the worker's ``_worker.AdaptiveSpin``: right after sending a call,
    poll the worker's reply pipe for up to ``budget_us`` instead of letting the loop block in
    ``epoll``. A blocked loop lets its vCPU halt, and waking it costs an inter-processor
    interrupt and an exit to the hypervisor (tens of µs here), more than a small task takes.

    Bounded three ways: it spins only when the loop has no other callback ready (nothing waits
    behind it) and the busy workers leave a core for it (``WorkerPool``'s spin gate), and it
    halves its budget after each reply that came later than the full budget, down to nothing,
    restoring it after one in time, so long tasks cost no spinning. Polls with a zero timeout
    and ``sched_yield``, never a sleep: a yield lets the worker run first on a shared CPU.
    """

    MAX_HALVINGS = 6

    def __init__(self, budget_us: int) -> None:
        self.budget_us = budget_us
        self._halvings = 0
        self._unspun: WorkerProcess | None = None  # its reply tells whether to spin again
        self._sent_at = 0.0

    def wait(self, worker: WorkerProcess, loop: asyncio.AbstractEventLoop) -> bool:
        """Spin until ``worker``'s reply can be read (True) or the budget is spent (False)."""
        # ``_ready`` is the queue of callbacks of asyncio's own loops; other loops lack it
        # and are treated as idle.
        if not self.budget_us or getattr(loop, "_ready", None):
            return False
        now = time.perf_counter()
        budget = self.budget_us >> self._halvings
        if budget > 0:
            deadline = now + budget * 1e-6
            waiting = worker.reply_waiting
            while not waiting():
                if time.perf_counter() >= deadline:
                    break
                os.sched_yield()
            else:
                self._halvings = 0
                return True
            self._halvings = min(self._halvings + 1, self.MAX_HALVINGS)
        self._unspun, self._sent_at = worker, now
        return False

    def reply_read(self, worker: WorkerProcess) -> None:
        """A reply came through the loop's reader: spin again if it came within the budget."""
        if self._unspun is worker:
            self._unspun = None
            if (time.perf_counter() - self._sent_at) * 1e6 <= self.budget_us:
                self._halvings = 0


class ReaderHost(Protocol):
    """What ``WorkerPool.attach`` needs of an event loop (``asyncio`` loops have it)."""

    def add_reader(self, fd: int, callback: Callable[..., object], *args: Any) -> None: ...
    def remove_reader(self, fd: int) -> bool: ...
    def call_soon_threadsafe(self, callback: Callable[..., object], *args: Any) -> Any: ...


class LoopReplies:
    """The part of ``WorkerPool`` that decides who reads each worker's reply pipe."""

    _lock: threading.Lock
    _host: ReaderHost | None
    _host_thread: int
    _workers: dict[int, WorkerProcess]
    _dead: list[WorkerProcess]
    _selector: selectors.BaseSelector
    _tids: Iterator[int]
    _busy: int
    _loop_spin_room: int
    _reply_spin: ReplySpin

    def _wake(self) -> None:
        raise NotImplementedError

    def _on_frame(self, worker: WorkerProcess, frame: memoryview) -> None:
        raise NotImplementedError

    def _enqueue(self, task: Task) -> None:
        raise NotImplementedError

    def withdraw(self, future: object) -> bool:
        raise NotImplementedError

    def submit_from_loop(
        self,
        fn: Callable[..., Any],
        args: Sequence[Any],
        kwargs: dict[str, Any],
        on_done: Callable[[], None] | None,
        **limits: Unpack[CallLimits],
    ) -> LoopFuture:
        """``WorkerPool.submit`` of one call (``kind=CALL``) for a caller on the attached loop's
        thread (``attached_here``): await the returned future's ``waiter``; if the caller is
        cancelled, ``withdraw`` it."""
        future = LoopFuture(asyncio.get_running_loop(), on_done)
        task = Task(next(self._tids), _worker.CALL, fn, args, kwargs, future=future, **limits)
        self._enqueue(task)
        worker = task.worker
        if (
            isinstance(worker, WorkerProcess)
            and not future.done()
            and self._busy <= self._loop_spin_room
            and worker not in self._dead  # else its pipe may be closed by now
            and self._reply_spin.wait(worker, future.loop)
        ):
            self._on_host_readable(worker)  # the reply is there: no trip through epoll
        return future

    def attached_here(self) -> bool:
        """Whether an event loop running in this thread reads the replies (see ``attach``)."""
        return self._host is not None and threading.get_ident() == self._host_thread

    def _watch_locked(self, worker: WorkerProcess) -> None:
        """Start reading a new worker's replies, in the collector or in the loop."""
        host = self._host
        if host is None:
            self._selector.register(worker.rep_fd, selectors.EVENT_READ, worker)
        elif threading.get_ident() == self._host_thread:
            host.add_reader(worker.rep_fd, self._on_host_readable, worker)
        else:
            host.call_soon_threadsafe(self._host_add, host, worker)

    def attach(self, host: ReaderHost) -> None:
        """Let ``host`` (an asyncio loop; call from its thread) read the replies itself.

        A reply then completes its future inside the loop's own thread: no hop through the
        collector thread, which keeps only deadlines and worker deaths. Call once the
        workers are ready (no reply is in flight) and ``detach`` before the loop stops.
        """
        with self._lock:
            if self._host is not None:
                raise RuntimeError("this pool already delivers its replies to an event loop")
            self._host, self._host_thread = host, threading.get_ident()
            for worker in self._workers.values():
                if not worker.retiring:
                    self._selector.unregister(worker.rep_fd)
                    host.add_reader(worker.rep_fd, self._on_host_readable, worker)

    def detach(self) -> None:
        """Hand the replies back to the collector thread (call from the loop's thread)."""
        with self._lock:
            host, self._host = self._host, None
            if host is None:
                return
            for worker in self._workers.values():
                if worker not in self._dead and host.remove_reader(worker.rep_fd):
                    self._selector.register(worker.rep_fd, selectors.EVENT_READ, worker)
            self._wake()

    def reclaim_replies(self) -> None:
        """At exit the attached loop no longer runs: let the collector read every reply."""
        with self._lock:
            if self._host is None:
                return
            self._host = None
            for worker in self._workers.values():
                if worker not in self._dead and worker.rep_fd not in self._selector.get_map():
                    self._selector.register(worker.rep_fd, selectors.EVENT_READ, worker)
            self._wake()

    def _host_add(self, host: ReaderHost, worker: WorkerProcess) -> None:
        with self._lock:
            if worker.wid not in self._workers or worker in self._dead:
                return
            if self._host is host:
                host.add_reader(worker.rep_fd, self._on_host_readable, worker)
            else:
                self._selector.register(worker.rep_fd, selectors.EVENT_READ, worker)
                self._wake()

    def _on_host_readable(self, worker: WorkerProcess) -> None:
        self._reply_spin.reply_read(worker)
        frames = worker.read_frames()
        for frame in frames or ():
            self._on_frame(worker, frame)
        if frames is None:
            # Reaping and restarting take milliseconds: leave them to the collector thread.
            with self._lock:
                if self._host is not None:
                    self._host.remove_reader(worker.rep_fd)
                self._dead.append(worker)
                self._wake()
