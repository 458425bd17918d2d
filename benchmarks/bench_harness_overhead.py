"""Does the harness hide or add cost? Serial sqrt_log ns/iteration: gilwise vs a bare `python -c`.

Round-robin: each round runs the harness worker (serial model, fresh process) and then the same
loop timed bare in `python -c` on the same interpreter; the ratio is paired per round.

    uv run python benchmarks/bench_harness_overhead.py [--rounds 7] [--n 2000000] [--python PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from _common import save, stats, table
from gilwise._harness.launch import run_worker

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=2)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
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
