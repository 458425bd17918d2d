"""Replies read by an event loop instead of the collector thread (``WorkerPool.attach``).

A reply then completes its future inside the loop's own thread, saving the hop through the
collector thread and the loop's self-pipe wake-up; the collector keeps deadlines and deaths.
"""

from __future__ import annotations

import selectors
import threading
from collections.abc import Callable
from typing import Any, Protocol

from ._process import WorkerProcess


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

    def _wake(self) -> None:
        raise NotImplementedError

    def _on_frame(self, worker: WorkerProcess, frame: memoryview) -> None:
        raise NotImplementedError

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
