"""JVM platform threads beside C++ std::threads and Python: the sqrt_log loop with no GIL anywhere.

    uv run python benchmarks/bench_jvm_threads.py [--repeats 5] [--cell-s 1.5]

One gilwise run of sqrt_log in three implementations, each against its own serial cell in the
same rounds: python (serial, threads×2), native (serial, cpp-threads×2) and jvm (serial: the
Java loop on one JVM thread; jvm-threads×2: each task split over two platform threads in a JVM
the cell starts itself). Prints the paired speedups (wall, JVM start-up included; and Java's own
compute, System.nanoTime), busy cores, the JVM's start-up apart from compute, and the cost per
iteration of each implementation side by side; writes JSON. Targets are statements about this
2-core machine: a miss is reported, never adjusted.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from _common import fmt_range, load_report, paired_by_round, save, table
from gilwise._harness import BenchSettings, run_bench
from gilwise._native import _jvm
from gilwise._pythons.discovery import current
from gilwise._workloads import Workload, get_workload

IMPLS = ["python", "native", "jvm"]
MODELS = ["serial", "threads", "cpp-threads", "jvm-threads"]
WORKERS = 2
# (impl, model, op, bound, busy-cores bound)
TARGETS: list[tuple[str, str, str | None, float | None, float | None]] = [
    ("jvm", "jvm-threads", ">=", 1.7, 1.7),
    ("native", "cpp-threads", None, None, None),
    ("python", "threads", None, None, None),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cell-s", type=float, default=1.5, help="calibrated serial cell time")
    args = parser.parse_args()
    reason = _jvm.unavailable_reason()
    if reason is not None:
        print(reason, file=sys.stderr)
        return 2
    load_before = os.getloadavg()

    def workers_for(_: Workload) -> list[int]:
        return [WORKERS]

    run = run_bench(
        [get_workload("sqrt_log")],
        IMPLS,
        MODELS,
        workers_for,
        [current()],
        BenchSettings(repeats=args.repeats, target_cell_s=args.cell_s),
    )
    load_after = os.getloadavg()
    document = run.to_json()
    records = document["results"]

    def find(impl: str, model: str) -> dict[str, Any]:
        return next(r for r in records if (r["impl"], r["model"]) == (impl, model))

    rows, outcome = [], []
    for impl, model, op, bound, busy_bound in TARGETS:
        rec, serial = find(impl, model), find(impl, "serial")
        where = f"sqrt_log [{impl}] {model}×{WORKERS}"
        if rec["status"] != "ok" or not rec["speedup_paired"]["values"]:
            rows.append((where, "—", f"{rec['status']}: {rec['reason']}", "—", "—", "—", "NO" if op else ""))
            outcome.append({"cell": where, "status": rec["status"], "reason": rec["reason"], "met": False})
            continue
        paired, busy = rec["speedup_paired"], rec["cpu_busy_cores_mean"]
        met = None
        if op is not None and bound is not None and busy_bound is not None:
            met = paired["median"] >= bound and busy >= busy_bound
        compute = paired_by_round(rec, serial, "compute_s")
        rows.append(
            (
                where,
                "—" if op is None else f"{op} {bound}, ≥ {busy_bound} busy cores",
                fmt_range(paired["values"]),
                fmt_range(compute),
                f"{busy:.2f}",
                f"{rec['startup_s']['median'] * 1e3:.1f} ms",
                "" if met is None else ("yes" if met else "NO"),
            )
        )
        outcome.append(
            {
                "cell": where,
                "target": None if op is None else f"speedup {op} {bound} with ≥ {busy_bound} busy cores",
                "speedup_paired": paired,
                "compute_speedup_paired": compute,
                "busy_cores": busy,
                "startup_s": rec["startup_s"],
                "met": met,
            }
        )
    headers = ["cell", "target", "speedup (paired, wall)", "compute only", "busy cores", "start-up", "met"]
    print(table(headers, rows))
    costs = {}
    for impl in IMPLS:
        serial = find(impl, "serial")
        per_iteration = [v / (serial["tasks"] * serial["size"]) * 1e9 for v in serial["wall_s"]["values"]]
        costs[impl] = per_iteration
    print(
        "\ncost per iteration, serial (median [min–max] over rounds): "
        + ", ".join(f"{impl} {fmt_range(values, ' ns')}" for impl, values in costs.items())
    )
    jvm = find("jvm", "jvm-threads")
    if jvm["status"] == "ok":
        java_ns = [c * WORKERS / (jvm["tasks"] * jvm["size"]) * 1e9 for c in jvm["compute_s"]["values"]]
        print(
            f"jvm-threads×{WORKERS}: JVM start-up (process start → ready, the loop JIT-compiled) "
            f"{fmt_range([v * 1e3 for v in jvm['startup_s']['values']], ' ms')}; compute inside Java "
            f"{fmt_range(jvm['compute_s']['values'], ' s')} = "
            f"{fmt_range(java_ns, ' thread-ns')} per iteration"
        )
    load, load_line = load_report(document, load_before, load_after)
    print(f"\n{load_line}")
    written = save(
        "jvm_threads",
        {"targets": outcome, "ns_per_iteration": costs, "load": load, "run": document},
    )
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
