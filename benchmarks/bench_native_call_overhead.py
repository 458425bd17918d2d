"""What crossing into native code costs, and what the sqrt_log kernels give per iteration and
under two threads.

    uv run python benchmarks/bench_native_call_overhead.py [--quick] [--json PATH]

1. Call overhead of a trivial function: Python call vs C-API (METH_NOARGS / METH_O) vs ctypes.
2. Cost per iteration of sqrt_log in every impl (python vs native: expect >= 20x).
3. Two threads vs serial for the same two tasks, in this process: native, ctypes and numpy
   release the GIL and should scale; python and native-gil hold it and should not.

The CPU speed of shared machines drifts by phases, so every comparison runs its cells
round-robin within each round and ratios are paired within a round; the tables report medians
and the min-max spread. Figures only: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import math
import os
import platform
import statistics
import sys
import sysconfig
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gilwise import _native
from gilwise._native import _library
from gilwise._system import cpu_model, usable_cores

Cell = Callable[[], float]  # runs once, returns seconds (or ns per call)


def usable(impls: dict[str, Callable[[int], float]]) -> dict[str, Callable[[int], float]]:
    return {k: v for k, v in impls.items() if _native.unavailable_reason(k) is None}


# --- 1. call overhead ------------------------------------------------------------------------


def python_noop() -> None:
    pass


def python_sqrt_log(n: int) -> float:
    result = 0.0
    for i in range(n):
        result += math.sqrt(i) * math.log(i + 1)
    return result


def per_call_ns(fn: Callable[..., object], args: tuple[int, ...], calls: int) -> float:
    """Nanoseconds per call of fn(*args), loop included (the empty-loop row gives its cost)."""
    repeat = itertools.repeat(None, calls)
    if not args:
        start = time.perf_counter_ns()
        for _ in repeat:
            fn()
        return (time.perf_counter_ns() - start) / calls
    (arg,) = args
    start = time.perf_counter_ns()
    for _ in repeat:
        fn(arg)
    return (time.perf_counter_ns() - start) / calls


def empty_loop_ns(calls: int) -> float:
    repeat = itertools.repeat(None, calls)
    start = time.perf_counter_ns()
    for _ in repeat:
        pass
    return (time.perf_counter_ns() - start) / calls


def call_overhead_cells(calls: int) -> dict[str, Cell]:
    from gilwise._native import _capi  # needs the extension built for this interpreter

    library = _library.load()
    return {
        "empty loop": lambda: empty_loop_ns(calls),
        "python noop()": lambda: per_call_ns(python_noop, (), calls),
        "C-API noop()": lambda: per_call_ns(_capi.noop, (), calls),
        "ctypes noop()": lambda: per_call_ns(library.gilwise_noop, (), calls),
        "python sqrt_log(0)": lambda: per_call_ns(python_sqrt_log, (0,), calls),
        "C-API sqrt_log(0)": lambda: per_call_ns(_capi.sqrt_log, (0,), calls),
        "ctypes sqrt_log(0)": lambda: per_call_ns(library.gilwise_sqrt_log, (0,), calls),
    }


# --- 2. cost per iteration -------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def per_iteration_cells(python_n: int, native_n: int) -> dict[str, tuple[int, Cell]]:
    cells: dict[str, tuple[int, Cell]] = {}
    for impl, fn in usable(_native.SERIAL_IMPLS).items():
        n = python_n if impl == "python" else native_n
        cells[impl] = (n, functools.partial(timed, functools.partial(fn, n)))
    cells["cpp-threads/1"] = (
        native_n,
        lambda: timed(lambda: _native.sqrt_log_cpp_threads(native_n, 1)),
    )
    return cells


# --- 3. two threads vs serial ----------------------------------------------------------------


def twice(task: Callable[[], object]) -> None:
    task()
    task()


def two_threads(task: Callable[[], object]) -> float:
    """Seconds for two Python threads each running `task` once, started together."""
    barrier = threading.Barrier(3)

    def work() -> None:
        barrier.wait()
        task()

    workers = [threading.Thread(target=work, name=f"bench-worker-{i}") for i in range(2)]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


# Cores this process kept busy during each parallel cell: CPU time of all its threads / wall.
BUSY_CORES: dict[str, list[float]] = {}


def busy(name: str, cell: Cell) -> Cell:
    def measured() -> float:
        cpu = time.process_time()
        wall = cell()
        BUSY_CORES.setdefault(name, []).append((time.process_time() - cpu) / wall)
        return wall

    return measured


def scaling_cells(python_n: int, native_n: int) -> dict[str, tuple[Cell, Cell]]:
    """impl -> (serial: two tasks one after the other, parallel: the same two tasks at once)."""
    cells: dict[str, tuple[Cell, Cell]] = {}
    for impl, fn in usable(_native.SERIAL_IMPLS).items():
        n = python_n if impl == "python" else native_n

        task = functools.partial(fn, n)
        name = f"{impl} + threads"
        cells[name] = (
            functools.partial(timed, functools.partial(twice, task)),
            busy(name, functools.partial(two_threads, task)),
        )
    cells["cpp-threads"] = (
        lambda: timed(lambda: _native.sqrt_log_cpp_threads(2 * native_n, 1)),
        busy("cpp-threads", lambda: timed(lambda: _native.sqrt_log_cpp_threads(2 * native_n, 2))),
    )
    return cells


# --- running and reporting -------------------------------------------------------------------


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine spent busy (not idle or iowait) since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class OtherLoad:
    """Cores used by other processes while a section runs: machine busy time minus ours."""

    def __enter__(self) -> OtherLoad:
        self.cores: float | None = None
        self._start = (busy_cpu_seconds(), time.process_time(), time.perf_counter())
        return self

    def __exit__(self, *exc: object) -> None:
        busy, own, wall = busy_cpu_seconds(), time.process_time(), time.perf_counter()
        other = (busy - self._start[0]) - (own - self._start[1])
        elapsed = wall - self._start[2]
        # /proc/stat counts in 10 ms ticks: below a second the figure is mostly rounding.
        self.cores = max(0.0, other / elapsed) if elapsed >= 1.0 else None


def round_robin(cells: dict[str, Cell], rounds: int) -> dict[str, list[float]]:
    """Each round runs every cell once; the starting cell rotates so none is always first."""
    names = list(cells)
    values: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            values[name].append(cells[name]())
    return values


def summary(values: list[float]) -> dict[str, Any]:
    median = statistics.median(values)
    spread = (max(values) - min(values)) / median if median else 0.0
    return {
        "median": median,
        "min": min(values),
        "max": max(values),
        "spread": spread,
        "values": values,
    }


def paired(numerator: list[float], denominator: list[float]) -> dict[str, Any]:
    return summary([a / b for a, b in zip(numerator, denominator, strict=True)])


def fmt(s: dict[str, Any], scale: float = 1.0, digits: int = 1) -> str:
    return (
        f"{s['median'] * scale:>9.{digits}f}  "
        f"[{s['min'] * scale:.{digits}f} .. {s['max'] * scale:.{digits}f}]"
    )


def machine() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": bool(getattr(sys, "_is_gil_enabled", lambda: True)()),
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "usable_cores": usable_cores(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller tasks")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes: checks the script runs, figures meaningless",
    )
    parser.add_argument("--json", type=Path, default=Path("artifacts/bench_native_call.json"))
    args = parser.parse_args(argv)
    # Unusable impls are left out of the tables, with their reason shown (never silently).
    unavailable = {i: r for i in _native.IMPLS if (r := _native.unavailable_reason(i)) is not None}
    for impl, reason in unavailable.items():
        print(f"not measured: {impl}: {reason}")
    if {"native", "ctypes"} & set(unavailable):
        print("cannot compare call overheads without both the C-API extension and ctypes")
        return 1

    rounds = 3 if args.quick else 9
    calls = 200_000 if args.quick else 1_000_000
    # Cells of >= 0.1-0.2 s: the python task ~0.1-0.2 s, a native task ~0.15-0.3 s here.
    python_n = 1_000_000 if args.quick else 1_500_000
    native_n = 30_000_000 if args.quick else 40_000_000
    if args.smoke:
        rounds, calls, python_n, native_n = 2, 1000, 1000, 10_000
    report: dict[str, Any] = {
        "schema": "gilwise.bench_native_call/1",
        "machine": machine(),
        "unavailable": unavailable,
    }
    warnings: list[str] = []

    other_load: dict[str, float | None] = {}
    with OtherLoad() as load:
        overhead = round_robin(call_overhead_cells(calls), rounds)
    other_load["call_overhead"] = load.cores
    stats = {name: summary(v) for name, v in overhead.items()}
    print(f"\n1. call overhead, ns per call ({rounds} rounds x {calls:,} calls; median [min .. max])")
    print(f"   {'entry point':<22}{'ns/call':>9}  spread         net of loop   vs C-API")
    for name, s in stats.items():
        net = summary([a - b for a, b in zip(overhead[name], overhead["empty loop"], strict=True)])
        base = "C-API noop()" if "noop" in name else "C-API sqrt_log(0)"
        ratio = paired(overhead[name], overhead[base])["median"]
        shown = "" if name == "empty loop" else f"{ratio:.2f}x"
        s["net_of_loop"] = net
        print(f"   {name:<22}{fmt(s)}   {net['median']:>8.1f}      {shown:>6}")
    report["call_overhead_ns"] = stats

    iteration = per_iteration_cells(python_n, native_n)
    with OtherLoad() as load:
        times = round_robin({k: cell for k, (_, cell) in iteration.items()}, max(3, rounds // 2))
    other_load["ns_per_iteration"] = load.cores
    per_iter = {k: [t / iteration[k][0] for t in v] for k, v in times.items()}
    python_vs_native = paired(per_iter["python"], per_iter["native"])
    print(f"\n2. sqrt_log cost per iteration, ns (python n={python_n:,}, others n={native_n:,})")
    report["ns_per_iteration"] = {}
    for impl, values in per_iter.items():
        s = summary(values)
        report["ns_per_iteration"][impl] = {"n": iteration[impl][0], **s}
        print(f"   {impl:<22}{fmt(s, 1e9, 2)}")
    print(f"   python / native       {fmt(python_vs_native, 1, 1)}x  (expect >= 20x)")
    report["python_over_native"] = python_vs_native

    scaling = scaling_cells(python_n, native_n)
    flat: dict[str, Cell] = {}
    for name, (serial, parallel) in scaling.items():
        flat[f"{name}|serial"], flat[f"{name}|parallel"] = serial, parallel
    with OtherLoad() as load:
        times = round_robin(flat, max(3, rounds // 2))
    other_load["two_threads_speedup"] = load.cores
    print("\n3. two threads vs serial, same two tasks, one process (paired per round)")
    print(f"   {'':<22}{'speedup':>9}  spread          busy cores (threads cell)")
    report["two_threads_speedup"] = {}
    for name in scaling:
        s = paired(times[f"{name}|serial"], times[f"{name}|parallel"])
        s["busy_cores"] = summary(BUSY_CORES[name])
        report["two_threads_speedup"][name] = s
        print(f"   {name:<22}{fmt(s, 1, 2)}x   {fmt(s['busy_cores'], 1, 2)}")
        if s["spread"] >= 0.10:
            warnings.append(f"{name}: speedup spread {s['spread']:.0%} >= 10 %")

    report["other_load_cores"] = other_load
    if report["machine"]["usable_cores"] < 2:
        warnings.append("fewer than 2 usable cores: the two-thread speedups cannot exceed 1")
    for section, cores in other_load.items():
        if cores is not None and cores > 0.2:
            warnings.append(
                f"{section}: other processes used {cores:.2f} cores meanwhile; "
                "rerun on an idle machine for stable figures"
            )
    report["warnings"] = warnings
    for warning in warnings:
        print(f"warning: {warning}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
