"""The foundation's and the native kernels' "must show" figures, measured by gilwise itself.

    uv run python benchmarks/bench_foundation_targets.py [--repeats 5]

Prints each target beside the paired speedup (median [min–max]) and busy cores, writes JSON.
Targets are statements about this 2-core machine; a miss is reported, never adjusted.
"""

from __future__ import annotations

import argparse
from typing import Any

from _common import save, table
from gilwise._harness import BenchSettings, run_bench
from gilwise._pythons.discovery import current
from gilwise._workloads import Workload, get_workload

# workload, impls, models, workers
PLAN: list[tuple[str, list[str], list[str], list[int]]] = [
    ("sqrt_log", ["python"], ["serial", "threads", "processes"], [2]),
    ("http", ["python"], ["serial", "threads", "asyncio"], [2, 32]),
    ("sha256", ["python"], ["serial", "threads"], [2]),
    ("json", ["python"], ["serial", "threads"], [2]),
    ("sqrt_log", ["native", "ctypes", "native-gil"], ["serial", "threads", "cpp-threads"], [2]),
]

# (workload, impl, model, workers, metric, op, bound)
TARGETS = [
    ("sqrt_log", "python", "threads", 2, "speedup", "<=", 1.15),
    ("sqrt_log", "python", "threads", 2, "busy", "<=", 1.2),
    ("sqrt_log", "python", "processes", 2, "speedup", ">=", 1.7),
    ("sqrt_log", "python", "processes", 2, "busy", ">=", 1.7),
    ("http", "python", "threads", 2, "speedup", ">=", 1.8),
    ("http", "python", "asyncio", 2, "speedup", ">=", 1.8),
    ("http", "python", "threads", 32, "speedup", ">=", 3.6),
    ("http", "python", "asyncio", 32, "speedup", ">=", 3.6),
    ("sha256", "python", "threads", 2, "speedup", ">=", 1.7),
    ("json", "python", "threads", 2, "speedup", "<=", 1.15),
    ("sqrt_log", "native", "threads", 2, "speedup", ">=", 1.8),
    ("sqrt_log", "native", "threads", 2, "busy", ">=", 1.7),
    ("sqrt_log", "ctypes", "threads", 2, "speedup", ">=", 1.8),
    ("sqrt_log", "native-gil", "threads", 2, "speedup", "<=", 1.15),
    ("sqrt_log", "native", "cpp-threads", 2, "speedup", ">=", 1.85),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    settings = BenchSettings(repeats=args.repeats)
    records: list[dict[str, Any]] = []
    for name, impls, models, workers in PLAN:

        def workers_for(_: Workload, w: list[int] = workers) -> list[int]:
            return w

        run = run_bench([get_workload(name)], impls, models, workers_for, [current()], settings)
        records.extend(run.to_json()["results"])
    rows = []
    outcome = []
    for workload, impl, model, workers, metric, op, bound in TARGETS:
        key = (workload, impl, model, workers)
        rec = next(r for r in records if (r["workload"], r["impl"], r["model"], r["workers"]) == key)
        if metric == "speedup":
            value = rec["speedup_paired"]["median"]
            shown = f"{value:.2f}× [{rec['speedup_paired']['min']:.2f}–{rec['speedup_paired']['max']:.2f}]"
        else:
            value = rec["cpu_busy_cores_mean"]
            shown = f"{value:.2f} cores"
        met = value <= bound if op == "<=" else value >= bound
        rows.append(
            (f"{workload}[{impl}] {model}×{workers}", metric, f"{op} {bound}", shown, "yes" if met else "NO")
        )
        outcome.append(
            {
                "cell": f"{workload}[{impl}] {model}×{workers}",
                "metric": metric,
                "target": f"{op} {bound}",
                "value": value,
                "met": met,
            }
        )
    print(table(["cell", "metric", "target", "measured (paired)", "met"], rows))
    print(f"wrote {save('foundation_targets', {'targets': outcome, 'results': records})}")


if __name__ == "__main__":
    main()
