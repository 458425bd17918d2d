"""The foundation's "must show" figures, measured by gilwise itself in one run.

    uv run python benchmarks/bench_foundation_targets.py [--repeats 5]

Prints each target beside the paired speedup (median [min–max]) and busy cores, writes JSON.
Targets are statements about this 2-core machine; a miss is reported, never adjusted.
"""

from __future__ import annotations

import argparse
from typing import Any

from _common import save, table
from gilwise._harness import BenchSettings, run_bench
from gilwise._interpreters import current
from gilwise._workloads import Workload, get_workload

PLAN: dict[str, tuple[list[str], list[int]]] = {
    "sqrt_log": (["serial", "threads", "processes"], [2]),
    "http": (["serial", "threads", "asyncio"], [2, 32]),
    "sha256": (["serial", "threads"], [2]),
    "json": (["serial", "threads"], [2]),
}

# (workload, model, workers, metric, op, bound)
TARGETS = [
    ("sqrt_log", "threads", 2, "speedup", "<=", 1.15),
    ("sqrt_log", "threads", 2, "busy", "<=", 1.2),
    ("sqrt_log", "processes", 2, "speedup", ">=", 1.7),
    ("sqrt_log", "processes", 2, "busy", ">=", 1.7),
    ("http", "threads", 2, "speedup", ">=", 1.8),
    ("http", "asyncio", 2, "speedup", ">=", 1.8),
    ("http", "threads", 32, "speedup", ">=", 3.6),
    ("http", "asyncio", 32, "speedup", ">=", 3.6),
    ("sha256", "threads", 2, "speedup", ">=", 1.7),
    ("json", "threads", 2, "speedup", "<=", 1.15),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    settings = BenchSettings(repeats=args.repeats)
    records: list[dict[str, Any]] = []
    for name, (models, workers) in PLAN.items():

        def workers_for(_: Workload, w: list[int] = workers) -> list[int]:
            return w

        run = run_bench([get_workload(name)], ["python"], models, workers_for, [current()], settings)
        records.extend(run.to_json()["results"])
    rows = []
    outcome = []
    for workload, model, workers, metric, op, bound in TARGETS:
        rec = next(
            r for r in records if (r["workload"], r["model"], r["workers"]) == (workload, model, workers)
        )
        if metric == "speedup":
            value = rec["speedup_paired"]["median"]
            shown = f"{value:.2f}× [{rec['speedup_paired']['min']:.2f}–{rec['speedup_paired']['max']:.2f}]"
        else:
            value = rec["cpu_busy_cores_mean"]
            shown = f"{value:.2f} cores"
        met = value <= bound if op == "<=" else value >= bound
        rows.append((f"{workload} {model}×{workers}", metric, f"{op} {bound}", shown, "yes" if met else "NO"))
        outcome.append(
            {
                "cell": f"{workload} {model}×{workers}",
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
