"""The offload errors whose bases are heavy to import: ``BrokenProcessPool`` and ``PicklingError``.

Only the offload runtime raises them, so they live here and not in ``_exceptions``, which
every harness worker and sub-interpreter imports: ``concurrent.futures.process`` loads
multiprocessing, logging, socket and tempfile (~20 ms). ``gilwise.WorkerCrashed`` and
``gilwise.Unpicklable`` load this module on first use (the package root's ``__getattr__``).
May import ``_exceptions`` only. Both classes say ``gilwise`` is their module, so they pickle
by reference to the public name whichever path loaded them first.
"""

from __future__ import annotations

import pickle
from concurrent.futures.process import BrokenProcessPool

from .._exceptions import OffloadError


class WorkerCrashed(OffloadError, BrokenProcessPool):
    """The worker process running this task died; the pool has already replaced it.

    A subclass of ``BrokenProcessPool`` so that code written for ``ProcessPoolExecutor``
    still catches it, but only the task that ran in the dead worker fails: the pool stays usable.
    """

    __module__ = "gilwise"

    def __init__(
        self, message: str, *, exitcode: int | None, signal: str | None, pid: int, cause: str
    ) -> None:
        super().__init__(message)
        self.exitcode, self.signal, self.pid, self.cause = exitcode, signal, pid, cause

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_crash, (str(self), self.exitcode, self.signal, self.pid, self.cause))


def _rebuild_crash(
    message: str, exitcode: int | None, signal: str | None, pid: int, cause: str
) -> WorkerCrashed:
    return WorkerCrashed(message, exitcode=exitcode, signal=signal, pid=pid, cause=cause)


class Unpicklable(OffloadError, pickle.PicklingError):
    """A function, argument or result cannot be pickled, so it cannot cross to a process."""

    __module__ = "gilwise"
