"""Helpers shared by the project's benchmarks: a results folder and table printing."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gilwise._results.stats import summary as stats

__all__ = ["RESULTS", "machine_summary", "save", "stats", "table"]

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
        "usable_cores": len(os.sched_getaffinity(0)),
        "loadavg": os.getloadavg(),
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
