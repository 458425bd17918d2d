"""The ``cell`` worker mode: ``calls`` calls of the target under one model, timed as a user's
program would meet them (pool creation, shipping every call's arguments and result, shutdown).

Stdlib only. Unlike the harness's models, which ship a small task reference, a process pool
here receives the user's real arguments per call (``submit(fn, *args)`` pickles them each time)
and sends the real result back: what ``ProcessPoolExecutor`` costs that code.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import pickle
import resource
import time
from collections.abc import Callable
from typing import Any

from . import calls
from .protocol import CellModel, CellReport
from .target import is_coroutine

DISTINCT_ITEMS_LIMIT = 256 << 20
"""``pool.map`` with chunks pickles each chunk in one go, so one argument object repeated would
be sent once per chunk (pickle's memo); chunked cells build distinct copies first, up to this."""

Fn = Callable[..., Any]


def _cpu() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


class _Submitting:
    """Time spent submitting (the caller's serial share of a pool's dispatch)."""

    seconds = 0.0


def _serial(fn: Fn, args: tuple[Any, ...], kwargs: dict[str, Any], n: int, calls_: int) -> list[float]:
    return [calls.timed_call(fn, args, kwargs)[1] for _ in range(calls_)]


def _threads(fn: Fn, args: tuple[Any, ...], kwargs: dict[str, Any], n: int, calls_: int) -> list[float]:
    with cf.ThreadPoolExecutor(n) as pool:
        t0 = time.perf_counter()
        futures = [pool.submit(calls.timed_call, fn, args, kwargs) for _ in range(calls_)]
        _Submitting.seconds = time.perf_counter() - t0
        return [f.result()[1] for f in futures]


def _pool_calls(
    pool: cf.Executor, fn: Fn, args: tuple[Any, ...], kwargs: dict[str, Any], calls_: int, chunk: int
) -> list[float]:
    if chunk <= 1:
        t0 = time.perf_counter()
        futures = [pool.submit(calls.timed_call, fn, args, kwargs) for _ in range(calls_)]
        _Submitting.seconds = time.perf_counter() - t0
        return [f.result()[1] for f in futures]
    blob = pickle.dumps((fn, args, kwargs))
    items = [pickle.loads(blob) for _ in range(calls_)]
    return [d for _, d in pool.map(calls.timed_packed, items, chunksize=chunk)]


def _asyncio(fn: Fn, args: tuple[Any, ...], kwargs: dict[str, Any], n: int, calls_: int) -> list[float]:
    """Coroutine functions: ``calls`` tasks at most ``n`` at a time; blocking functions:
    ``asyncio.to_thread`` on a default executor of ``n`` threads."""

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        if not is_coroutine(fn):
            loop.set_default_executor(cf.ThreadPoolExecutor(n))
            done = await asyncio.gather(
                *(asyncio.to_thread(calls.timed_call, fn, args, kwargs) for _ in range(calls_))
            )
            return [d for _, d in done]
        gate = asyncio.Semaphore(n)

        async def one() -> float:
            async with gate:
                t0 = time.perf_counter()
                await fn(*args, **kwargs)
                return time.perf_counter() - t0

        return list(await asyncio.gather(*(one() for _ in range(calls_))))

    return asyncio.run(main())


def _executor(model: CellModel, n: int) -> cf.Executor:
    if model == "processes":
        return cf.ProcessPoolExecutor(n)
    make = getattr(cf, "InterpreterPoolExecutor", None)
    if make is None:
        raise NotImplementedError("sub-interpreter pools need CPython 3.14+ (InterpreterPoolExecutor)")
    pool: cf.Executor = make(n)
    return pool


def reference_call_s(fn: Fn, args: tuple[Any, ...], kwargs: dict[str, Any], seconds: float) -> float:
    """Mean of serial calls for about ``seconds`` (at least two calls)."""
    done, t0 = 0, time.perf_counter()
    while done < 2 or time.perf_counter() - t0 < seconds:
        fn(*args, **kwargs)
        done += 1
    return (time.perf_counter() - t0) / done


def run_cell(
    model: CellModel,
    workers: int,
    calls_: int,
    chunk: int,
    fn: Fn,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    reference_s: float = 0.0,
) -> CellReport:
    notes: list[str] = []
    serial_fn = _SyncCall(fn) if is_coroutine(fn) else fn
    reference = reference_call_s(serial_fn, args, kwargs, reference_s) if reference_s > 0 else None
    if model in ("processes", "interpreters") and chunk > 1:
        size = len(pickle.dumps((args, kwargs)))
        if size * calls_ > DISTINCT_ITEMS_LIMIT:
            notes.append(f"chunksize {chunk} -> 1: {calls_} distinct copies of the arguments would not fit")
            chunk = 1
    if model not in ("asyncio", "serial"):
        fn = serial_fn
    cpu0_self, cpu0_kids = _cpu()
    window0 = time.monotonic()
    t0 = time.perf_counter()
    if model == "serial":
        durations = _serial(serial_fn, args, kwargs, 1, calls_)
    elif model == "threads":
        durations = _threads(fn, args, kwargs, workers, calls_)
    elif model == "asyncio":
        durations = _asyncio(fn, args, kwargs, workers, calls_)
    else:
        with _executor(model, workers) as pool:
            durations = _pool_calls(pool, fn, args, kwargs, calls_, chunk)
    wall = time.perf_counter() - t0
    window1 = time.monotonic()
    cpu1_self, cpu1_kids = _cpu()
    return {
        "ok": True,
        "model": model,
        "workers": workers,
        "calls": calls_,
        "chunksize": chunk,
        "wall_s": wall,
        "in_task_s": durations,
        "submit_s": _Submitting.seconds,
        "reference_call_s": reference,
        "window": [window0, window1],
        "cpu_self_s": cpu1_self - cpu0_self,
        "cpu_children_s": cpu1_kids - cpu0_kids,
        "notes": notes,
    }


class _SyncCall:
    """A coroutine function as a blocking, picklable callable (one event loop per call)."""

    def __init__(self, fn: Fn) -> None:
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return asyncio.run(self.fn(*args, **kwargs))
