"""The CPython 3.14+ backend of _subinterpreters: concurrent.futures.InterpreterPoolExecutor.

Stdlib-only, imported only on 3.14+. The pool pickles callables by reference, so this module
(and each task's module) must be importable inside a fresh interpreter: harness workers run
with PYTHONPATH pointing at gilwise's src/, which every sub-interpreter inherits; the
initializer then copies the parent's sys.path for task modules found at run time.

Tested under Debian's CPython 3.14 and 3.15 (``scripts/debian-python.sh``), which discovery
finds in gilwise's cache; the tests skip with the reason where no 3.14+ is found.
"""

from __future__ import annotations

import pickle
import sys
import time
from typing import TYPE_CHECKING, Any

from .._exceptions import HarnessError, WorkloadFailed

if TYPE_CHECKING:
    from .records import SubinterpreterRun, Task

_RENDEZVOUS_TIMEOUT_S = 120.0

_setup_failure: tuple[str, list[str]] | None = None
"""Set in a worker interpreter whose initializer raised: reported at the rendezvous with the
exception's class names (an exception object cannot cross interpreters; a broken pool would
lose what was raised)."""


def _failure(exc: BaseException) -> tuple[str, list[str]]:
    import traceback

    return traceback.format_exc(), [f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__]


def _prepare_worker(
    path: list[str], modules: list[str], setups: list[tuple[str, str, tuple[Any, ...]]]
) -> None:
    """Initializer, run once in each new interpreter: the parent's sys.path, task modules, and
    each distinct Task.setup call (any worker may run any task)."""
    import importlib

    global _setup_failure
    try:
        sys.path[:] = path
        for name in modules:
            importlib.import_module(name)
        for module, function, args in setups:
            getattr(importlib.import_module(module), function)(*args)
    except BaseException as exc:
        _setup_failure = _failure(exc)


def _rendezvous(arrived: Any, release: Any) -> None:
    """Blocks a worker until every worker has started, so N interpreters exist at once."""
    arrived.put(_setup_failure)
    release.get(timeout=_RENDEZVOUS_TIMEOUT_S)


def _call_task(module: str, function: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``("ok", pickled value, t0, t1)``, or ``("error", traceback, class names)``.

    The value is pickled here, in the task's interpreter: a result that cannot cross then fails
    as that task's error with the reason, where the pool itself would only say
    "NotShareableError: object does not support cross-interpreter data". Bytes cross as they are.
    """
    import importlib

    try:
        func = getattr(importlib.import_module(module), function)
        t0 = time.perf_counter()
        value = func(*args)
        t1 = time.perf_counter()
    except Exception as exc:
        return ("error", *_failure(exc))
    try:
        return "ok", pickle.dumps(value), t0, t1
    except Exception as exc:
        return "error", f"its result could not be pickled: {exc!r}", _failure(exc)[1]


def _setup_calls(tasks: list[Task]) -> list[tuple[str, str, tuple[Any, ...]]]:
    """Each distinct ``Task.setup`` call, in the order of the tasks: every worker runs them all."""
    setups: list[tuple[str, str, tuple[Any, ...]]] = []
    for t in tasks:
        if t.setup is None:
            continue
        call = (t.module, t.setup, tuple(t.setup_args))
        if call not in setups:
            setups.append(call)
    return setups


def _await_rendezvous(arrived: Any, warmups: list[Any], queue_empty: type[Exception]) -> None:
    """Returns once every worker has reported at the rendezvous; raises as soon as one reports a
    failed setup or the pool breaks, else at the deadline."""
    # Loaded already by run_with_executor, which says why records is not imported at the top.
    from .records import TaskFailed

    n = len(warmups)
    deadline, arrivals = time.monotonic() + _RENDEZVOUS_TIMEOUT_S, 0
    while arrivals < n:
        try:
            # Whole seconds: Queue.get() truncates its timeout with int(), so 0.05 became 0
            # and this loop spun a core (measured here: 3.14 start-up 0.30 s instead of 0.14
            # s on 2 cores). It polls every 10 ms inside, so arrivals are still seen at once.
            failure = arrived.get(timeout=1)
            arrivals += 1
            if failure is not None:
                text, types = failure
                raise TaskFailed(f"a sub-interpreter failed to start: {text}", frozenset(types))
        except queue_empty:
            # A failing initializer breaks the pool: fail now, not at the deadline.
            broken = [f.exception() for f in warmups if f.done() and f.exception()]
            if broken or time.monotonic() > deadline:
                raise WorkloadFailed(
                    f"{arrivals} of {n} sub-interpreters started: "
                    f"{broken[0] if broken else 'timed out'}. Task modules must be "
                    "importable in a fresh interpreter (PYTHONPATH) and every extension "
                    "they import must support sub-interpreters."
                ) from None


def _collect_replies(
    tasks: list[Task], futures: list[Any]
) -> tuple[list[tuple[Any, ...]], list[tuple[str, frozenset[str]]]]:
    """``(value, t0, t1)`` for each task that succeeded, in task order, and ``(text, class
    names)`` for each that failed."""
    raw: list[tuple[Any, ...]] = []
    errors: list[tuple[str, frozenset[str]]] = []
    for task, fut in zip(tasks, futures, strict=True):
        try:
            reply = fut.result()
        except Exception as exc:  # the result could not come back (e.g. unpicklable)
            errors.append((f"{task.module}.{task.function}{tuple(task.args)!r}: {exc!r}", frozenset()))
            continue
        if reply[0] == "ok":
            raw.append((pickle.loads(reply[1]), *reply[2:]))
        else:
            where = f"{task.module}.{task.function}{tuple(task.args)!r}"
            errors.append((f"{where}: {reply[1]}", frozenset(reply[2])))
    return raw, errors


def run_with_executor(tasks: list[Task]) -> SubinterpreterRun:
    import importlib

    # Through importlib: the type checker runs against 3.11, where neither exists.
    interpreters: Any = importlib.import_module("concurrent.interpreters")
    futures: Any = importlib.import_module("concurrent.futures")
    InterpreterPoolExecutor = futures.InterpreterPoolExecutor
    # Here, not at the top: every interpreter of the pool imports this module (it unpickles
    # ``_call_task`` by reference), and ``records``' dataclasses (inspect, ast) would add ~15 ms
    # to each one's start-up, which the cell measures.
    from .records import SubinterpreterRun, TaskFailed, task_outcomes

    n = len(tasks)
    modules = sorted({t.module for t in tasks})
    setups = _setup_calls(tasks)
    arrived, release = interpreters.create_queue(), interpreters.create_queue()
    t_start = time.perf_counter()
    pool = InterpreterPoolExecutor(
        max_workers=n, initializer=_prepare_worker, initargs=(list(sys.path), modules, setups)
    )
    released = False
    try:
        # The pool starts workers lazily and reuses idle ones: N tasks that each wait for all N
        # to arrive force N interpreters into existence before any compute is timed.
        warmups = [pool.submit(_rendezvous, arrived, release) for _ in range(n)]
        _await_rendezvous(arrived, warmups, interpreters.QueueEmpty)
        startup_s = time.perf_counter() - t_start
        for _ in range(n):
            release.put(None)
        released = True
        for f in warmups:
            f.result()
        t_go = time.perf_counter()
        calls = [pool.submit(_call_task, t.module, t.function, tuple(t.args)) for t in tasks]
        raw, errors = _collect_replies(tasks, calls)
        t_end = time.perf_counter()
    finally:
        if not released:  # unblock the workers still waiting at the rendezvous
            for _ in range(n):
                release.put(None)
        t_teardown = time.perf_counter()
        pool.shutdown(wait=True, cancel_futures=True)
        teardown_s = time.perf_counter() - t_teardown
    if errors:
        text, types = errors[0]
        raise TaskFailed(f"{len(errors)} of {n} sub-interpreter tasks failed. First: {text}", types)
    if len(raw) != n:
        raise HarnessError(f"InterpreterPoolExecutor returned {len(raw)} results for {n} tasks")
    return SubinterpreterRun(
        backend="InterpreterPoolExecutor",
        outcomes=task_outcomes(raw, t_go),
        startup_s=startup_s,
        compute_wall_s=t_end - t_go,
        teardown_s=teardown_s,
    )
