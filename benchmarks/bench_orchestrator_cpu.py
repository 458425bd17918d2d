"""What gilwise's own orchestrator costs the cells of a default run, from that run's JSON.

    uv run python benchmarks/bench_orchestrator_cpu.py [--runs 1] [--json FILE]...

Runs the default `gilwise bench` (``--runs`` times, each to its own JSON; or reads the ``--json``
files of earlier runs instead) and reports, per row, ``orchestrator_cpu_cores``: the
orchestrator's CPU over each round's window (its sampler, and the memory reads of the
processes a pool cell starts). The target is at most 1 % of a core per cell (the row's
median round, the figure `gilwise bench` warns on) — on 2 cores whatever the orchestrator
spends lands on the parallel cells only. Also counts the rounds above 1 % (the rounds that
read a pool's memory) and their largest figure, and the run's wall time. Prints a table and
writes ``results/orchestrator_cpu.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine_summary, save, stats, table

LIMIT = 0.01


def default_run(out: Path) -> float:
    """One default `gilwise bench` (as the README's first command runs it); its wall seconds."""
    started = time.perf_counter()
    command = [sys.executable, "-c", "import sys; from gilwise.cli import main; sys.exit(main())"]
    command += ["bench", "--json", str(out), "--no-history"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"gilwise bench failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - started


def summarize(document: dict[str, Any]) -> dict[str, Any]:
    rows = [r for r in document["results"] if r["status"] == "ok" and r.get("orchestrator_cpu_cores")]
    per_row = [
        {
            "row": f"{r['workload']}[{r['impl']}] {r['model']}×{r['workers']}",
            "median": r["orchestrator_cpu_cores"]["median"],
            "max": r["orchestrator_cpu_cores"]["max"],
            "rounds": len(r["orchestrator_cpu_cores"]["values"]),
            "memory_reads": r.get("memory_reads"),
        }
        for r in rows
    ]
    rounds = [v for r in rows for v in r["orchestrator_cpu_cores"]["values"]]
    return {
        "rows": len(rows),
        "row_medians": stats([p["median"] for p in per_row]),
        "rows_over_limit": [p["row"] for p in per_row if p["median"] > LIMIT],
        "rounds": len(rounds),
        "rounds_over_limit": sum(1 for v in rounds if v > LIMIT),
        "largest_round": max(rounds, default=None),
        "per_row": per_row,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", type=Path, action="append", help="summarize this run's JSON instead")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    if args.json:
        for path in args.json:
            runs.append({"source": str(path), **summarize(json.loads(path.read_text()))})
    else:
        for index in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="gilwise-orchestrator-") as folder:
                out = Path(folder, "run.json")
                wall = default_run(out)
                runs.append(
                    {
                        "source": f"default run {index + 1}",
                        "wall_s": wall,
                        **summarize(json.loads(out.read_text())),
                    }
                )
    rows = [
        [
            run["source"],
            f"{run['wall_s']:.0f} s" if "wall_s" in run else "—",
            run["rows"],
            f"{statistics.median(p['median'] for p in run['per_row']):.2%}",
            f"{run['row_medians']['max']:.2%}",
            len(run["rows_over_limit"]),
            f"{run['rounds_over_limit']} of {run['rounds']}",
            f"{run['largest_round']:.2%}",
        ]
        for run in runs
    ]
    headers = ["run", "wall", "rows", "median row", "largest row median", "rows > 1 %", "rounds > 1 %"]
    print(table([*headers, "largest round"], rows))
    for run in runs:
        for row in run["rows_over_limit"]:
            print(f"  {run['source']}: {row} above 1 % in its median round")
    print(
        f"written to {save('orchestrator_cpu', {'runs': runs, 'limit': LIMIT, 'machine': machine_summary()})}"
    )


if __name__ == "__main__":
    main()
