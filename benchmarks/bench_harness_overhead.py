"""Does the harness hide or add cost? Serial sqrt_log ns/iteration: gilwise vs a bare `python -c`.

Round-robin: each round runs the harness worker (serial model, fresh process) and then the same
loop timed bare in `python -c` on the same interpreter; the ratio is paired per round.

    uv run python benchmarks/bench_harness_overhead.py [--rounds 7] [--n 2000000] [--python PATH]
    uv run python benchmarks/bench_harness_overhead.py --sampler

``--sampler`` measures instead what the orchestrator's sampler costs per call (CPU µs, against a
3-process fork pool at rest): the process-table walk the first sampler did, the session scan
that replaced it, peak RSS, smaps_rollup, /proc/stat, and the whole sampler thread at rest and
while it watches the pool, in % of a core. The serial check above cannot see any of this: on 2
cores the orchestrator's CPU lands on the parallel cells (bench_fidelity.py measures that).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from _common import save, stats, table
from gilwise._harness.launch import run_worker
from gilwise._harness.sampler import DEFAULT_INTERVAL_S, CpuSampler, TreeMemory
from gilwise._system import CoreBusyCounters, affinity_cores, peak_rss, pss_uss

BARE = """
import math, time
def cpu_bound_task(n):
    result = 0.0
    for i in range(n):
        result += math.sqrt(i) * math.log(i + 1)
    return result
cpu_bound_task(1000)
t0 = time.perf_counter()
for _ in range({tasks}):
    cpu_bound_task({n})
print((time.perf_counter() - t0) / ({tasks} * {n}) * 1e9)
"""


POOL = """
import time, concurrent.futures as cf, multiprocessing as mp
def rest(_):
    time.sleep(60)
with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as pool:
    print("ready", flush=True)
    list(pool.map(rest, range(2)))
"""


def _per_call_us(fn: Callable[[], object], calls: int) -> float:
    fn()
    t0 = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - t0) / calls * 1e6


def _thread_share(seconds: float) -> float:
    """The orchestrator's CPU over ``seconds`` of sleep, in % of a core (the sampler's alone)."""
    c0, t0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    return (time.process_time() - c0) / (time.monotonic() - t0) * 100


def sampler_costs() -> None:
    import psutil

    proc = subprocess.Popen(
        [sys.executable, "-c", POOL], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        tree = TreeMemory(proc.pid)
        members = tree.members()
        counters = CoreBusyCounters(affinity_cores())

        def walk() -> int:
            root = psutil.Process(proc.pid)
            return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])

        costs = {
            "psutil children(recursive) + memory_info (the old sampler)": _per_call_us(walk, 100),
            "session scan of pids >= the worker's (TreeMemory.members)": _per_call_us(
                lambda: TreeMemory(proc.pid).members(), 200
            ),
            "VmHWM of one process": _per_call_us(lambda: peak_rss(proc.pid), 500),
            "smaps_rollup of one process": _per_call_us(lambda: pss_uss(proc.pid), 200),
            "a whole memory read of the tree": _per_call_us(lambda: tree.read(time.monotonic()), 100),
            "/proc/stat through the kept-open fd": _per_call_us(counters.read, 1000),
        }
        counters.close()
        with CpuSampler() as sampler:
            time.sleep(0.3)
            idle = _thread_share(4.0)
            sampler.watch(proc.pid, first_read_s=0.0)
            watching = _thread_share(4.0)
            sampler.watch(None)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    rows = [(name, f"{us:.1f}") for name, us in costs.items()]
    print(table(["read (tree of 3 processes)", "CPU µs per call"], rows))
    print(f"sampler thread at rest: {idle:.2f} % of a core; watching the pool: {watching:.2f} %")
    result = {
        "processes": len(members),
        "per_call_us": costs,
        "sampler_idle_pct": idle,
        "sampler_watching_pct": watching,
        "interval_s": DEFAULT_INTERVAL_S,
    }
    print(f"wrote {save('sampler_costs', result)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=2)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--sampler", action="store_true", help="the sampler's costs per call instead")
    args = parser.parse_args()
    if args.sampler:
        sampler_costs()
        return
    tool, bare, ratios = [], [], []
    for _ in range(args.rounds):
        spec = {
            "mode": "measure",
            "workload": "sqrt_log",
            "impl": "python",
            "model": "serial",
            "workers": 1,
            "tasks": args.tasks,
            "size": args.n,
            "params": {},
        }
        report = run_worker(args.python, spec, 600)
        if not report["ok"]:
            raise SystemExit(f"harness failed: {report['error']}")
        t_ns = report["wall_s"] / (args.tasks * args.n) * 1e9
        out = subprocess.run(
            [args.python, "-c", BARE.format(n=args.n, tasks=args.tasks)],
            capture_output=True,
            text=True,
            check=True,
        )
        b_ns = float(out.stdout.strip())
        tool.append(t_ns)
        bare.append(b_ns)
        ratios.append(t_ns / b_ns)
    result = {
        "python": args.python,
        "n": args.n,
        "tasks": args.tasks,
        "tool_ns_per_iter": stats(tool),
        "bare_ns_per_iter": stats(bare),
        "tool_over_bare": stats(ratios),
    }
    rows = [
        (
            "gilwise serial cell",
            f"{result['tool_ns_per_iter']['median']:.1f}",
            f"{min(tool):.1f}–{max(tool):.1f}",
        ),
        ("bare python -c", f"{result['bare_ns_per_iter']['median']:.1f}", f"{min(bare):.1f}–{max(bare):.1f}"),
        (
            "ratio (paired)",
            f"{result['tool_over_bare']['median']:.3f}",
            f"{min(ratios):.3f}–{max(ratios):.3f}",
        ),
    ]
    print(table(["sqrt_log", "ns/iteration (median)", "range"], rows))
    verdict = abs(result["tool_over_bare"]["median"] - 1) <= 0.10
    print(f"within 10 %: {'yes' if verdict else 'NO'}")
    print(f"wrote {save('harness_overhead', result)}")


if __name__ == "__main__":
    main()
