"""Helpers shared by the project's benchmarks: a results folder and table printing."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gilwise._results.stats import summary as stats
from gilwise._system import usable_cores

__all__ = [
    "RESULTS",
    "fmt_range",
    "load_report",
    "machine_summary",
    "paired_by_round",
    "save",
    "stats",
    "table",
]

RESULTS = Path(os.environ.get("GILWISE_BENCH_RESULTS", Path(__file__).parent / "results"))


def save(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def machine_summary() -> dict[str, Any]:
    """What a benchmark's JSON says about where it ran."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "usable_cores": usable_cores(),
        "loadavg": os.getloadavg(),
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def paired_by_round(rec: dict[str, Any], serial: dict[str, Any], field: str) -> list[float]:
    """serial[field] / rec[field], round by round, for the rounds both cells measured."""
    mine = dict(zip(rec["round_ids"], rec[field]["values"], strict=True))
    base = dict(zip(serial["round_ids"], serial[field]["values"], strict=True))
    return [base[i] / mine[i] for i in sorted(set(mine) & set(base)) if mine[i]]


def fmt_range(values: Sequence[float], unit: str = "×") -> str:
    """``1.82× [1.70–1.90]``: median [min–max]."""
    if not values:
        return "—"
    return f"{statistics.median(values):.2f}{unit} [{min(values):.2f}–{max(values):.2f}]"


def load_report(
    document: Any, before: tuple[float, float, float], after: tuple[float, float, float]
) -> tuple[dict[str, Any], str]:
    """How busy the machine was around a gilwise run: for the JSON, and the line to print."""
    other = [
        v for r in document["results"] if r.get("other_cpu_cores") for v in r["other_cpu_cores"]["values"]
    ]
    load = {
        "load_average_before": before,
        "load_average_after": after,
        "other_cpu_cores_median": statistics.median(other) if other else None,
        "other_cpu_cores_max": max(other) if other else None,
    }
    line = (
        f"machine: {document['machine']['usable_cores']} usable cores; load average "
        f"{before[0]:.2f} before, {after[0]:.2f} after; other processes used "
        f"{load['other_cpu_cores_median'] or 0.0:.2f} cores (median over cells), up to "
        f"{load['other_cpu_cores_max'] or 0.0:.2f}"
    )
    return load, line
