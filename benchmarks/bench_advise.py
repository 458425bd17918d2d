"""``gilwise advise`` on functions of known character: the right verdict on each, predicted
speedup within 20 % of measured on each verified row, each verdict within 60 s.

    uv run python benchmarks/bench_advise.py [--only NAME] [--budget S]

Prints a table and writes benchmarks/results/advise.json. Run it on a quiet machine (the
project runs it under the exclusive CPU lock: flock -x /tmp/gilwise-cpu.lock ...).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import advise_targets as targets
import gilwise
from _common import machine_summary

RESULTS = Path(__file__).resolve().parent / "results" / "advise.json"
TOLERANCE = 0.20
VERDICT_LIMIT_S = 60.0


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable[..., Any]
    args: Callable[[], tuple[Any, ...]]
    expected: frozenset[str]


def _numpy_args() -> tuple[Any, ...]:
    import numpy as np

    return (np.random.default_rng(1).random(4_000_000),)


CASES = [
    Case("python-loop", targets.python_loop, lambda: (300_000,), frozenset({"processes"})),
    Case("zlib", targets.compress, lambda: (targets.text_block(4 << 20),), frozenset({"threads"})),
    Case("hashlib", targets.digest, lambda: (targets.text_block(8 << 20),), frozenset({"threads"})),
    Case("blocking-wait", targets.blocking_wait, lambda: (0.02,), frozenset({"threads", "asyncio"})),
    Case("tiny-on-large-arg", targets.peek, lambda: (targets.text_block(32 << 20),), frozenset({"serial"})),
    Case("numpy", targets.numpy_kernel, _numpy_args, frozenset({"threads"})),
]


def run_case(case: Case, budget: float) -> dict[str, Any]:
    t0 = time.monotonic()
    report = gilwise.AdviseSettings(budget_s=budget).advise(case.fn, *case.args())
    elapsed = time.monotonic() - t0
    doc = report.to_json()
    verified = [p for p in doc["predictions"] if p["measured_speedup"] is not None and p["model"] != "serial"]
    errors = [abs(p["predicted_speedup"] - p["measured_speedup"]) / p["measured_speedup"] for p in verified]
    return {
        "case": case.name,
        "target": doc["target"],
        "expected": sorted(case.expected),
        "verdict": doc["recommended"]["model"],
        "workers": doc["recommended"]["workers"],
        "right_verdict": doc["recommended"]["model"] in case.expected,
        "predicted_best": doc["recommended"]["predicted_best"],
        "decision": doc["recommended"]["decision"],
        "verified": [
            {
                k: p[k]
                for k in (
                    "model",
                    "workers",
                    "interpreter",
                    "predicted_speedup",
                    "measured_speedup",
                    "measured_min",
                    "measured_max",
                    "rounds",
                )
            }
            for p in verified
        ],
        "max_error": max(errors, default=0.0),
        "within_tolerance": all(e <= TOLERANCE for e in errors),
        "elapsed_s": elapsed,
        "within_time": elapsed <= VERDICT_LIMIT_S,
        "reason": doc["recommended"]["reason"],
        "gil_held_fraction": doc["gil_held_fraction"],
        "cpu_wall_ratio": doc["cpu_wall_ratio"],
        "notes": doc["notes"],
        "document": doc,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="case name(s)")
    parser.add_argument("--budget", type=float, default=VERDICT_LIMIT_S)
    parser.add_argument("--out", type=Path, default=RESULTS)
    opts = parser.parse_args()
    cases = [c for c in CASES if not opts.only or c.name in opts.only]
    rows = []
    for case in cases:
        row = run_case(case, opts.budget)
        rows.append(row)
        pairs = ", ".join(
            f"{v['model']}×{v['workers']}: {v['predicted_speedup']:.2f}× pred / {v['measured_speedup']:.2f}× "
            f"[{v['measured_min']:.2f}–{v['measured_max']:.2f}]"
            for v in row["verified"]
        )
        print(
            f"{case.name:<18} verdict {row['verdict']}×{row['workers']:<3} "
            f"{'ok ' if row['right_verdict'] else 'WRONG'} err {row['max_error']:>4.0%} "
            f"{'ok ' if row['within_tolerance'] else 'OVER'} {row['elapsed_s']:5.1f} s | {pairs}",
            flush=True,
        )
    summary = {
        "right_verdicts": sum(r["right_verdict"] for r in rows),
        "within_tolerance": sum(r["within_tolerance"] for r in rows),
        "within_time": sum(r["within_time"] for r in rows),
        "cases": len(rows),
    }
    print(
        f"right verdict {summary['right_verdicts']}/{len(rows)}, predicted within {TOLERANCE:.0%} "
        f"{summary['within_tolerance']}/{len(rows)}, "
        f"within {VERDICT_LIMIT_S:g} s {summary['within_time']}/{len(rows)}"
    )
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(
        json.dumps(
            {
                "benchmark": "advise",
                "machine": machine_summary(),
                "tolerance": TOLERANCE,
                "summary": summary,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {opts.out}")
    return (
        0
        if summary["right_verdicts"] == summary["within_tolerance"] == summary["within_time"] == len(rows)
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
