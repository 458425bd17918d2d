"""A unit of work for the process pool, and how it becomes a wire frame."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, Protocol, TypedDict

from . import _worker
from ._errors import Unpicklable

Observer = Callable[[float, float], None]


class CallLimits(TypedDict):
    """How a call may run: ``timeout`` in seconds (None: none), ``retries`` after a worker's
    death, and the ``observer`` of its CPU and wall time (the auto router's)."""

    timeout: float | None
    retries: int
    observer: Observer | None


class TaskFuture(Protocol):
    """What the pool does with a task's future: a ``concurrent.futures.Future``, or the
    lean ``_loop_replies.LoopFuture`` an attached event loop awaits. The pool settles it once,
    by whoever owns the task (see ``_pool``), from whichever thread that is."""

    def set_result(self, result: Any) -> None: ...
    def set_exception(self, exception: BaseException | None) -> None: ...
    def set_running_or_notify_cancel(self) -> bool: ...
    def cancel(self) -> bool: ...
    def done(self) -> bool: ...


class AssignedWorker(Protocol):
    """The worker process a task was sent to, as far as the pool reaches it through the task
    (``_process.WorkerProcess``, which keeps the task in turn). A protocol, so that the task
    sits below the process in the import graph instead of the two naming each other."""

    task: Task | None

    def kill(self, reason: str) -> None: ...


class Task:
    """One call (or one chunk of a ``map``) travelling to a worker and back."""

    __slots__ = (
        "args",
        "fn",
        "frame",
        "future",
        "kind",
        "kwargs",
        "observer",
        "retries_left",
        "segments",
        "sent_as",
        "started",
        "tid",
        "timeout",
        "worker",
    )

    def __init__(
        self,
        tid: int,
        kind: int,
        fn: Callable[..., Any],
        args: Sequence[Any],
        kwargs: dict[str, Any],
        *,
        timeout: float | None,
        retries: int,
        observer: Observer | None,
        future: TaskFuture | None = None,
    ) -> None:
        self.tid, self.kind, self.fn, self.args, self.kwargs = tid, kind, fn, args, kwargs
        self.timeout, self.retries_left, self.observer = timeout, retries, observer
        self.future: TaskFuture = Future() if future is None else future
        self.frame = b""
        self.segments: list[_worker.Segment] = []
        self.worker: AssignedWorker | None = None
        self.started = False  # the future was moved to RUNNING
        self.sent_as = 0  # which request of its worker it was (0: never written)

    def encode(self, encoder: _worker.Encoder) -> None:
        """Pickle now, in the caller's thread, so a bad argument fails the caller at once."""
        if self.kind == _worker.CALL:
            args, bytes_at = _big_bytes_out_of_band(self.args, encoder.threshold)
            msg: tuple[Any, ...] = (_worker.CALL, self.tid, self.fn, args, self.kwargs, bytes_at)
        else:
            msg = (self.kind, self.tid, self.fn, self.args)
        try:
            self.frame, self.segments = encoder.encode(msg, self.tid)
        except Exception as exc:
            raise Unpicklable(_unpicklable_message(self, exc)) from exc

    def release(self) -> None:
        """Free the shared memory of the arguments (the worker is done with them)."""
        if self.segments:
            _worker.release(self.segments)
            self.segments = []
        self.frame = b""

    @property
    def name(self) -> str:
        return getattr(self.fn, "__qualname__", None) or repr(self.fn)


def _big_bytes_out_of_band(args: Sequence[Any], threshold: int) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    """Top-level bytes arguments above the threshold go through shared memory too.

    pickle keeps ``bytes`` in band; wrapping them in ``PickleBuffer`` sends them out of band and
    the worker turns them back into ``bytes`` (one copy out of shared memory, none in a pipe).
    """
    at = tuple(i for i, a in enumerate(args) if type(a) in (bytes, bytearray) and len(a) >= threshold)
    if not at:
        return tuple(args), ()
    out = list(args)
    for i in at:
        out[i] = pickle.PickleBuffer(out[i])
    return tuple(out), at


def culprit(
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    kind: int,
    dumps: Callable[[object], object] = pickle.dumps,
) -> str:
    """Which part of a call ``dumps`` cannot serialise, in words (for ``Unpicklable``)."""

    def fails(obj: object) -> bool:
        try:
            dumps(obj)
        except Exception:
            return True
        return False

    if fails(fn):
        return f"the function {fn!r}"
    items = [a for t in args for a in t] if kind == _worker.CHUNK else list(args)
    for i, arg in enumerate(items):
        if fails(arg):
            return f"argument {i} ({_worker._describe(arg)}, of type {type(arg).__qualname__})"
    for key, value in kwargs.items():
        if fails(value):
            return f"keyword argument {key}= ({_worker._describe(value)})"
    return "the call"


def _unpicklable_message(task: Task, exc: BaseException) -> str:
    what = culprit(task.fn, task.args, task.kwargs, task.kind)
    return (
        f"cannot send {what} to a worker process: {type(exc).__name__}: {exc}. "
        "Likely cause: lambdas, closures, locally defined functions, locks, sockets and open "
        "files cannot be pickled. Fix: define the function at module level and pass plain "
        "data, or run it in a thread with route='io' (or 'native' for GIL-releasing code)."
    )
