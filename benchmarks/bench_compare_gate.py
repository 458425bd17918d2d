"""How trustworthy is `gilwise compare` as a CI gate on this machine? Measured, not assumed.

    uv run python benchmarks/bench_compare_gate.py [--pairs 3] [--repeats 5] [--append]
        [--cell-s 0.4]

Runs the same small bench twice in a row, `--pairs` times, as a CI gate would: task sizes are
calibrated once (serial cells of ``--cell-s``, so that parallel cells on 2 cores still last the
≥ 0.2 s DESIGN.md asks for) and then pinned for every run (`gilwise bench --size`, as the README
says for like-for-like runs: a run that calibrates on its own picks other sizes whenever the
machine's speed phase differs, and fixed start-up costs then weigh differently per unit of work).
Identical code, so every row the gate flags in A-vs-B is a false alarm, and the gate's outcome
(what `gilwise compare` exits with: slower 1, inconclusive 3, clean 0) must never be "slower".
Then, for each measured row of B, it multiplies that row's repeat values by 1.25 (a real rerun
plus an injected 25 % slowdown) and counts how often the gate catches that row (outcome slower,
the row named). Also times the HTML rendering of each run. Prints a table and writes JSON;
`--append` adds the pairs to the JSON of earlier invocations (so ten pairs can run as short
exclusive-lock windows; the pinned sizes are kept with them).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path
from typing import Any

from _common import RESULTS, save, stats, table
from gilwise._harness import BenchSettings, run_bench
from gilwise._pythons.discovery import current
from gilwise._report.html import render_html
from gilwise._results.compare import compare_documents
from gilwise._workloads import Workload, get_workload

WORKLOADS = ("sqrt_log", "sleep")
MODELS = ["serial", "threads", "processes"]


def _workers_for(_: Workload) -> list[int]:
    return [2]


def calibrate_sizes(cell_s: float) -> dict[str, int]:
    """Each workload's task size for serial cells of ``cell_s`` (one calibrating run)."""
    workloads = [get_workload(n) for n in WORKLOADS]
    settings = BenchSettings(repeats=1, target_cell_s=cell_s)
    doc = run_bench(workloads, ["python"], ["serial"], _workers_for, [current()], settings).to_json()
    return {str(r["workload"]): int(r["size"]) for r in doc["results"]}


def _bench(repeats: int, sizes: dict[str, int]) -> dict[str, Any]:
    """One run of every workload at its pinned size: one document, as `gilwise bench` writes."""
    doc: dict[str, Any] | None = None
    for name in WORKLOADS:
        settings = BenchSettings(repeats=repeats, size=sizes[name])
        part = run_bench([get_workload(name)], ["python"], MODELS, _workers_for, [current()], settings)
        data = part.to_json()
        if doc is None:
            doc = data
        else:
            doc["results"] += data["results"]
    assert doc is not None
    return doc


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
    parser.add_argument("--append", action="store_true", help="add to the pairs already in the JSON")
    parser.add_argument("--cell-s", type=float, default=0.4, help="calibrated serial cell seconds")
    parser.add_argument("--keep", type=Path, help="also write each pair's two result documents here")
    parser.add_argument(
        "--recheck",
        type=Path,
        help="measure nothing: apply this compare to the pairs a --keep run left in that folder",
    )
    args = parser.parse_args()
    earlier = RESULTS / "compare_gate.json"
    previous = json.loads(earlier.read_text()) if args.append and earlier.exists() else {}
    pairs: list[dict[str, Any]] = list(previous.get("pairs", []))
    render_ms: list[float] = list(previous.get("render_ms", {}).get("values", []))
    kept = sorted(args.recheck.glob("pair*-a.json"), key=lambda p: int(p.stem[4:-2])) if args.recheck else []
    count = len(kept) if args.recheck else args.pairs
    sizes: dict[str, int] = dict(previous.get("sizes", {}))
    if not args.recheck and not sizes:
        sizes = calibrate_sizes(args.cell_s)
        print(f"task sizes, pinned for every run: {sizes}", flush=True)
    for pair in range(len(pairs), len(pairs) + count):
        if args.recheck:
            a = json.loads(kept[pair].read_text())
            b = json.loads(kept[pair].with_name(f"pair{pair}-b.json").read_text())
        else:
            a, b = _bench(args.repeats, sizes), _bench(args.repeats, sizes)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for side, doc in (("a", a), ("b", b)):
                (args.keep / f"pair{pair}-{side}.json").write_text(json.dumps(doc))
        for doc in (a, b):
            t0 = time.perf_counter()
            page = render_html(doc)
            render_ms.append((time.perf_counter() - t0) * 1e3)
        clean = compare_documents(a, b)
        compared = [r for r in clean.rows if r.change is not None]
        false_alarms = [r.key.label() for r in clean.regressions]
        measured = [i for i, r in enumerate(b["results"]) if r["status"] == "ok" and r["rounds"]]
        caught: dict[str, bool] = {}
        for index in measured:
            injected = compare_documents(a, _inject(b, index, 1.25))
            target = b["results"][index]
            name = f"{target['workload']} {target['model']}×{target['workers']}"
            flagged = {(r.key.workload, r.key.model, r.key.workers) for r in injected.regressions}
            wanted = (target["workload"], target["model"], target["workers"])
            caught[name] = injected.outcome == "slower" and wanted in flagged
        pairs.append(
            {
                "pair": pair,
                "rows": len(compared),
                "outcome": clean.outcome,
                "false_alarms": false_alarms,
                "inconclusive": {r.key.label(): r.detectable for r in clean.inconclusive},
                "detectable": {r.key.label(): r.detectable for r in compared},
                "changes": [r.change for r in compared if r.change is not None],
                "caught_25pct": caught,
                "notes": clean.notes,
                "html_bytes": len(page.encode()),
            }
        )
    rows = []
    for p in pairs:
        changes = p["changes"]
        caught_now = p["caught_25pct"]
        rows.append(
            [
                p["pair"],
                p["rows"],
                p["outcome"],
                len(p["false_alarms"]),
                f"{sum(caught_now.values())}/{len(caught_now)}",
                f"{statistics.median(changes):+.1%}",
                f"{min(changes):+.1%} … {max(changes):+.1%}",
            ]
        )
    print(
        table(
            ["pair", "rows", "self-compare", "false alarms", "25 % caught", "median change", "change range"],
            rows,
        )
    )
    by_row: dict[str, list[bool]] = {}
    for p in pairs:
        for name, hit in p["caught_25pct"].items():
            by_row.setdefault(name, []).append(hit)
    print(table(["row", "25 % slowdown → exit 1"], [[n, f"{sum(h)}/{len(h)}"] for n, h in by_row.items()]))
    exits = [p["outcome"] for p in pairs]
    print(
        f"self-compares: {exits.count('slower')} slower (exit 1), {exits.count('inconclusive')} inconclusive "
        f"(exit 3), {exits.count('clean')} clean (exit 0) of {len(exits)}"
    )
    print(f"HTML render: {statistics.median(render_ms):.1f} ms median ({len(render_ms)} pages)")
    for p in pairs:
        for alarm in p["false_alarms"]:
            print(f"  pair {p['pair']} false alarm: {alarm}")
        for note in p["notes"]:
            print(f"  pair {p['pair']} note: {note}")
    path = save(
        "compare_gate_recheck" if args.recheck else "compare_gate",
        {
            "pairs": pairs,
            "repeats": args.repeats,
            "sizes": sizes,
            "cell_s": args.cell_s,
            "caught_by_row": {n: f"{sum(h)}/{len(h)}" for n, h in by_row.items()},
            "self_compare_outcomes": {o: exits.count(o) for o in ("slower", "inconclusive", "clean")},
            "workloads": WORKLOADS,
            "models": MODELS,
            "render_ms": stats(render_ms),
        },
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
