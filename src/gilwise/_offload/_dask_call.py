"""A call on the Dask backend, and how its failures read (what happened, the likely cause,
the fix), as ``_task`` and ``_failures`` are for the process pool."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from distributed.protocol import pickle as dask_pickle

from .._exceptions import OffloadError, UsageError
from ._errors import Unpicklable, WorkerCrashed
from ._task import Observer, culprit


class DaskCall:
    """One call (or ``map`` chunk) and the Dask future currently running it."""

    __slots__ = (
        "args",
        "deadline",
        "dfut",
        "fn",
        "future",
        "kind",
        "kwargs",
        "observer",
        "retries_left",
        "timeout",
    )

    def __init__(
        self,
        fn: Callable[..., Any],
        args: Sequence[Any],
        kwargs: dict[str, Any],
        kind: int,
        timeout: float | None,
        retries: int,
        observer: Observer | None,
    ) -> None:
        self.fn, self.args, self.kwargs, self.kind = fn, args, kwargs, kind
        self.timeout, self.retries_left, self.observer = timeout, retries, observer
        self.future: Future[Any] = Future()
        self.dfut: Any = None
        self.deadline: float | None = None

    @property
    def name(self) -> str:
        return getattr(self.fn, "__qualname__", None) or repr(self.fn)


def unreturnable(call: DaskCall, exc: BaseException) -> BaseException:
    """A finished task whose result cannot reach the caller."""
    if "serialize" in str(exc):  # distributed's "Could not serialize object of type ..."
        error: BaseException = Unpicklable(
            f"{exc} (result of {call.name}). The workers stay usable. Fix: return plain data "
            "(numbers, str, bytes, lists, dicts, NumPy arrays) or make the object picklable."
        )
    else:
        error = OffloadError(
            f"the result of {call.name} could not be fetched from the Dask cluster: "
            f"{type(exc).__name__}: {exc}. Likely cause: the worker holding it left the cluster. "
            "Fix: if the task is idempotent, call it again."
        )
    error.__cause__ = exc
    return error


def crash_error(call: DaskCall, exc: Any) -> WorkerCrashed:
    worker = exc.last_worker
    pid = int(getattr(worker, "pid", 0) or -1)
    cause = (
        f"the Dask worker {worker.address} left the cluster while it held the task: its process "
        "was killed (SIGKILL, out of memory: the nanny's memory limit or the kernel's OOM killer), "
        "crashed in native code, or lost its machine. The worker's log says which"
    )
    text = (
        f"Dask worker {worker.address} (pid {pid}) died while running {call.name}. Likely cause: "
        f"{cause}. The other tasks are unaffected and its nanny starts a replacement. Fix: repair "
        "the task, or if it is idempotent pass retries=N to run it again."
    )
    return WorkerCrashed(text, exitcode=None, signal=None, pid=pid, cause=cause)


def unpicklable_message(call: DaskCall, exc: BaseException) -> str:
    what = culprit(call.fn, call.args, call.kwargs, call.kind, dask_pickle.dumps)
    return (
        f"cannot send {what} of {call.name} to the Dask cluster: {type(exc).__name__}. Likely cause: "
        "locks, sockets, open files and generators cannot be serialised. Fix: pass plain data, or "
        "run it in a thread with route='io' (or 'native' for GIL-releasing code)."
    )


def start_error(address: str | None, exc: BaseException) -> BaseException:
    if isinstance(exc, UsageError):
        return exc
    if address is None:
        fix = (
            "a LocalCluster starts its workers as fresh interpreters that import your __main__: "
            "protect the entry point with `if __name__ == '__main__':`"
        )
    else:
        fix = (
            "check the address (`dask scheduler` prints it) and that this machine can reach it; "
            "the workers need the same Python environment as this process"
        )
    where = f"the Dask scheduler at {address}" if address else "a LocalCluster"
    error = OffloadError(f"could not start on {where}: {type(exc).__name__}: {exc}. Fix: {fix}.")
    error.__cause__ = exc
    return error
