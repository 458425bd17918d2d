"""Issue 7's must-show figures: free-threaded 3.13t and sub-interpreters beside the GIL build.

    uv run python benchmarks/bench_interpreters.py [--repeats 5] [--cell-s 1.0]

One gilwise run (round-robin: both interpreters' cells in the same rounds, same task size) of
sqrt_log_local and sqrt_log under serial, threads, interpreters and processes with 2 workers,
on the 3.13t build and its same-source GIL twin (scripts/build-free-threaded-python.sh, with and
without --gil). Prints each target beside its paired figure (median [min–max] over rounds),
the free-threaded single-thread penalty, start-up costs and how loaded the machine was; writes
JSON. Targets are statements about this 2-core machine: a miss is reported, never adjusted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from typing import Any

from _common import save, table
from gilwise._harness import BenchSettings, run_bench
from gilwise._pythons.builds import free_threaded_build_path, gil_twin_build_path
from gilwise._pythons.discovery import probe
from gilwise._report import compare_interpreters
from gilwise._report.interpreters import contention_text
from gilwise._workloads import Workload, get_workload

WORKLOADS = ["sqrt_log_local", "sqrt_log"]
MODELS = ["serial", "threads", "interpreters", "processes"]
WORKERS = 2

# (interpreter: "ft" | "gil", workload, model, op, bound); None = reported beside, no target.
TARGETS: list[tuple[str, str, str, str | None, float | None]] = [
    ("ft", "sqrt_log_local", "threads", ">=", 1.7),
    ("gil", "sqrt_log_local", "threads", "<=", 1.15),
    ("ft", "sqrt_log", "threads", None, None),
    ("gil", "sqrt_log", "interpreters", ">=", 1.6),
    ("gil", "sqrt_log_local", "interpreters", ">=", 1.6),
    ("ft", "sqrt_log_local", "interpreters", None, None),
    ("gil", "sqrt_log", "processes", None, None),
    ("ft", "sqrt_log_local", "processes", None, None),
]


def _paired(rec: dict[str, Any], serial: dict[str, Any], field: str) -> list[float]:
    """serial[field] / rec[field], round by round (compute-phase speedups)."""
    mine = dict(zip(rec["round_ids"], rec[field]["values"], strict=True))
    base = dict(zip(serial["round_ids"], serial[field]["values"], strict=True))
    return [base[i] / mine[i] for i in sorted(set(mine) & set(base)) if mine[i]]


def _fmt(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values):.2f}× [{min(values):.2f}–{max(values):.2f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cell-s", type=float, default=1.0, help="calibrated serial cell time")
    args = parser.parse_args()
    paths = {"gil": gil_twin_build_path(), "ft": free_threaded_build_path()}
    for key, path in paths.items():
        if not os.path.exists(path):
            flag = " --gil" if key == "gil" else ""
            print(f"missing {path}: run scripts/build-free-threaded-python.sh{flag}", file=sys.stderr)
            return 2
    interps = {key: probe(path) for key, path in paths.items()}
    load_before = os.getloadavg()

    def workers_for(_: Workload) -> list[int]:
        return [WORKERS]

    # The GIL twin first: the shared task size is calibrated on it (cells ≥ cell-s everywhere).
    run = run_bench(
        [get_workload(w) for w in WORKLOADS],
        ["python"],
        MODELS,
        workers_for,
        [interps["gil"], interps["ft"]],
        BenchSettings(repeats=args.repeats, target_cell_s=args.cell_s),
    )
    load_after = os.getloadavg()
    document = run.to_json()
    records = document["results"]

    def find(key: str, workload: str, model: str) -> dict[str, Any]:
        return next(
            r
            for r in records
            if (r["interpreter"]["path"], r["workload"], r["model"]) == (interps[key].path, workload, model)
        )

    rows, outcome = [], []
    for key, workload, model, op, bound in TARGETS:
        rec, serial = find(key, workload, model), find(key, workload, "serial")
        where = f"{interps[key].label} {workload} {model}×{WORKERS}"
        if rec["status"] != "ok" or not rec["speedup_paired"]["values"]:
            rows.append((where, "—", f"{rec['status']}: {rec['reason']}", "—", "—", "NO" if op else ""))
            outcome.append({"cell": where, "status": rec["status"], "reason": rec["reason"], "met": False})
            continue
        paired = rec["speedup_paired"]
        value = paired["median"]
        met = None if op is None else (value >= bound if op == ">=" else value <= bound)
        compute = _paired(rec, serial, "compute_s")
        rows.append(
            (
                where,
                "—" if op is None else f"{op} {bound}",
                _fmt(paired["values"]),
                _fmt(compute),
                f"{rec['startup_s']['median'] * 1e3:.1f} ms",
                "" if met is None else ("yes" if met else "NO"),
            )
        )
        outcome.append(
            {
                "cell": where,
                "target": None if op is None else f"{op} {bound}",
                "speedup_paired": paired,
                "compute_speedup_paired": compute,
                "startup_s": rec["startup_s"],
                "busy_cores": rec["cpu_busy_cores_mean"],
                "met": met,
            }
        )
    print(
        table(
            ["cell", "target", "speedup (paired, wall)", "compute phase only", "start-up", "met"],
            rows,
        )
    )
    comparison = compare_interpreters(document)
    print()
    for item in comparison["penalties"]:
        r = item["ratio"]
        print(
            f"single-thread penalty {item['workload']}: {item['free_threaded']} / {item['baseline']} "
            f"serial = {_fmt(r['values'])} ({item['baseline_kind']})"
        )
    for item in comparison["contention"]:
        print(contention_text(item))
    other = [v for r in records if r.get("other_cpu_cores") for v in r["other_cpu_cores"]["values"]]
    load = {
        "load_average_before": load_before,
        "load_average_after": load_after,
        "other_cpu_cores_median": statistics.median(other) if other else None,
        "other_cpu_cores_max": max(other) if other else None,
    }
    print(
        f"\nmachine: {document['machine']['usable_cores']} usable cores; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after; other processes used "
        f"{load['other_cpu_cores_median']:.2f} cores (median over cells), up to "
        f"{load['other_cpu_cores_max']:.2f}"
    )
    written = save(
        "interpreters",
        {"targets": outcome, "comparison": comparison, "load": load, "run": document},
    )
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
