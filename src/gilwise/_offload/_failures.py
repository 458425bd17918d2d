"""How a task's failure reads: every message says what happened, the likely cause, the fix."""

from __future__ import annotations

from typing import Any

from .._exceptions import OffloadTimeout
from . import _worker
from ._errors import Unpicklable, WorkerCrashed
from ._task import Task


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, attached as ``__cause__``."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return f'\n"""\n{self.tb}"""'


def crash_error(
    task: Task, pid: int, code: int | None, *, sig: str | None, cause: str, fault: str
) -> WorkerCrashed:
    status = f"signal {sig}" if sig else f"exit status {code}"
    text = (
        f"worker process {pid} died ({status}) while running {task.name}. Likely cause: "
        f"{cause}. The pool replaced the worker and the other tasks are unaffected. Fix: "
        "repair the task, or if it is idempotent pass retries=N to run it again."
    )
    if fault:
        text += f"\nfaulthandler in the worker reported:\n{fault}"
    return WorkerCrashed(text, exitcode=code, signal=sig, pid=pid, cause=cause)


def timeout_error(task: Task) -> OffloadTimeout:
    where = "its worker was killed and is being replaced" if task.worker else "it was still queued"
    return OffloadTimeout(
        f"{task.name} did not finish within timeout={task.timeout} s; {where}. "
        "Likely cause: the task is slower than expected or hangs. Fix: raise the "
        "timeout, split the task, or add workers if it waited in the queue."
    )


def remote_error(task: Task, status: int, value: Any) -> BaseException:
    if status == _worker.RAISED:
        exc, tb = value
        exc.__cause__ = RemoteTraceback(tb)
        return exc  # type: ignore[no-any-return]
    if status == _worker.BAD_RESULT:
        return Unpicklable(
            f"{value} (result of {task.name}). The worker stays usable. Fix: return plain data "
            "(numbers, str, bytes, lists, dicts, NumPy arrays) or make the object picklable."
        )
    return Unpicklable(
        f"{value} (task {task.name}). Likely cause: the function lives in a module the worker "
        "cannot import (defined interactively, or in a script without an "
        "`if __name__ == '__main__':` guard). Fix: define it in an importable module."
    )
