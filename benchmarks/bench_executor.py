"""gilwise.Executor against ProcessPoolExecutor, measured in one run, round-robin.

- ``snippet_s``: the classic "CPU-bound tasks in a process pool" snippet, whole ``with``
  block (pool start, 4 tasks of n sqrt*log iterations, shutdown), one line changed;
- ``map_20k_s``: 20,000 tiny tasks through ``map`` on a warm executor, each executor's
  default chunking (ProcessPoolExecutor: chunksize=1; gilwise: automatic);
- ``crash``: one worker SIGKILLed from outside during a 200-task batch: how many futures
  still return a result.

This script imports only the standard library and gilwise, as the snippet would: worker
processes re-import the main module, and the start-up cost belongs in the measurement.
Run: ``uv run python benchmarks/bench_executor.py [--rounds N] [--n N] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import gilwise
from _common import machine_summary
from _common import stats as summarize
from _tasks import nap, square, wait_to_be_killed

NUM_TASKS = 4


def cpu_bound_task(n: int) -> float:
    start = time.perf_counter()
    result = 0.0
    for i in range(n):
        result += math.sqrt(i) * math.log(i + 1)
    return time.perf_counter() - start


EXECUTORS: dict[str, Any] = {
    "ProcessPoolExecutor": ProcessPoolExecutor,
    "gilwise.Executor": gilwise.Executor,
}


def snippet_s(make: Any, n: int) -> float:
    start = time.perf_counter()
    with make(max_workers=NUM_TASKS) as executor:
        futures = [executor.submit(cpu_bound_task, n) for _ in range(NUM_TASKS)]
        sum(f.result() for f in futures)
    return time.perf_counter() - start


def map_20k_s(executor: Any) -> float:
    start = time.perf_counter()
    out = list(executor.map(square, range(20_000)))
    elapsed = time.perf_counter() - start
    assert out[-1] == 19_999**2
    return elapsed


def crash(make: Any, tmp: Path) -> dict[str, Any]:
    started = tmp / "started"
    started.unlink(missing_ok=True)
    with make(max_workers=2) as executor:
        # Submitted in this order: the victim is the 11th task, 189 wait behind it.
        fs = [executor.submit(nap, 0.005) for _ in range(10)]
        fs.append(executor.submit(wait_to_be_killed, str(started)))
        fs += [executor.submit(nap, 0.005) for _ in range(189)]
        while not started.exists() or not started.read_text():
            time.sleep(0.01)
        os.kill(int(started.read_text()), signal.SIGKILL)
        wait(fs, timeout=60)
        errors = [f.exception() for f in fs]
        after = "usable"
        try:
            executor.submit(square, 3).result(30)
        except Exception as exc:
            after = f"unusable ({type(exc).__name__})"
    kinds: dict[str, int] = {}
    for e in errors:
        if e is not None:
            kinds[type(e).__name__] = kinds.get(type(e).__name__, 0) + 1
    return {"results": errors.count(None), "errors": kinds, "next_submit": after}


def run(rounds: int, n: int, tmp: Path) -> dict[str, Any]:
    names = list(EXECUTORS)
    figures: dict[str, dict[str, list[float]]] = {"snippet_s": {}, "map_20k_s": {}}
    # The snippet runs first, as in a script: no other pool (and no thread) exists yet.
    for r in range(rounds):
        for name in names[r % 2 :] + names[: r % 2]:
            figures["snippet_s"].setdefault(name, []).append(snippet_s(EXECUTORS[name], n))
        print(f"snippet round {r + 1}/{rounds} done", file=sys.stderr)
    warm = {name: make(max_workers=2) for name, make in EXECUTORS.items()}
    try:
        for ex in warm.values():
            list(ex.map(square, range(100)))
        for r in range(rounds):
            for name in names[r % 2 :] + names[: r % 2]:
                figures["map_20k_s"].setdefault(name, []).append(map_20k_s(warm[name]))
            print(f"map round {r + 1}/{rounds} done", file=sys.stderr)
    finally:
        for ex in warm.values():
            ex.shutdown()
    ratios = {
        fig: summarize([g / p for g, p in zip(v["gilwise.Executor"], v["ProcessPoolExecutor"], strict=True)])
        for fig, v in figures.items()
    }
    return {
        "schema": "gilwise.bench_executor/1",
        "machine": machine_summary(),
        "config": {"rounds": rounds, "snippet_n": n, "snippet_tasks": NUM_TASKS},
        "figures": {f: {k: summarize(v) for k, v in vals.items()} for f, vals in figures.items()},
        "ratios_gilwise_over_ppe": ratios,
        "crash_batch": {name: crash(make, tmp) for name, make in EXECUTORS.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=5_000_000, help="iterations per task")
    parser.add_argument("--json", type=Path, default=Path("artifacts/bench_executor.json"))
    args = parser.parse_args()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    result = run(args.rounds, args.n, args.json.parent)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"{'figure':<12}{'executor':<22}{'median':>10}{'min':>10}{'max':>10}")
    for fig, vals in result["figures"].items():
        for name, s in vals.items():
            print(f"{fig:<12}{name:<22}{s['median']:>10.3f}{s['min']:>10.3f}{s['max']:>10.3f}")
    print("\nratio gilwise.Executor / ProcessPoolExecutor (paired per round; < 1 = gilwise faster)")
    for fig, s in result["ratios_gilwise_over_ppe"].items():
        print(f"  {fig}: median {s['median']:.3f} [{s['min']:.3f}-{s['max']:.3f}]")
    print("\nSIGKILL of one worker during a 200-task batch:")
    for name, c in result["crash_batch"].items():
        print(f"  {name}: {c}")
    print(f"\nJSON: {args.json}")


if __name__ == "__main__":
    main()
