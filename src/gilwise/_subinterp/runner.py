"""Run N independent tasks in N sub-interpreters, each with its own GIL, from N threads.

Stdlib-only: this module runs inside harness worker processes under whichever CPython the user
chose (3.11 to 3.14, GIL or free-threaded build).

A task is ``(module, function, args)``: the sub-interpreter imports the module itself, since
objects cannot be shared between interpreters. Arguments and return values travel marshalled
(``marshal`` is built in: plain values, the common case) or else pickled (``pickle``, through
``re``, costs a fresh interpreter ~7 ms to import, and the cell measures its start-up).

Backends:
- 3.14+: ``concurrent.futures.InterpreterPoolExecutor`` (``backend="executor"``);
- 3.13: the low-level ``_interpreters`` module, 3.12: ``_xxsubinterpreters``
  (``backend="lowlevel"``), each interpreter created with the "isolated" config, which gives it
  its own GIL (PEP 684) - the same config ``interpreters.create()`` uses.

Timing is split into phases so the price of sub-interpreters can be read apart from their
parallelism: ``startup_s`` (create N interpreters and import the task modules in them, all N
threads at once), ``compute_wall_s`` (all N tasks released together, until the last finishes),
``teardown_s`` (destroy them). Each task's own ``compute_s`` is timed inside its interpreter.

The runner has no timeout: a task cannot be interrupted from outside its interpreter, so the
harness bounds the whole worker process instead.
"""

from __future__ import annotations

import contextlib
import importlib
import marshal
import os
import pickle
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING, Any

from .._exceptions import HarnessError, UsageError
from .records import SubinterpreterRun, Task, TaskFailed, TaskOutcome, task_outcomes

if TYPE_CHECKING:
    from .._pythons.discovery import InterpreterInfo

__all__ = ["SubinterpreterRun", "Task", "TaskFailed", "TaskOutcome", "run_tasks", "unavailable_reason"]


def unavailable_reason(info: InterpreterInfo) -> str | None:
    """None when ``info`` can run tasks in sub-interpreters with their own GIL, else why not."""
    if info.implementation != "cpython":
        return f"sub-interpreters are a CPython feature; {info.path} is {info.implementation}"
    if tuple(info.version_info[:2]) < (3, 12):
        return (
            f"sub-interpreters with their own GIL need CPython >= 3.12; {info.path} is "
            f"{info.label}. Pass a newer one with --python (gilwise doctor lists them)."
        )
    if info.subinterpreters_module is None:
        return (
            f"CPython {info.label} at {info.path} was built without its sub-interpreter module "
            "(_interpreters / _xxsubinterpreters); use a standard build of CPython >= 3.12"
        )
    return None


def run_tasks(tasks: list[Task], *, backend: str = "auto") -> SubinterpreterRun:
    """Run each task in its own sub-interpreter, all at once from one thread per task."""
    if not tasks:
        raise UsageError("run_tasks() got no tasks; give at least one Task(module, function).")
    if sys.version_info < (3, 12):
        raise UsageError(
            f"sub-interpreters with their own GIL need CPython >= 3.12; this is {sys.version.split()[0]}. "
            "Run the worker under a newer interpreter.",
            parameter="python",
            value=sys.executable,
        )
    if backend == "auto":
        backend = "executor" if sys.version_info >= (3, 14) else "lowlevel"
    if backend == "executor":
        if sys.version_info < (3, 14):
            raise UsageError("backend='executor' needs InterpreterPoolExecutor (CPython 3.14+).")
        from .pool import run_with_executor

        return run_with_executor(tasks)
    if backend != "lowlevel":
        raise UsageError(f"unknown backend {backend!r}; choose 'auto', 'executor' or 'lowlevel'.")
    return _run_lowlevel(tasks)


# --- 3.12 / 3.13: one low-level interpreter per thread ---------------------------------------

# Scripts run in the sub-interpreter's __main__. Results leave through an unlinked temporary
# file (a process-wide fd): unlike a pipe it cannot fill up and block a task that returns a lot.
_SEND = """
import marshal, os, time
def _gw_dumps(obj):
    try:
        return b"m" + marshal.dumps(obj)
    except ValueError:  # not a plain value: only then pay for pickle's import
        import pickle
        return b"p" + pickle.dumps(obj)
def _gw_loads(data):
    if data[:1] == b"m":
        return marshal.loads(data[1:])
    import pickle
    return pickle.loads(data[1:])
def _gw_send(obj):
    try:
        data = _gw_dumps(obj)
    except Exception as exc:
        data = _gw_dumps(("error", ("its result could not be pickled: %r" % (exc,), [])))
    os.lseek(_gw_fd, 0, 0)
    os.ftruncate(_gw_fd, 0)
    view = memoryview(data)
    while view:
        view = view[os.write(_gw_fd, view):]
def _gw_types(exc):
    return ["%s.%s" % (c.__module__, c.__qualname__) for c in type(exc).__mro__]
def _gw_format(exc):
    import traceback  # only on failure: ~8 ms to import in a fresh interpreter
    return "".join(traceback.format_exception(exc))
"""
_SETUP = """
import sys
try:
    _gw_path, _gw_module, _gw_function, _gw_setup, _gw_setup_args = _gw_loads(_gw_payload)
    sys.path[:] = _gw_path
    import importlib
    _gw_mod = importlib.import_module(_gw_module)
    _gw_func = getattr(_gw_mod, _gw_function)
    if _gw_setup is not None:
        getattr(_gw_mod, _gw_setup)(*_gw_setup_args)
    _gw_send(("ok", None))
except BaseException as _gw_exc:
    _gw_send(("error", (_gw_format(_gw_exc), _gw_types(_gw_exc))))
"""
_CALL = """
try:
    _gw_args = _gw_loads(_gw_payload)
    _gw_t0 = time.perf_counter()
    _gw_value = _gw_func(*_gw_args)
    _gw_t1 = time.perf_counter()
    _gw_send(("ok", (_gw_value, _gw_t0, _gw_t1)))
except BaseException as _gw_exc:
    _gw_send(("error", (_gw_format(_gw_exc), _gw_types(_gw_exc))))
"""


class _LowLevel:
    """The 3.12 and 3.13 spellings of the same four operations."""

    def __init__(self) -> None:
        name = "_interpreters" if sys.version_info >= (3, 13) else "_xxsubinterpreters"
        mod = importlib.import_module(name)
        self.mod: Any = mod
        self.name = mod.__name__

    def create(self) -> Any:
        # 3.12 returns an InterpreterID object, not an int: dropping the last reference to it
        # destroys the interpreter, so callers keep the object itself until destroy().
        if self.name == "_xxsubinterpreters":
            return self.mod.create(isolated=True)
        return self.mod.create("isolated")

    def run(self, interp: Any, script: str, shared: dict[str, Any]) -> None:
        if self.name == "_xxsubinterpreters":
            try:
                self.mod.run_string(interp, script, shared)
            except self.mod.RunFailedError as exc:  # 3.12 raises
                raise HarnessError(f"sub-interpreter {interp} failed outside the task: {exc}") from exc
            return
        excinfo = self.mod.exec(interp, script, shared)  # 3.13 returns the error instead
        if excinfo is not None:
            raise HarnessError(f"sub-interpreter {interp} failed outside the task: {excinfo.formatted}")

    def destroy(self, interp: Any) -> None:
        self.mod.destroy(interp)


def _dumps(obj: Any) -> bytes:
    """The parent's side of ``_gw_dumps`` (above): marshal for plain values, else pickle."""
    try:
        return b"m" + marshal.dumps(obj)
    except ValueError:
        return b"p" + pickle.dumps(obj)


def _loads(data: bytes) -> Any:
    return marshal.loads(data[1:]) if data[:1] == b"m" else pickle.loads(data[1:])


def _read(fd: int) -> Any:
    os.lseek(fd, 0, 0)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    status, payload = _loads(b"".join(chunks))
    if status != "ok":
        text, types = payload
        raise _TaskError(text, frozenset(types))
    return payload


class _TaskError(Exception):
    def __init__(self, text: str, types: frozenset[str]) -> None:
        super().__init__(text)
        self.types = types


def _prepare_interpreter(api: _LowLevel, interp: Any, task: Task, fd: int) -> None:
    """Gives ``interp`` the way to send results through ``fd`` (``_SEND``), then imports the
    task's module there and runs its setup; raises _TaskError with what the setup raised."""
    api.run(interp, _SEND, {"_gw_fd": fd})
    setup = _dumps((list(sys.path), task.module, task.function, task.setup, tuple(task.setup_args)))
    api.run(interp, _SETUP, {"_gw_payload": setup})
    _read(fd)


def _raise_if_any_failed(errors: list[str | None], error_types: list[frozenset[str]]) -> None:
    failed = [i for i, e in enumerate(errors) if e]
    if failed:
        raise TaskFailed(
            f"{len(failed)} of {len(errors)} sub-interpreter tasks failed. First: {errors[failed[0]]}\n"
            "A task must be importable by module name in a fresh interpreter, and every "
            "extension module it imports must support sub-interpreters (multi-phase init).",
            error_types[failed[0]],
        )


def _run_lowlevel(tasks: list[Task]) -> SubinterpreterRun:
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(tempfile.TemporaryFile()) for _ in tasks]
        return _run_lowlevel_with(_LowLevel(), tasks, [f.fileno() for f in files])


def _run_lowlevel_with(api: _LowLevel, tasks: list[Task], fds: list[int]) -> SubinterpreterRun:
    n = len(tasks)
    errors: list[str | None] = [None] * n
    error_types: list[frozenset[str]] = [frozenset()] * n
    raw: list[Any] = [None] * n
    ready, go, done = (threading.Barrier(n + 1) for _ in range(3))
    abort = threading.Event()

    def worker(i: int) -> None:
        task, fd = tasks[i], fds[i]
        interp: Any = None
        try:
            try:
                interp = api.create()
                _prepare_interpreter(api, interp, task, fd)
            except Exception as exc:  # the barriers below must be reached whatever happened
                errors[i] = f"setting up {task.module}.{task.function}: {exc}"
                error_types[i] = getattr(exc, "types", frozenset())
            ready.wait()
            go.wait()
            if not abort.is_set():
                try:
                    payload = _dumps(tuple(task.args))
                    api.run(interp, _CALL, {"_gw_payload": payload})
                    raw[i] = _read(fd)
                except Exception as exc:
                    errors[i] = f"{task.module}.{task.function}{tuple(task.args)!r}: {exc}"
                    error_types[i] = getattr(exc, "types", frozenset())
            done.wait()
        except threading.BrokenBarrierError:  # the main thread gave up; still clean up
            pass
        finally:
            # Destroyed by the thread that ran it: on 3.12, destroying from another thread an
            # interpreter that imported `threading` hangs in its threading._shutdown().
            if interp is not None:
                api.destroy(interp)

    threads = [threading.Thread(target=worker, args=(i,), name=f"gilwise-subinterp-{i}") for i in range(n)]
    t_start = time.perf_counter()
    try:
        for t in threads:
            t.start()
        ready.wait()
        startup_s = time.perf_counter() - t_start
        if any(errors):
            abort.set()
        t_go = time.perf_counter()
        go.wait()
        done.wait()
        t_end = time.perf_counter()
        for t in threads:
            t.join()
        teardown_s = time.perf_counter() - t_end
    finally:
        # On any way out, no thread may be left waiting (no-ops after a normal run).
        for barrier in (ready, go, done):
            barrier.abort()
        for t in threads:
            if t.ident is not None:
                t.join()
    _raise_if_any_failed(errors, error_types)
    return SubinterpreterRun(
        backend=api.name,
        outcomes=task_outcomes(raw, t_go),
        startup_s=startup_s,
        compute_wall_s=t_end - t_go,
        teardown_s=teardown_s,
    )
