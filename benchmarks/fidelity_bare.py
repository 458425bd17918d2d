"""The bare programs bench_fidelity.py times gilwise against: plain executors and perf_counter.

    python benchmarks/fidelity_bare.py CASE --size N --tasks T --workers W --rounds R [--lib PATH]

No gilwise import at all (stdlib only, so it runs under any CPython the tool is pointed at,
sub-interpreter builds included): what a careful person would write by hand to time serial
against parallel. Each round times ``tasks`` tasks serially and then the same tasks on
``workers`` workers (pool creation and shutdown included, as gilwise's cells include them), in
alternating order, and prints one JSON line per round: ``{"serial_s", "parallel_s", "speedup"}``.
``--gap-s`` sleeps before each timed section, as gilwise's cells are separated by the start-up of
their worker processes: this VM runs a 2-core section faster after a pause (measured: ctypes
threads 1.81× back to back, 1.96× after 0.15 s, 40 alternations each), which favoured the tool.

Cases: ``processes`` (pure-Python sqrt_log, ProcessPoolExecutor, fork), ``threads`` (sha256 of
1 MiB blocks, ThreadPoolExecutor), ``ctypes-threads`` (the C sqrt_log loop through ctypes, which
drops the GIL, on a ThreadPoolExecutor), ``cpp-threads`` (one ctypes call splitting the range
over std::threads), ``interpreters`` (pure-Python sqrt_log in sub-interpreters with their own
GIL, one per thread, through ``_interpreters`` / ``_xxsubinterpreters``).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import ctypes
import hashlib
import json
import math
import multiprocessing
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

SQRT_LOG = """
import math
def sqrt_log(n):
    result = 0.0
    for i in range(n):
        result += math.sqrt(i) * math.log(i + 1)
    return result
"""
BLOCK = bytes(range(256)) * 4096  # 1 MiB; sha256 speed does not depend on the bytes


def sqrt_log(n: int) -> float:
    result = 0.0
    for i in range(n):
        result += math.sqrt(i) * math.log(i + 1)
    return result


def sha256_blocks(n: int) -> str:
    digest = hashlib.sha256()
    for _ in range(n):
        digest.update(BLOCK)
    return digest.hexdigest()


def _shares(tasks: int, workers: int) -> list[int]:
    base, extra = divmod(tasks, workers)
    return [base + (1 if i < extra else 0) for i in range(workers)]


class Case:
    def __init__(self, args: argparse.Namespace) -> None:
        self.size, self.tasks, self.workers = args.size, args.tasks, args.workers
        self.lib_path = args.lib

    def serial(self) -> None:
        raise NotImplementedError

    def parallel(self) -> None:
        raise NotImplementedError

    def warm(self) -> None:
        """Untimed, as gilwise's worker warms up before it times (imports, first calls)."""
        size, tasks = self.size, self.tasks
        self.size, self.tasks = max(1, size // 50), 1
        try:
            self.serial()
        finally:
            self.size, self.tasks = size, tasks


class Processes(Case):
    def serial(self) -> None:
        for _ in range(self.tasks):
            sqrt_log(self.size)

    def parallel(self) -> None:
        context = multiprocessing.get_context("fork")
        with cf.ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            list(pool.map(sqrt_log, [self.size] * self.tasks))


class Threads(Case):
    task: Callable[[int], Any] = staticmethod(sha256_blocks)

    def serial(self) -> None:
        for _ in range(self.tasks):
            self.task(self.size)

    def parallel(self) -> None:
        with cf.ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(self.task, [self.size] * self.tasks))


class CtypesThreads(Threads):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        lib = ctypes.CDLL(self.lib_path)  # ctypes releases the GIL around every foreign call
        lib.gilwise_sqrt_log.argtypes = [ctypes.c_uint64]
        lib.gilwise_sqrt_log.restype = ctypes.c_double
        self.task = lib.gilwise_sqrt_log


class CppThreads(Case):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        self.lib = ctypes.CDLL(self.lib_path)
        self.lib.gilwise_sqrt_log.argtypes = [ctypes.c_uint64]
        self.lib.gilwise_sqrt_log.restype = ctypes.c_double
        self.lib.gilwise_sqrt_log_threads.restype = ctypes.c_int

    def serial(self) -> None:
        for _ in range(self.tasks):
            self.lib.gilwise_sqrt_log(self.size)

    def parallel(self) -> None:
        out, error = ctypes.c_double(), ctypes.create_string_buffer(256)
        for _ in range(self.tasks):
            status = self.lib.gilwise_sqrt_log_threads(
                ctypes.c_uint64(self.size),
                ctypes.c_uint32(self.workers),
                ctypes.byref(out),
                error,
                ctypes.c_size_t(len(error)),
            )
            if status != 0:
                raise SystemExit(f"gilwise_sqrt_log_threads failed: {error.value!r}")


class Interpreters(Case):
    def serial(self) -> None:
        for _ in range(self.tasks):
            sqrt_log(self.size)

    def parallel(self) -> None:
        if sys.version_info >= (3, 13):
            import _interpreters as low  # type: ignore[import-not-found]

            def create() -> Any:
                return low.create("isolated")

            def run(interp: Any, code: str) -> None:
                failure = low.exec(interp, code)
                if failure is not None:
                    raise SystemExit(failure.formatted)
        else:
            import _xxsubinterpreters as low  # type: ignore[import-not-found]

            def create() -> Any:
                return low.create(isolated=True)

            def run(interp: Any, code: str) -> None:
                low.run_string(interp, code)

        def one(count: int) -> None:
            interp = create()
            try:
                run(interp, SQRT_LOG + f"\nfor _ in range({count}):\n    sqrt_log({self.size})\n")
            finally:
                low.destroy(interp)

        threads = [threading.Thread(target=one, args=(c,)) for c in _shares(self.tasks, self.workers) if c]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


CASES: dict[str, type[Case]] = {
    "processes": Processes,
    "threads": Threads,
    "ctypes-threads": CtypesThreads,
    "cpp-threads": CppThreads,
    "interpreters": Interpreters,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--lib", help="libgilwise_native.so (the ctypes cases)")
    parser.add_argument(
        "--gap-s",
        type=float,
        default=0.0,
        help="sleep this long before each timed section (gilwise's cells are separated by worker "
        "start-ups; this machine runs a 2-core section faster after a pause)",
    )
    args = parser.parse_args()
    case = CASES[args.case](args)
    case.warm()
    for index in range(args.rounds):
        times = {}
        order = ("serial", "parallel") if index % 2 == 0 else ("parallel", "serial")
        for name in order:
            time.sleep(args.gap_s)
            t0 = time.perf_counter()
            getattr(case, name)()
            times[name] = time.perf_counter() - t0
        row = {"serial_s": times["serial"], "parallel_s": times["parallel"]}
        print(json.dumps({**row, "speedup": row["serial_s"] / row["parallel_s"]}), flush=True)


if __name__ == "__main__":
    main()
