"""How trustworthy is `gilwise compare` as a CI gate on this machine? Measured, not assumed.

    uv run python benchmarks/bench_compare_gate.py [--pairs 3] [--repeats 5]

Runs the same small bench twice in a row, `--pairs` times. Identical code, so every row the
gate flags in A-vs-B is a false alarm. Then, for each measured row of B, it multiplies that row's
repeat values by 1.25 (a real rerun plus an injected 25 % slowdown) and counts how often the gate
catches it. Also times the HTML rendering of each run. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from typing import Any

from _common import save, stats, table
from gilwise._harness import BenchSettings, run_bench
from gilwise._pythons.discovery import current
from gilwise._report.html import render_html
from gilwise._results.compare import compare_documents
from gilwise._workloads import Workload, get_workload

WORKLOADS = ("sqrt_log", "sleep")
MODELS = ["serial", "threads", "processes"]


def _bench(repeats: int) -> dict[str, Any]:
    def workers_for(_: Workload) -> list[int]:
        return [2]

    workloads = [get_workload(n) for n in WORKLOADS]
    settings = BenchSettings(repeats=repeats, target_cell_s=0.25)
    return run_bench(workloads, ["python"], MODELS, workers_for, [current()], settings).to_json()


def _inject(doc: dict[str, Any], index: int, factor: float) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    wall = out["results"][index]["wall_s"]
    wall["values"] = [v * factor for v in wall["values"]]
    wall["median"] = statistics.median(wall["values"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = []
    pairs = []
    render_ms: list[float] = []
    for pair in range(args.pairs):
        a, b = _bench(args.repeats), _bench(args.repeats)
        for doc in (a, b):
            t0 = time.perf_counter()
            page = render_html(doc)
            render_ms.append((time.perf_counter() - t0) * 1e3)
        clean = compare_documents(a, b)
        compared = [r for r in clean.rows if r.change is not None]
        false_alarms = [r.key.label() for r in clean.regressions]
        measured = [i for i, r in enumerate(b["results"]) if r["status"] == "ok" and r["rounds"]]
        caught = []
        for index in measured:
            injected = compare_documents(a, _inject(b, index, 1.25))
            target = b["results"][index]
            caught.append(
                any(
                    (r.key.workload, r.key.model, r.key.workers)
                    == (target["workload"], target["model"], target["workers"])
                    for r in injected.regressions
                )
            )
        changes = [r.change for r in compared if r.change is not None]
        pairs.append(
            {
                "pair": pair,
                "rows": len(compared),
                "false_alarms": false_alarms,
                "changes": changes,
                "caught_25pct": caught,
                "notes": clean.notes,
                "html_bytes": len(page.encode()),
            }
        )
        rows.append(
            [
                pair,
                len(compared),
                len(false_alarms),
                f"{sum(caught)}/{len(caught)}",
                f"{statistics.median(changes):+.1%}",
                f"{min(changes):+.1%} … {max(changes):+.1%}",
            ]
        )
    print(
        table(
            ["pair", "rows", "false alarms", "25 % caught", "median change", "change range"],
            rows,
        )
    )
    print(f"HTML render: {statistics.median(render_ms):.1f} ms median ({len(render_ms)} pages)")
    for p in pairs:
        for alarm in p["false_alarms"]:
            print(f"  pair {p['pair']} false alarm: {alarm}")
        for note in p["notes"]:
            print(f"  pair {p['pair']} note: {note}")
    path = save(
        "compare_gate",
        {
            "pairs": pairs,
            "repeats": args.repeats,
            "workloads": WORKLOADS,
            "models": MODELS,
            "render_ms": stats(render_ms),
        },
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
